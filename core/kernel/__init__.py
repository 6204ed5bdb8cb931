"""The shared kernel every feature imports and that imports no feature.

The border types (``Inbound``, ``Outbound``), the small markup, the button payload codec, the
command parser, the turn (one event's unit of work on the musician's locked rows) and its SQL,
the audit log and the ``Notifier`` port. The direction is checked by ``lint-imports``
(``[tool.importlinter]`` in pyproject.toml).
"""
