"""The weekly review's focus (core/coaching/review/compose.py ``focus``) against the loop it
replaced, kept here as the reference: ``/today``'s chooser asked again after each step with
the stage found afresh every time. The focus now finds the stage again only when the step
was a task of the current stage (nothing else changes which stage ``/today`` is on) and
builds its pretend rows without ``dataclasses.replace``; on random progress (every status,
skip and postpone dates, anchors, stage pointers, stale numbers) on the bundled roadmaps and
the plan test roadmap, the three focus steps must be the same, in the same order.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st
from support.plankit import plan_roadmap

from core.coaching.review.compose import FOCUS, Focus, Inputs, _current, focus
from core.progress.next_step import NextStep, Why, choose, last_sample_days
from core.progress.service import ProgressRecord
from core.progress.timeline import waiting
from core.roadmaps.catalog import catalog_from
from core.roadmaps.loader import load_roadmaps

BUNDLED = catalog_from(load_roadmaps())
PLAN = catalog_from([plan_roadmap()])
CATALOGS = [(BUNDLED, r) for r in BUNDLED.roadmaps] + [(PLAN, r) for r in PLAN.roadmaps]
TODAY = date(2030, 6, 12)
NOW = datetime(2030, 6, 12, 10, tzinfo=UTC)


def reference_focus(given_: Inputs, today: date) -> list[Focus]:
    """The loop as first written."""
    roadmap = given_.roadmap
    assert roadmap is not None
    rows: dict[uuid.UUID, ProgressRecord] = dict(given_.rows)
    last = last_sample_days(given_.current_stats)
    later = waiting(roadmap, given_.anchors, today)
    out: list[Focus] = []
    while len(out) < FOCUS:
        step: NextStep | None = choose(
            roadmap,
            rows,
            current=_current(given_, rows, later),
            anchors=given_.anchors,
            today=today,
            metrics=given_.metrics,
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
        base = rows.get(step.task.id) or ProgressRecord(task_id=step.task.id)
        rows[step.task.id] = replace(base, status="completed")
    return out


STATUSES = [None, "completed", "skipped", "postponed", "in_progress", "not_started"]
days_off = st.integers(-60, 60)


@st.composite
def inputs(draw: st.DrawFn) -> Inputs:
    catalog, roadmap = draw(st.sampled_from(CATALOGS))
    rows: dict[uuid.UUID, ProgressRecord] = {}
    for stage in roadmap.stages:
        for task in stage.tasks:
            status = draw(st.sampled_from(STATUSES))
            if status is None:
                continue
            data: dict[str, str] = {}
            if status == "skipped" and draw(st.booleans()):
                data["skipped_on"] = (TODAY + timedelta(days=draw(days_off))).isoformat()
            if status == "postponed":
                data["postponed_until"] = (TODAY + timedelta(days=draw(days_off))).isoformat()
            rows[task.id] = ProgressRecord(task_id=task.id, status=status, task_data=data)
    anchor_names = sorted(
        {t.when.anchor for s in roadmap.stages for t in s.tasks if t.when is not None}
    )
    anchors = {
        name: (TODAY + timedelta(days=draw(days_off))).isoformat()
        for name in anchor_names
        if draw(st.booleans())
    }
    stage_ids = [None, uuid.uuid4()] + [s.id for s in roadmap.stages]
    metrics = sorted(catalog.metrics)
    stats = {
        name: {"value": "1", "at": (NOW - timedelta(days=draw(st.integers(0, 120)))).isoformat()}
        for name in metrics
        if draw(st.booleans())
    }
    return Inputs(
        roadmap=roadmap,
        rows=rows,
        anchors=anchors,
        current_stats=stats,
        current_stage_id=draw(st.sampled_from(stage_ids)),
        metrics=catalog.metrics,
        samples=[],
        now=NOW,
        tz=ZoneInfo("Europe/Berlin"),
    )


def _said(steps: list[Focus]) -> list[tuple[str | None, object, object]]:
    return [
        (f.reason, f.task.id if f.task else None, f.metric.name if f.metric else None)
        for f in steps
    ]


@settings(max_examples=400, deadline=None)
@given(given_=inputs())
def test_the_focus_is_the_loop_it_replaced(given_: Inputs) -> None:
    rows_before = dict(given_.rows)
    assert _said(focus(given_, TODAY)) == _said(reference_focus(given_, TODAY))
    assert dict(given_.rows) == rows_before  # the pretend rows never leak into the inputs
