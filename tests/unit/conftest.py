"""The unit layer does no I/O: no database, no network, no subprocess — enforced here, not
just promised. Every test in ``tests/unit`` runs with socket connections, SQLite files and
child processes refused (:func:`support.no_io.refuse_io`; ``test_no_io.py`` shows each
refusal), so a test that would need a database fails at once, saying so.

The kits in ``tests/`` (``coachkit``, ``support``) import here as in the rest of the suite:
``tests/conftest.py`` is loaded first and pytest puts its folder, ``tests/``, on ``sys.path``.
"""

from __future__ import annotations

# matplotlib builds its font cache on first import by running ``fc-list``, a child process the
# guard below refuses. On a fresh machine that made the chart tests depend on whether another
# worker had built the cache first; importing it here, before any guard, removes the race.
import matplotlib.font_manager  # noqa: F401
import pytest
from support.no_io import refuse_io


@pytest.fixture(autouse=True)
def _no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_io(monkeypatch)
