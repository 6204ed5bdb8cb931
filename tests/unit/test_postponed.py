"""``core.progress.service``: postponed questions count as dealt with and come back by date."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from core.progress.service import (
    POSTPONE_DAYS,
    ProgressRecord,
    postponed_due,
    postponement,
)

TODAY = datetime.now(UTC).date()


def _row(status: str, until: object = None) -> ProgressRecord:
    data = {} if until is None else {"postponed_until": str(until)}
    return ProgressRecord(task_id=uuid.uuid4(), status=status, task_data=data)


def test_postponement_is_three_days_ahead() -> None:
    assert POSTPONE_DAYS == 3
    assert postponement(TODAY) == {"postponed_until": (TODAY + timedelta(days=3)).isoformat()}


def test_postponed_due_picks_the_ones_whose_day_has_come_longest_waiting_first() -> None:
    later = _row("postponed", TODAY + timedelta(days=1))
    today = _row("postponed", TODAY)
    older = _row("postponed", TODAY - timedelta(days=5))
    damaged = _row("postponed", "someday")  # due at once: never lost
    unmarked = _row("postponed")
    others = [_row("completed"), _row("skipped"), _row("not_started"), _row("in_progress")]
    rows = [later, today, older, damaged, unmarked, *others]
    due = postponed_due({r.task_id: r for r in rows}, TODAY)
    assert due[2:] == [older, today]
    assert {r.task_id for r in due[:2]} == {damaged.task_id, unmarked.task_id}
    assert postponed_due(rows, TODAY) == due, "any iterable of rows will do"
    assert postponed_due(rows, TODAY + timedelta(days=1))[-1] is later
    assert postponed_due([], TODAY) == []
