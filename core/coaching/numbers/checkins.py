"""Check-ins: when a tracked metric is asked for again, and the card that asks (pure).

A metric the content marks ``track: weekly | monthly | quarterly`` is stale once its last
sample is older than its cadence (7, 30, 91 days). A musician's check-in reminder (one row of
kind ``checkin`` per person, next to their schedule and inactivity rows: the reminder machinery
claims, sends and records it like any nudge) is due at 10:00 in their timezone on the day the
first of their tracked metrics goes stale. Only metrics they have a number for are checked in:
the first number of a metric is the journey's question to ask.

The row's due time is a lower bound, not a promise: the tick plans the row again from the
profile's ``current_stats`` when it comes due, so a number sent in between (an answer,
``/update``) simply moves the check-in on without a message. After a check-in is sent, the same
metric is not asked again for :data:`ASKED_AGAIN` (7 days); another stale metric may come the
next day. Nothing here writes: :mod:`core.reminders.checkin_kind` is the tick's side,
:mod:`core.coaching.numbers.routes` the buttons' side.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from core.coaching.numbers import words
from core.coaching.numbers.buttons import CHECKIN_SNOOZE, UPDATE, metric_arg
from core.kernel.markup import bold, esc
from core.kernel.types import Button, Message, Outbound
from core.roadmaps.catalog import Catalog
from core.roadmaps.schema import Cadence

KIND = "checkin"
CADENCE_DAYS = {Cadence.WEEKLY: 7, Cadence.MONTHLY: 30, Cadence.QUARTERLY: 91}
#: Check-ins come at this local time.
CHECKIN_AT = time(10, 0)
#: A metric just asked for is not asked again sooner than this (snoozing is also a week).
ASKED_AGAIN = timedelta(days=7)
#: With nothing to check in, the row looks again this much later.
RECHECK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Stale:
    """A tracked metric and when its number goes stale."""

    at: datetime
    metric: str
    cadence: Cadence


def last_at(entry: Any) -> datetime | None:
    """When a ``current_stats`` entry was last recorded."""
    if not isinstance(entry, dict) or not isinstance(entry.get("at"), str):
        return None
    try:
        at = datetime.fromisoformat(entry["at"])
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


def stale_list(stats: Mapping[str, Any], catalog: Catalog) -> list[Stale]:
    """The tracked metrics the profile has a number for, soonest stale first."""
    out: list[Stale] = []
    for metric, entry in stats.items():
        info = catalog.metrics.get(metric)
        at = last_at(entry)
        if info is None or info.spec.track is None or at is None:
            continue
        cadence = info.spec.track
        out.append(Stale(at + timedelta(days=CADENCE_DAYS[cadence]), metric, cadence))
    out.sort(key=lambda s: (s.at, s.metric))
    return out


def at_ten(moment: datetime, tz: tzinfo) -> datetime:
    """10:00 local time on ``moment``'s local day (earlier or later than ``moment``): a number
    goes stale on a day, and the check-in is that day's 10:00."""
    local = moment.astimezone(tz)
    return datetime.combine(local.date(), CHECKIN_AT, tzinfo=tz).astimezone(moment.tzinfo)


def week_on(now: datetime) -> datetime:
    """A week from ``now`` (a check-in sent or snoozed comes back that day at 10:00)."""
    return now + ASKED_AGAIN


@dataclass(frozen=True, slots=True)
class Decision:
    """What the check-in row does now: ask about ``ask`` (or nothing), then look again at
    ``next_at``."""

    ask: Stale | None
    next_at: datetime


def decide(stats: Mapping[str, Any], catalog: Catalog, tz: tzinfo, now: datetime) -> Decision:
    """Ask about the first stale metric if its 10:00 has come; when to look again."""
    stale = stale_list(stats, catalog)
    if not stale:
        return Decision(None, now + RECHECK)
    first = at_ten(stale[0].at, tz)
    if first > now:
        return Decision(None, first)
    rest = [s.at for s in stale[1:]] + [week_on(now)]
    following = at_ten(max(min(rest), now + timedelta(days=1)), tz)
    return Decision(stale[0], following)


def card(
    stale: Stale, entry: Mapping[str, Any], reminder_id: uuid.UUID, today: datetime
) -> Outbound:
    """ "Time for your monthly check-in: Spotify monthly listeners — last 1 200 on 3 Nov"."""
    last = last_at(entry)
    shown = esc(str(entry.get("display", entry.get("value", "?"))))
    when = f" on {words.day(last, today.date())}" if last is not None else ""
    text = (
        f"📊 {bold(f'Time for your {stale.cadence.value} check-in')}: "
        f"{words.name(stale.metric)} — last {bold(shown)}{when}.\n"
        "Tap Answer and type today's number."
    )
    return Message(
        text=text,
        buttons=(
            (
                Button(label="✍️ Answer", payload=UPDATE.encode(metric_arg(stale.metric))),
                Button(label="⏰ Snooze a week", payload=CHECKIN_SNOOZE.encode(reminder_id.hex)),
            ),
        ),
    )
