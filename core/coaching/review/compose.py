"""The weekly review, composed (pure): from the rows already read to one short message.

No I/O and no clock: :mod:`core.coaching.review.read` reads the rows (``/review`` and the tick
alike), this module decides what they say, so the two agree and every branch is a unit test.

What a review holds, for the musician's local week (:func:`reviewed_week`):

* the tasks **done** (``completed_at`` in the week) and **skipped** (``task_data.skipped_on``);
* the numbers that **moved**: each metric with a sample in the week, from the last value
  before the week (else the week's first) to the week's last, with the change;
* each **goal's pace** (:func:`core.progress.projection.project`, the words of ``/stats``);
* the **streak**, in the words of ``/progress`` (:func:`core.journey.streak.streak_line`; the
  quiet version keeps it when there is one to keep alive);
* the **dated tasks coming up** in the next :data:`UPCOMING_DAYS` days;
* **next week's focus**: the top three of the next-step chooser (:func:`focus`), each with a
  button that acts on it through the existing actions (open the task, type a number).

A week with nothing done, nothing moved, no goal and nothing dated ahead gets the gentle,
short version (:attr:`Review.quiet`): one line and one small step.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Final

from core.coaching.numbers import words
from core.coaching.numbers.buttons import UPDATE, metric_arg
from core.coaching.review.week import Week, week_of
from core.journey.cards import open_button
from core.journey.samples import goal_summary
from core.journey.streak import streak_line
from core.kernel.markup import bold, esc, italic
from core.kernel.payloads import RUN_COMMAND
from core.kernel.types import Button, Message, Outbound
from core.progress.metrics import metric_label
from core.progress.next_step import NextStep, Why, choose, last_sample_days
from core.progress.projection import Projection, project
from core.progress.service import (
    ProgressRecord,
    Rows,
    first_open_stage,
    live_tasks,
    stage_done,
)
from core.progress.streaks import Streak
from core.progress.timeline import due_on, iso_date, waiting
from core.roadmaps.catalog import MetricInfo, RoadmapInfo, StageInfo, TaskInfo

#: How many next steps the focus names.
FOCUS: Final = 3
#: Dated tasks due within this many days from today are "coming up".
UPCOMING_DAYS: Final = 14
#: At most this many titles per list (then "and 3 more").
LISTED: Final = 4
#: A button label's longest title.
LABEL: Final = 28

Sample = tuple[str, Decimal, datetime]


@dataclass(frozen=True, slots=True)
class Moved:
    """A number that moved in the week: from ``before`` (``None``: its first number) to
    ``after``."""

    metric: str
    before: Decimal | None
    after: Decimal

    @property
    def change(self) -> Decimal | None:
        """``after − before`` (``None`` for a first number)."""
        return None if self.before is None else self.after - self.before


@dataclass(frozen=True, slots=True)
class GoalPace:
    """A goal and where its pace leads."""

    metric: str
    target: Decimal
    due: date
    projection: Projection | None


@dataclass(frozen=True, slots=True)
class Focus:
    """One of next week's steps: a task to open, or a number to update."""

    reason: str | None
    task: TaskInfo | None = None
    metric: MetricInfo | None = None

    @property
    def title(self) -> str:
        """What the step is called."""
        if self.metric is not None:
            return f"Update {metric_label(self.metric.name).casefold()}"
        return self.task.title if self.task is not None else ""

    def button(self, n: int) -> Button:
        """The existing action this step is: the journey's Open, or the numbers' Update."""
        label = _short(self.title)
        if self.metric is not None:
            payload = UPDATE.encode(metric_arg(self.metric.name))
            return Button(label=f"{n}. {label}", payload=payload)
        assert self.task is not None  # noqa: S101 - a focus is a task or a metric
        return open_button(self.task, f"{n}. {label}")


