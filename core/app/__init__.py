"""The application layer: :class:`core.app.engine.Coach`, the one door into the core.

It is the only core package that imports the features; it routes each event to them, gates
private replies and keeps the admin desk replay-safe.
"""
