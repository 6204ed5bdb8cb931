"""The application layer: :class:`core.app.engine.Coach`, the one door into the core.

It is the only core package that imports the features; it routes each event to them, gates
private replies, keeps the admin desk replay-safe and registers the features' periodic jobs
(:mod:`core.app.jobs`).
"""