@dataclass(frozen=True, slots=True)
class Review:
    """What the week's review says (rendered by :func:`render`)."""

    week: Week
    today: date
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)
    goals: list[GoalPace] = field(default_factory=list)
    upcoming: list[tuple[date, str]] = field(default_factory=list)
    focus: list[Focus] = field(default_factory=list)
    #: The streak as ``/progress`` says it (core/journey/streak.py); ``None``: not shown.
    streak: Streak | None = None
    #: Whose way figures are written in (the musician's locale; ``None``: the default).
    locale: str | None = None

    @property
    def quiet(self) -> bool:
        """Nothing done, nothing moved, and nothing planned: the gentle version."""
        return not (self.done or self.skipped or self.moved or self.goals or self.upcoming)


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything a review is made from (read by :mod:`core.coaching.review.read`)."""

    roadmap: RoadmapInfo | None
    rows: Rows
    anchors: Mapping[str, Any]
    current_stats: Mapping[str, Any]
    current_stage_id: uuid.UUID | None
    metrics: Mapping[str, MetricInfo]
    samples: Sequence[Sample]
    now: datetime
    tz: tzinfo
    streak: Streak | None = None
    #: (task id, completed_at) of tasks completed in a release cycle closed lately (their live
    #: rows started fresh with the next cycle: without these, a week that finished release 1
    #: and started release 2 would lose its steps; issue #15 §2).
    closed_cycle_done: Sequence[tuple[uuid.UUID, datetime]] = ()
    #: The locale the review's figures are written for (the musician's; a band's is ``None``).
    locale: str | None = None


def reviewed_week(now: datetime, tz: tzinfo) -> Week:
    """The week a review looks back on: the local week that holds *yesterday*. On a Monday
    (the default review day) that is the week just finished; on other days the week so far."""
    return week_of(now.astimezone(tz).date() - timedelta(days=1), tz)


def compose(given: Inputs) -> Review:
    """The review of the week before ``given.now`` (see :func:`reviewed_week`)."""
    today = given.now.astimezone(given.tz).date()
    week = reviewed_week(given.now, given.tz)
    done: list[str] = []
    skipped: list[str] = []
    upcoming: list[tuple[date, str]] = []
    if given.roadmap is not None:
        for stage in given.roadmap.stages:
            for task in live_tasks(stage, given.rows):
                row = given.rows.get(task.id)
                if row is not None and row.status == "completed" and row.completed_at:
                    if week.start <= row.completed_at < week.end:
                        done.append(task.title)
                elif row is not None and row.status == "skipped":
                    day = iso_date(row.task_data.get("skipped_on"))
                    if day is not None and week.monday <= day <= week.sunday:
                        skipped.append(task.title)
                due = due_on(task.when, given.anchors)
                closed = row is not None and row.status in {"completed", "skipped"}
                if due is not None and not closed and 0 <= (due - today).days < UPCOMING_DAYS:
                    upcoming.append((due, task.title))
    if given.roadmap is not None and given.closed_cycle_done:
        titles = {t.id: t.title for s in given.roadmap.stages for t in s.tasks}
        for task_id, completed_at in given.closed_cycle_done:
            title = titles.get(task_id)
            if title is not None and week.start <= completed_at < week.end:
                done.append(title)
    upcoming.sort(key=lambda item: item[0])
    return Review(
        week=week,
        today=today,
        done=done,
        skipped=skipped,
        moved=moved([s for s in given.samples if s[2] <= given.now], week.start, week.end),
        goals=paces(given),
        upcoming=upcoming[:3],
        focus=focus(given, today),
        streak=given.streak,
        locale=given.locale,
    )


def moved(samples: Sequence[Sample], start: datetime, end: datetime) -> list[Moved]:
    """Each metric with a sample in ``[start, end)``: from before the week to its last value."""
    by_metric: dict[str, list[tuple[datetime, Decimal]]] = {}
    for metric, value, at in samples:
        by_metric.setdefault(metric, []).append((at, value))
    out: list[Moved] = []
    for metric in sorted(by_metric):
        series = sorted(by_metric[metric], key=lambda s: s[0])
        inside = [s for s in series if start <= s[0] < end]
        if not inside:
            continue
        earlier = [s for s in series if s[0] < start]
        if earlier:
            before: Decimal | None = earlier[-1][1]
        elif len(inside) > 1:
            before = inside[0][1]
        else:
            before = None
        out.append(Moved(metric, before, inside[-1][1]))
    return out


def paces(given: Inputs) -> list[GoalPace]:
    """Every goal on the profile (its summary in ``current_stats``) with its projection."""
    out: list[GoalPace] = []
    for metric in sorted(given.current_stats):
        summary = goal_summary(given.current_stats[metric])
        if summary is None:
            continue
        try:
            target, due = Decimal(summary["target"]), date.fromisoformat(summary["by"])
        except (KeyError, ValueError, ArithmeticError):
            continue
        series = [(at, v) for m, v, at in given.samples if m == metric and at <= given.now]
        info = given.metrics.get(metric)
        projection = project(
            series,
            target=target,
            due_on=due,
            now=given.now,
            better=info.spec.better if info else None,
        )
        out.append(GoalPace(metric, target, due, projection))
    return out


def _current(given: Inputs, rows: Rows, later: frozenset[uuid.UUID]) -> StageInfo | None:
    """The musician's stage, as ``/today`` finds it (the pointer, unless that stage is done)."""
    roadmap = given.roadmap
    assert roadmap is not None  # noqa: S101 - callers check
    index = roadmap.stage_index(given.current_stage_id)
    if index is not None and not stage_done(roadmap.stages[index], rows, later):
        return roadmap.stages[index]
    passed = frozenset(
        task.id
        for stage in roadmap.stages[: len(roadmap.stages) if index is None else index]
        for task in stage.tasks
        if task.when is not None and task.when.opens is not None
    )
    return first_open_stage(roadmap, rows, later | passed)


