"""A band's weekly digest, composed (pure): from the rows already read to one card.

No I/O and no clock, like the personal review it is built from
(:mod:`core.coaching.review.compose`): the same week (its ``reviewed_week``: on the default
Monday the week just finished), the same numbers moved, goals' pace, streak
line and next week's focus (the chooser's top three, each with its button) — computed by the
review's own functions on the band's profile, never copied. What a band adds:

* **who did what** (:func:`credits`): each member's tasks finished in the week
  (``completed_by``) and numbers recorded (``recorded_by``); someone no longer in the band is
  "a former member";
* **due and overdue** (:func:`due`): the band's open tasks that are overdue, due within
  :data:`AHEAD_DAYS`, or assigned (``/assign``) without a date — each with its assignee;
* **mentions**: the assignees of the listed tasks, as platform ids on the card
  (``Reply.mentions``); the text names them in words on every platform, and a front end that
  can ping (Discord) pings exactly those people — never everyone, never a role.

A week with nothing done, nothing moved, no goal and nothing due gets the short version
(:attr:`Digest.quiet`): one line, the streak if there is one to keep alive, one small step.

Platform-agnostic on purpose: Discord bands use it today; a Telegram group that becomes a band
(issue #17) only has to route its rows here.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Final

from core.coaching.review.compose import (
    Inputs,
    Review,
    day_label,
    focus_buttons,
    focus_lines,
    listed,
    numbers_lines,
    week_span,
)
from core.coaching.review.compose import compose as compose_review
from core.journey.streak import streak_line
from core.kernel.markup import bold, esc, italic
from core.kernel.payloads import RUN_COMMAND
from core.kernel.types import Button, Card
from core.progress.timeline import due_on

#: Dated tasks due within this many days from today are "due".
AHEAD_DAYS: Final = 7
#: At most this many due lines (then "and 3 more").
DUE_LISTED: Final = 6
#: At most this many members in "who did what" (then "and 2 more").
CREDITS_LISTED: Final = 10
FORMER: Final = "a former member"


@dataclass(frozen=True, slots=True)
class Person:
    """A band member as the digest names them: their name, and their id on the platform the
    digest goes to (``None``: no identity there, so named but never pinged)."""

    user_id: uuid.UUID
    name: str
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class BandInputs:
    """Everything a digest is made from (read by :mod:`core.coaching.digest.read`)."""

    name: str
    review: Inputs
    members: Sequence[Person] = ()
    #: task id → the member whose job it is (``band_assignments``).
    assigned: Mapping[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    #: Who recorded each of the band's numbers, and when (``stat_samples.recorded_by``).
    recorded: Sequence[tuple[uuid.UUID | None, datetime]] = ()


@dataclass(frozen=True, slots=True)
class Credit:
    """One member's week: the tasks they finished and how many numbers they recorded."""

    name: str
    done: tuple[str, ...] = ()
    numbers: int = 0


@dataclass(frozen=True, slots=True)
class Due:
    """An open task that is due, overdue, or someone's job; ``day`` is ``None`` when undated."""

    title: str
    day: date | None
    who: Person | None
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class Digest:
    """What the week's digest says (rendered by :func:`render`)."""

    name: str
    review: Review
    credits: list[Credit] = field(default_factory=list)
    due: list[Due] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        """Nothing done, nothing moved, no goal and nothing due: the short version."""
        r = self.review
        return not (r.done or r.skipped or r.moved or r.goals or self.due or self.credits)

    @property
    def mentions(self) -> tuple[str, ...]:
        """The platform ids of the listed tasks' assignees, each once, in listing order."""
        out: list[str] = []
        for item in self.due[:DUE_LISTED]:
            who = item.who
            if who is not None and who.external_id and who.external_id not in out:
                out.append(who.external_id)
        return tuple(out)


def compose(given: BandInputs) -> Digest:
    """The band's digest of the week before ``given.review.now``."""
    review = compose_review(given.review)
    return Digest(
        name=given.name,
        review=review,
        credits=credits(given, review),
        due=due(given, review.today),
    )


def credits(given: BandInputs, review: Review) -> list[Credit]:
    """Who did what in the reviewed week, members in joining order, then former members."""
    week, inputs = review.week, given.review
    done: dict[uuid.UUID | None, list[str]] = {}
    if inputs.roadmap is not None:
        for stage in inputs.roadmap.stages:
            for task in stage.tasks:
                row = inputs.rows.get(task.id)
                if row is None or row.status != "completed" or row.completed_at is None:
                    continue
                if week.start <= row.completed_at < week.end:
                    done.setdefault(row.completed_by, []).append(task.title)
    numbers: Counter[uuid.UUID | None] = Counter(
        who for who, at in given.recorded if week.start <= at < week.end and at <= inputs.now
    )
    known = {m.user_id for m in given.members}
    out = [
        Credit(m.name, tuple(done.get(m.user_id, ())), numbers[m.user_id])
        for m in given.members
        if done.get(m.user_id) or numbers[m.user_id]
    ]
    former_done = [t for who, titles in done.items() if who not in known for t in titles]
    former_numbers = sum(n for who, n in numbers.items() if who not in known)
    if former_done or former_numbers:
        out.append(Credit(FORMER, tuple(former_done), former_numbers))
    return out


