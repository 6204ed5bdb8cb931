"""Moves the wall clock of a Python process the test suite starts, like the suite's own.

``tests/conftest.py`` puts this folder first on ``PYTHONPATH`` when ``COACH_TEST_TIME_SHIFT``
is set (a run with the wall clock moved, e.g. a year ahead), so every child process the tests
start (``coach run``, reminder workers) lives on the same shifted clock as the test process:
a shift that only the parent saw would itself make parent and child disagree about "now".
Only ever on ``PYTHONPATH`` during such a run; never installed.
"""

from __future__ import annotations

import os

_shift = os.environ.get("COACH_TEST_TIME_SHIFT", "").strip()
if _shift:
    from timeshift_spec import start_shifted_clock

    start_shifted_clock(_shift)