def focus(given: Inputs, today: date) -> list[Focus]:
    """The top :data:`FOCUS` next steps: ``/today``'s chooser asked again as if each step
    before were done (a stale number as if updated), so the list is the chooser's order."""
    roadmap = given.roadmap
    if roadmap is None:
        return []
    rows: dict[uuid.UUID, ProgressRecord] = dict(given.rows)
    last = last_sample_days(given.current_stats)
    later = waiting(roadmap, given.anchors, today)
    out: list[Focus] = []
    current = _current(given, rows, later)
    while len(out) < FOCUS:
        step: NextStep | None = choose(
            roadmap,
            rows,
            current=current,
            anchors=given.anchors,
            today=today,
            metrics=given.metrics,
            last_samples=last,
            waiting=later,
        )
        if step is None:
            break
        if step.why is Why.STALE_METRIC and step.metric is not None:
            out.append(Focus(step.reason, metric=step.metric))
            last = {m: d for m, d in last.items() if m != step.metric.name}
            continue
        if step.task is None:
            break
        out.append(Focus(step.reason, task=step.task))
        task_id = step.task.id
        base = rows.get(task_id)
        # A pretend row, never stored: the base's fields with the status done (no fresh
        # uuid4 for a row that never was: its own id stands in).
        rows[task_id] = (
            ProgressRecord(task_id, "completed", id=task_id)
            if base is None
            else ProgressRecord(
                task_id,
                "completed",
                base.task_data,
                base.completed_by,
                base.completed_at,
                base.id,
                base.stored,
            )
        )
        # Only the done-ness of the task's own stage changed: the stage /today would find
        # (the pointer unless done, else the first stage not done) moves only when that is
        # the current stage — every other stage is as done as it was. (Not after the last.)
        in_current = current is not None and any(t.id == task_id for t in current.tasks)
        if in_current and len(out) < FOCUS:
            current = _current(given, rows, later)
    return out


# ------------------------------------------------------------------------------ the words


