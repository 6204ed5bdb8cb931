"""The coaching reads walk their indexes (issue #13 §5: plans for 100 000 musicians).

``benchmarks/coaching_plans.py`` shows the plans at 100 000 musicians; this is the contract that
keeps them: the same functions of the code (the tick's claim and its batch reads, the turn's
locked read, the roadmap's progress, the samples of ``/stats`` and ``/goal``, the goals) are run
on a small seeded database with sequential scans priced out, and each plan must read the index
named here and no table that grows with the musicians from end to end. A change that drops one
of these indexes, or writes a predicate no index can serve, leaves a ``Seq Scan`` (priced out,
but the only way left) and fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from querykit import (
    BIG_TABLES,
    STEPS,
    ExplainingExecutor,
    musician,
    one_musician,
    seed,
    tick_batch,
)
from support.memory import bundled_roadmaps

from core.db.engine import Database
from core.db.executor import AsyncpgExecutor
from core.roadmaps.sync import sync_roadmaps

pytestmark = pytest.mark.postgres_only

MUSICIANS = 200

#: The index each statement must read (names from the models' naming convention).
EXPECTED = {
    # the partial index of live rows in due order: NOT paused AND next_due_at <= :now
    "tick: claim a batch": {"ix_reminders_due"},
    # the claimed rows by id, their profile by user, the musician's schedule row by user
    "tick: owners()": {"pk_reminders", "uq_profiles_user_id", "pk_users", "ix_reminders_user_id"},
    "tick: check-in numbers (stats_of)": {"pk_profiles"},
    "tick: plan rows' progress (progress_of)": {"uq_user_task_progress_profile_id_task_id"},
    "turn: locked read": {
        "uq_identities_platform_external_id",
        "pk_users",
        "uq_profiles_user_id",
        "pk_conversation_state",
    },
    "/today, /plan: roadmap progress": {"uq_user_task_progress_profile_id_task_id"},
    "/stats: samples": {"ix_stat_samples_profile_id"},
    "/goal, /stats: one metric's samples": {"ix_stat_samples_profile_id"},
    "/goal: goals": {"uq_goals_profile_id_metric"},
    "answer: goal met": {"uq_goals_profile_id_metric"},
}


async def test_every_coaching_read_walks_its_index(database: Database) -> None:
    now = datetime.now(UTC)  # the seed's times are relative to it: any day will do
    async with database.transaction() as session:
        await sync_roadmaps(session, list(bundled_roadmaps()))
    async with database.unit_of_work() as plain:
        assert isinstance(plain, AsyncpgExecutor)
        seeded = await seed(plain.conn, MUSICIANS, now)
        who = await musician(plain.conn, MUSICIANS)
    assert seeded.counts["profiles"] == MUSICIANS
    async with database.unit_of_work() as plain:
        assert isinstance(plain, AsyncpgExecutor)
        await plain.conn.execute("SET LOCAL enable_seqscan = off")
        ex = ExplainingExecutor(plain.conn, analyze=False)
        claimed = await tick_batch(ex, now)
        await one_musician(ex, who, now)
    assert claimed == 4, "the seed has one musician's four rows due (every kind)"
    plans = {done.name: done for done in ex.explained}
    assert tuple(plans) == STEPS
    assert tuple(EXPECTED) == STEPS
    for name, indexes in EXPECTED.items():
        done = plans[name]
        plan = done.plan
        shown = "\n".join(plan.key_lines())
        assert indexes <= plan.indexes(), f"{name}: missing {indexes - plan.indexes()}\n{shown}"
        assert not plan.seq_scans() & BIG_TABLES, f"{name}: a table read whole\n{shown}"
    assert plans["/stats: samples"].rows == 36, "three numbers, a year of monthly samples"
    assert plans["/goal: goals"].rows == 1
    assert plans["/today, /plan: roadmap progress"].rows >= 15
