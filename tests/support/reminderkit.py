"""Test helpers for reminders: a fake clock, a recording notifier, and row readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.db.engine import Database
from core.db.models import Delivery, Reminder
from core.kernel.markup import to_plain
from core.kernel.notify import SENT, DeliveryResult
from core.kernel.types import Outbound


class FakeClock:
    """``clock()`` returns a time the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> None:
        """Jump to ``when``."""
        self.now = when


@dataclass
class RecordingNotifier:
    """A Notifier that keeps what it was asked to send; answers per chat are configurable."""

    platform: str = "console"
    sent: list[tuple[str, list[Outbound]]] = field(default_factory=list)
    answers: dict[str, DeliveryResult] = field(default_factory=dict)

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        result = self.answers.get(chat_id, SENT)
        if result.sent:
            self.sent.append((chat_id, list(replies)))
        return result

    def scheduled(self) -> list[tuple[str, list[Outbound]]]:
        """The sends that were schedule nudges (not inactivity check-ins)."""
        return [s for s in self.sent if "Time for your music" in s[1][0].text]

    def texts(self) -> list[str]:
        """Every sent nudge as plain text."""
        return ["\n".join(to_plain(r.text) for r in replies) for _chat, replies in self.sent]


async def reminder_rows(db: Database) -> list[Any]:
    """Every reminder row."""
    async with db.transaction() as session:
        return list((await session.execute(select(Reminder))).scalars())


async def delivery_rows(db: Database, kind: str | None = "schedule") -> list[Any]:
    """Delivery rows of one kind of nudge (all when ``kind`` is None), oldest due first."""
    async with db.transaction() as session:
        rows = (await session.execute(select(Delivery).order_by(Delivery.due_at))).scalars()
        return [r for r in rows if kind is None or r.kind == kind]


async def schedule_row(db: Database) -> Any:
    """The single ``schedule`` reminder in the database."""
    rows = [r for r in await reminder_rows(db) if r.kind == "schedule"]
    assert len(rows) == 1, rows
    return rows[0]
