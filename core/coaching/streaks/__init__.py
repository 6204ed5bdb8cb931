"""``/streak``: weeks in a row with a step done, and the freezes that keep a streak through a
tour or a holiday (issue #14 §3a; the rules are :mod:`core.progress.streaks`)."""