def due(given: BandInputs, today: date) -> list[Due]:
    """Open tasks overdue, due within :data:`AHEAD_DAYS`, or assigned without a date: overdue
    first, then by day, then the undated ones in roadmap order."""
    inputs = given.review
    if inputs.roadmap is None:
        return []
    people = {m.user_id: m for m in given.members}
    dated: list[Due] = []
    undated: list[Due] = []
    for stage in inputs.roadmap.stages:
        for task in stage.tasks:
            row = inputs.rows.get(task.id)
            if task.archived or (row is not None and row.status in {"completed", "skipped"}):
                continue
            user = given.assigned.get(task.id)
            who = None
            if user is not None:
                who = people.get(user) or Person(user, FORMER)
            day = due_on(task.when, inputs.anchors)
            if day is not None and day < today + timedelta(days=AHEAD_DAYS):
                dated.append(Due(task.title, day, who, overdue=day < today))
            elif day is None and who is not None:
                undated.append(Due(task.title, None, who))
    dated.sort(key=lambda d: d.day or today)
    return dated + undated


# ------------------------------------------------------------------------------ the words


def _credit_line(credit: Credit) -> str:
    parts = []
    if credit.done:
        parts.append(f"✅ {listed(list(credit.done))}")
    if credit.numbers:
        parts.append(f"📈 {credit.numbers} number{'s' if credit.numbers != 1 else ''}")
    return f"• {bold(esc(credit.name))}: {' · '.join(parts)}"


def _due_line(item: Due) -> str:
    who = esc(item.who.name) if item.who is not None else italic("nobody yet")
    if item.day is None:
        when = "assigned"
    elif item.overdue:
        when = f"⚠️ overdue since {day_label(item.day)}"
    else:
        when = f"due {day_label(item.day)}"
    return f"• {esc(item.title)} — {when} → {who}"


def render(digest: Digest) -> Card:
    """The digest as one card (a Discord embed), a button per focus step; ``mentions`` holds
    the assignees to ping where the platform can (the caller may clear it)."""
    review = digest.review
    buttons = focus_buttons(review)
    if digest.quiet:
        return _short(digest, buttons)
    week = review.week
    so_far = " (so far)" if review.today <= week.sunday else ""
    lines = [f"📣 {bold(esc(digest.name))} — the week{so_far} · {week_span(week)}", ""]
    lines.append(bold("🎸 Who did what"))
    if digest.credits:
        lines += [_credit_line(c) for c in digest.credits[:CREDITS_LISTED]]
        more = len(digest.credits) - CREDITS_LISTED
        if more > 0:
            lines.append(f"… and {more} more")
    else:
        lines.append("Nobody ticked off a task or added a number this week.")
    if review.skipped:
        lines.append(f"⏭️ Skipped ({len(review.skipped)}): {listed(review.skipped)}")
    if digest.due:
        lines += ["", bold("📌 Due and overdue")]
        lines += [_due_line(item) for item in digest.due[:DUE_LISTED]]
        more = len(digest.due) - DUE_LISTED
        if more > 0:
            lines.append(f"… and {more} more (/plan shows every date)")
    numbers = numbers_lines(review)
    if numbers:
        lines += ["", bold("📊 The band's numbers"), *numbers]
    lines += focus_lines(
        review, empty="🏁 Nothing left to suggest on the band's roadmap — /plan shows what's dated."
    )
    return Card(text="\n".join(lines), buttons=buttons, form="digest", mentions=digest.mentions)


def _short(digest: Digest, buttons: tuple[tuple[Button, ...], ...]) -> Card:
    """A quiet week: one line, the streak if it is alive, one small step."""
    review = digest.review
    name = bold(esc(digest.name))
    streak = review.streak
    kept = f"\n{streak_line(streak)}" if streak is not None and streak.weeks > 0 else ""
    if not review.focus:
        return Card(
            text=f"🌱 A quiet week for {name}. Whenever you're ready, /today shows what's "
            f"next.{kept}",
            buttons=((Button(label="▶ Today", payload=RUN_COMMAND.encode("today")),),),
            form="digest",
        )
    first = review.focus[0]
    return Card(
        text=f"🌱 A quiet week for {name} — they happen. One small step gets the band going "
        f"again: {bold(esc(first.title))}.{kept}",
        buttons=buttons[:1],
        form="digest",
    )
