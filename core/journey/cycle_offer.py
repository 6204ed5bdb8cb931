"""When a release cycle is done, and the words that offer the next one (issue #15 §2).

A roadmap may mark stages ``repeats: release``: the release does not end the journey, the next
single (then the EP) runs through the same stages again with fresh tasks. The cycle is done when
every required task of its stages that applies is dealt with — tasks still waiting for their
day count as *not* done here (unlike for the stage gate): the 28-day numbers are what the next
cycle's baselines are made of, so the offer waits for them.

Pure, and free of the navigation flows, so :mod:`core.journey.navigation` can ask it after
every step; starting the cycle is :mod:`core.journey.cycles`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.journey.buttons import NEXT_CYCLE
from core.kernel.markup import bold, esc
from core.kernel.store import CycleRecord
from core.kernel.types import Button, Message
from core.progress.parsing.display import format_value
from core.progress.service import ProgressRecord, Rows, stage_done
from core.roadmaps.catalog import RoadmapInfo
from core.roadmaps.schema import InputSpec, InputType

#: How far beyond last cycle's figure the suggested target lies (8 % -> 10 %).
STRETCH = Decimal("1.25")


def cycle_done(roadmap: RoadmapInfo, rows: Rows) -> bool:
    """Every stage of the roadmap's repeating cycle is done, waiting tasks included."""
    stages = roadmap.cycle_stages
    return bool(stages) and all(stage_done(stage, rows) for stage in stages)


def cycle_number(past: Sequence[CycleRecord]) -> int:
    """The number of the cycle the musician is in (1 before any was closed)."""
    return max((c.cycle for c in past), default=0) + 1


def noun(roadmap: RoadmapInfo) -> str:
    """The cycle's name ("release"); "cycle" for a roadmap without one."""
    return roadmap.cycle or "cycle"


def offer(roadmap: RoadmapInfo, current: int) -> Message:
    """The offer of cycle ``current + 1``, with its button."""
    word = noun(roadmap)
    text = (
        f"🔁 {bold(f'{word.capitalize()} {current} is done.')} The next one runs through the "
        f"same stages with fresh tasks, and I'll show your {word} {current} numbers as the "
        "baseline to beat. Start it whenever you're ready (or later with /next)."
    )
    label = f"Start {word} {current + 1}"
    button = Button(label=label, payload=NEXT_CYCLE.encode(str(current + 1)))
    return Message(text=text, buttons=((button,),))


def history_line(roadmap: RoadmapInfo, past: Sequence[CycleRecord]) -> str | None:
    """``/progress``'s line about the earlier cycles: "Release 1: 11 of 12 done (closed 14 Mar
    2027)", one per cycle (``None``: this is the first)."""
    if not past:
        return None
    word = noun(roadmap).capitalize()
    by_cycle: dict[int, list[CycleRecord]] = {}
    for row in past:
        by_cycle.setdefault(row.cycle, []).append(row)
    total = sum(len(s.tasks) for s in roadmap.cycle_stages)
    lines = []
    for number in sorted(by_cycle):
        rows = by_cycle[number]
        done = sum(1 for r in rows if r.status == "completed")
        closed = max(r.closed_at for r in rows)
        lines.append(f"{word} {number}: {done} of {total} tasks done (closed {closed:%d %b %Y})")
    return "\n".join(lines)


def carried(row: ProgressRecord, cycle: int) -> dict[str, object]:
    """The fresh ``task_data`` of a data-input task in the next cycle: last cycle's answer as
    its baseline (nothing for a task that was not answered)."""
    display = row.task_data.get("display")
    if row.status != "completed" or display is None:
        return {}
    baseline: dict[str, object] = {"display": str(display), "cycle": cycle}
    if row.task_data.get("numeric") is not None:
        baseline["numeric"] = str(row.task_data["numeric"])
    if row.task_data.get("currency"):  # an amount keeps the currency it was given in
        baseline["currency"] = str(row.task_data["currency"])
    return {"baseline": baseline}


def baseline_line(spec: InputSpec, row: ProgressRecord | None, word: str) -> str | None:
    """ "📈 Last release: 8 %. Aim for 10 % this time." for a question with a carried baseline
    (``None`` without one). The aim is :data:`STRETCH` beyond it in the ``better`` direction,
    kept in the question's bounds; without a direction the content's target is the aim."""
    baseline = row.task_data.get("baseline") if row is not None else None
    if not isinstance(baseline, dict) or baseline.get("display") is None:
        return None
    head = f"📈 Last {word}: {bold(esc(str(baseline['display'])))}."
    aim = _aim(spec, baseline.get("numeric"))
    if aim is None:
        return head
    return f"{head} Aim for {bold(esc(format_value(spec, aim)))} this time."


def _aim(spec: InputSpec, raw: object) -> Decimal | None:
    if raw is None:
        return None
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        return None
    if spec.better is None:
        return spec.target
    if value == 0:
        return None  # 25 % more than nothing is nothing: no target to name
    aim = value * STRETCH if spec.better == "higher" else value / STRETCH
    if spec.type in {InputType.INTEGER, InputType.MONEY, InputType.DURATION}:
        aim = aim.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    else:
        aim = aim.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if spec.max is not None:
        aim = min(aim, spec.max)
    if spec.min is not None:
        aim = max(aim, spec.min)
    return None if aim == value else aim
