"""Starting the next release cycle: ``/next`` and the "Start release 2" button (issue #15 §2).

The live ``user_task_progress`` rows always hold the current cycle. Starting the next one
copies the cycle's rows to ``cycle_tasks`` under their cycle number, then resets them: every
task of the repeating stages is open again, each data-input task carrying last cycle's answer
as its baseline (shown with a suggested target on its card, compared with in the reply). The
anchor dates the cycle's date questions set (the release date) are cleared, because the plan
of the next release is counted from its own date. Samples, goals and everything outside the
cycle's stages are untouched, so ``/stats`` and the streak go on as they were, and so are the
cycle's once-only tasks (``once: true``: a channel or a registration is set up once).
"""

from __future__ import annotations

from core.journey import cycle_offer
from core.journey.navigation import today
from core.kernel.markup import bold, esc
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound, Toast
from core.progress.service import ProgressRecord, is_dealt_with, live_tasks, stage_done


async def start_next(turn: Turn, wanted: int | None = None) -> list[Outbound]:
    """Close the current cycle and open the next (``wanted``: the number a button promised;
    a press for a cycle already started, or not next, changes nothing)."""
    roadmap = turn.roadmap
    if roadmap is None or roadmap.cycle is None:
        return [
            Message(
                text="Your roadmap has no release cycle to repeat. /today shows your next step."
            )
        ]
    word = cycle_offer.noun(roadmap)
    past = await turn.store.load_cycles(turn.rec.profile_id, roadmap.id)
    current = cycle_offer.cycle_number(past)
    if wanted is not None and wanted != current + 1:
        return [Toast(text=f"{word.capitalize()} {current} is already under way. /today")]
    rows = await turn.roadmap_progress(roadmap)
    if not cycle_offer.cycle_done(roadmap, rows):
        open_stage = next(s for s in roadmap.cycle_stages if not stage_done(s, rows))
        todo = sum(
            1 for t in live_tasks(open_stage, rows) if not t.optional and not is_dealt_with(rows, t)
        )
        return [
            Message(
                text=f"Finish {word} {current} first: {bold(esc(open_stage.title))} still has "
                f"{todo} task(s) to do or skip. /today takes you there."
            )
        ]
    # a once-only task (``once: true``) stays as it is: done once, it is done for every cycle
    tasks = [t for stage in roadmap.cycle_stages for t in stage.tasks if not t.once]
    kept = [rows[t.id] for t in tasks if t.id in rows]
    await turn.store.archive_cycle(turn.rec.profile_id, current, kept, turn.now)
    for task in tasks:
        row = rows.get(task.id)
        if row is None:
            continue
        fresh = cycle_offer.carried(row, current) if task.input is not None else {}
        await turn.save(_reset(row, fresh))
    dated = {t.input.anchor for t in tasks if t.input is not None and t.input.anchor}
    anchors = {k: v for k, v in (turn.rec.anchors or {}).items() if k not in dated}
    turn.set_profile(anchors=anchors, current_stage_id=roadmap.cycle_stages[0].id)
    turn.set_undo(None)  # the last step belongs to the closed cycle: /undo can't reach it
    turn.set_state(None)
    turn.event("cycle.started", roadmap=roadmap.slug, cycle=current + 1)
    intro = Message(
        text=f"🔁 {bold(f'{word.capitalize()} {current + 1} starts now.')} Your {word} "
        f"{current} answers are kept (/progress lists them), and every number question shows "
        f"last {word}'s figure as the baseline to beat."
    )
    return await today(turn, intro=[intro])


def _reset(row: ProgressRecord, data: dict[str, object]) -> ProgressRecord:
    """The row as a task not started in the new cycle (same row: no insert, no unique clash)."""
    row.status = "not_started"
    row.task_data = dict(data)
    row.completed_at = None
    row.completed_by = None
    return row