def _short(title: str) -> str:
    return title if len(title) <= LABEL else title[: LABEL - 1].rstrip() + "…"


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def listed(titles: list[str]) -> str:
    shown = ", ".join(esc(t) for t in titles[:LISTED])
    more = len(titles) - LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _moved_line(item: Moved, locale: str | None) -> str:
    after = bold(words.number(item.after, locale))
    change = item.change
    if change is None:
        return f"📈 {words.name(item.metric)}: {after} (your first number)"
    before = words.number(item.before, locale) if item.before is not None else "?"
    if change == 0:
        return f"📈 {words.name(item.metric)}: {after} (unchanged)"
    delta = f"{words.arrow(change)}{words.signed(change, locale)}"
    return f"📈 {words.name(item.metric)}: {before} → {after} ({delta})"


def focus_buttons(review: Review) -> tuple[tuple[Button, ...], ...]:
    """A button per focus step, one a row (the review's and a band digest's)."""
    return tuple((step.button(n),) for n, step in enumerate(review.focus, start=1))


def done_lines(review: Review) -> list[str]:
    """Tasks done and skipped in the week (or that none were)."""
    lines = []
    if review.done:
        lines.append(f"✅ Done ({len(review.done)}): {listed(review.done)}")
    if review.skipped:
        lines.append(f"⏭️ Skipped ({len(review.skipped)}): {listed(review.skipped)}")
    if not review.done and not review.skipped:
        lines.append("✅ No tasks ticked off this week.")
    return lines


def numbers_lines(review: Review) -> list[str]:
    """The numbers that moved, each goal's pace and the streak (shared with a band digest)."""
    lines = [_moved_line(item, review.locale) for item in review.moved[:LISTED]]
    for goal in review.goals[:LISTED]:
        verdict = words.goal_verdict(
            goal.target, goal.due, goal.projection, review.today, review.locale
        )
        lines.append(f"{words.name(goal.metric)} {verdict}")
    if review.streak is not None:
        lines.append(streak_line(review.streak))
    return lines


def focus_lines(review: Review, *, empty: str) -> list[str]:
    """Next week's focus, numbered like its buttons; ``empty`` when the chooser has nothing."""
    if not review.focus:
        return ["", empty]
    lines = ["", bold("👉 Next week's focus")]
    for n, step in enumerate(review.focus, start=1):
        why = f" — {italic(esc(step.reason))}" if step.reason else ""
        lines.append(f"{n}. {esc(step.title)}{why}")
    return lines


def week_span(week: Week) -> str:
    """``Mon 7 Dec – Sun 13 Dec``."""
    return f"{day_label(week.monday)} – {day_label(week.sunday)}"


def render(review: Review) -> Outbound:
    """The review as one short message, with a button per focus step."""
    buttons = focus_buttons(review)
    if review.quiet:
        return _gentle(review, buttons)
    week = review.week
    so_far = " (so far)" if review.today <= week.sunday else ""
    lines = [f"🗓️ {bold('Your week')}{so_far} · {week_span(week)}"]
    lines += done_lines(review)
    lines += numbers_lines(review)
    if review.upcoming:
        coming = "; ".join(f"{day_label(day)} — {esc(title)}" for day, title in review.upcoming)
        lines.append(f"📅 Coming up: {coming}")
    lines += focus_lines(
        review, empty="🏁 Nothing left to suggest on your roadmap — /plan shows what's dated."
    )
    return Message(text="\n".join(lines), buttons=buttons)


def _gentle(review: Review, buttons: tuple[tuple[Button, ...], ...]) -> Outbound:
    """A quiet week: no list of zeros, one small step."""
    if not review.focus:
        return Message(
            text="🌱 A quiet week — that's fine. Whenever you're ready, /today shows what's next.",
            buttons=((Button(label="▶ Today", payload=RUN_COMMAND.encode("today")),),),
        )
    first = review.focus[0]
    alive = review.streak is not None and review.streak.weeks > 0
    kept = f"\n{streak_line(review.streak)}" if alive and review.streak is not None else ""
    return Message(
        text=(
            "🌱 A quiet week — that's fine, they happen.\n"
            f"One small step is enough to get going again: {bold(esc(first.title))}.{kept}"
        ),
        buttons=buttons[:1],
    )
