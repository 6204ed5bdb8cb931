"""Watching a running process: what an event's log lines carry (:mod:`.context`) and the
Prometheus figures the core counts (:mod:`.metrics`). Nothing here imports a feature, so every
layer may use it."""
