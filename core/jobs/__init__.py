"""Background work's machinery, shared by every feature that has some.

* :mod:`core.jobs.claim` — one way to take due rows for one worker: ``FOR UPDATE SKIP LOCKED``
  on PostgreSQL, a plain claim on SQLite, a lease that another worker takes over once it runs
  out (the reminder tick and the broadcast sender both claim through it);
* :mod:`core.jobs.runner` — periodic jobs with intervals, started and stopped in one place,
  time and sleep injected (which jobs a process runs is decided in :mod:`core.app.jobs`).

It imports no feature: it sits just above :mod:`core.db` in the house plan.
"""
