"""Milestones from the events outbox (core/coaching/milestones): on SQLite and PostgreSQL.

Events are made by the real coach where the test is about what a musician does (``/update``,
``/goal``, a band's ``/band milestones on``), and inserted directly where it is about the
consumer (order, concurrency, leases, volume). Every celebration goes through a Notifier.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from bandkit import GuildDriver
from coachkit import Driver, synced_coach
from reminderkit import FakeClock, RecordingNotifier
from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.coaching.milestones import store
from core.coaching.milestones.consumer import ConsumerConfig, ConsumeReport, MilestoneConsumer
from core.db.engine import Database, normalise_url
from core.db.executor import AsyncpgExecutor, SQLAlchemyExecutor, compiled_for_asyncpg
from core.db.migrate import upgrade
from core.db.models import Band, Delivery, Event, Identity, Milestone, Profile, User
from core.housekeeping import OLD_EVENTS, Retention, prune
from core.kernel.markup import to_plain
from core.kernel.notify import DeliveryResult, DeliveryStatus, by_platform

START = FakeClock().now


def consumer(
    db: Database, clock: FakeClock, *notifiers: RecordingNotifier, **config: Any
) -> MilestoneConsumer:
    return MilestoneConsumer(
        db,
        by_platform(*(notifiers or (RecordingNotifier(),))),
        clock=clock,
        config=ConsumerConfig(**config),
    )


async def musicians(db: Database, n: int, *, platform: str = "console") -> list[uuid.UUID]:
    """``n`` musicians with a profile and an identity; their profile ids (chat ``m<i>``)."""
    users = [uuid.uuid4() for _ in range(n)]
    profiles = [uuid.uuid4() for _ in range(n)]
    async with db.transaction() as session:
        await session.execute(insert(User), [{"id": u, "created_at": START} for u in users])
        await session.execute(
            insert(Identity),
            [
                {"user_id": u, "platform": platform, "external_id": f"m{i}", "created_at": START}
                for i, u in enumerate(users)
            ],
        )
        await session.execute(
            insert(Profile),
            [
                {
                    "id": p,
                    "user_id": u,
                    "artist_name": f"Artist {i}",
                    "created_at": START,
                    "updated_at": START,
                }
                for i, (u, p) in enumerate(zip(users, profiles, strict=True))
            ],
        )
    return profiles


async def add_events(db: Database, rows: list[tuple[uuid.UUID, str, dict[str, str]]]) -> None:
    """Events in the given order, one microsecond apart (the outbox's order)."""
    async with db.transaction() as session:
        await session.execute(
            insert(Event),
            [
                {
                    "id": uuid.uuid4(),
                    "profile_id": pid,
                    "type": kind,
                    "payload": payload,
                    "created_at": START + timedelta(microseconds=i),
                }
                for i, (pid, kind, payload) in enumerate(rows)
            ],
        )


def listeners(pid: uuid.UUID, value: int) -> tuple[uuid.UUID, str, dict[str, str]]:
    return (pid, "stats.updated", {"metric": "monthly_listeners", "value": str(value)})


async def rows(db: Database, model: Any, *where: Any) -> list[Any]:
    async with db.transaction() as session:
        return list((await session.execute(select(model).where(*where))).scalars())


async def unprocessed(db: Database) -> int:
    return len(await rows(db, Event, Event.processed_at.is_(None)))


# ------------------------------------------------------------------ through the coach


async def test_a_number_crossing_1000_is_celebrated_once_with_the_musician(
    database: Database,
) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    maya = Driver(coach, "maya")
    await maya.onboard()
    await maya.say("/update monthly_listeners 1200")
    assert "Saved" in maya.text
    notifier = RecordingNotifier()
    job = consumer(database, clock, notifier)
    report = await job.run()
    assert report.sent == 1
    assert [chat for chat, _ in notifier.sent] == ["maya"]
    assert "1 000 monthly listeners" in notifier.texts()[0]
    reached = {m.key: m.celebrated for m in await rows(database, Milestone)}
    assert reached == {
        "metric:monthly_listeners:100": "lower",  # recorded, never told later either
        "metric:monthly_listeners:1000": "sent",
    }
    assert await unprocessed(database) == 0
    # again, and a new number under the next threshold: nothing more
    await job.run()
    await maya.say("/update monthly_listeners 1500")
    clock.advance(minutes=1)
    await job.run()
    assert len(notifier.sent) == 1
    (delivery,) = await rows(database, Delivery, Delivery.kind == "milestone")
    assert delivery.status == "sent"
    assert delivery.idempotency_key.endswith(":metric:monthly_listeners:1000")


async def test_a_goal_met_is_recorded_silently_the_reply_celebrated_it(database: Database) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    maya = Driver(coach, "maya")
    await maya.onboard()
    await maya.say("/update monthly_listeners 50")
    await maya.say(f"/goal monthly_listeners 80 by {(START + timedelta(days=60)).date()}")
    await maya.say("/update monthly_listeners 90")
    assert "Goal reached" in maya.text  # the reply celebrates it
    notifier = RecordingNotifier()
    await consumer(database, clock, notifier).run()
    assert notifier.sent == []  # … so the consumer does not again
    (goal,) = [m for m in await rows(database, Milestone) if m.key.startswith("goal:")]
    assert goal.celebrated == "inline"
    assert goal.key.startswith("goal:monthly_listeners:80")


async def test_an_unreachable_person_or_one_on_another_platform_is_skipped(
    database: Database,
) -> None:
    clock = FakeClock(START)
    here, elsewhere = (
        await musicians(database, 1),
        await musicians(database, 1, platform="telegram"),
    )
    async with database.transaction() as session:
        owner = (await session.execute(select(Profile.user_id).where(Profile.id == here[0]))).one()
        await session.execute(update(User).where(User.id == owner[0]).values(unreachable=True))
    await add_events(database, [listeners(here[0], 150), listeners(elsewhere[0], 150)])
    notifier = RecordingNotifier()
    report = await consumer(database, clock, notifier).run()
    assert notifier.sent == []
    assert report.skipped == 2
    assert {m.celebrated for m in await rows(database, Milestone)} == {"skipped"}
    assert await unprocessed(database) == 0


async def test_a_blocked_bot_marks_the_person_unreachable(database: Database) -> None:
    clock = FakeClock(START)
    (pid,) = await musicians(database, 1)
    await add_events(database, [(pid, "stats.updated", {"metric": "gig_fee", "value": "120"})])
    notifier = RecordingNotifier(answers={"m0": DeliveryResult(DeliveryStatus.BLOCKED, "bye")})
    report = await consumer(database, clock, notifier).run()
    assert report.blocked == 1
    (milestone,) = await rows(database, Milestone)
    assert (milestone.key, milestone.celebrated) == ("first-paid-gig", "blocked")
    (delivery,) = await rows(database, Delivery)
    assert (delivery.status, delivery.last_error) == ("blocked", "bye")
    (user,) = await rows(database, User)
    assert user.unreachable


async def test_release_day_becomes_an_event_once_and_is_celebrated_once(
    database: Database,
) -> None:
    clock = FakeClock(START)
    today = START.date()
    pids = await musicians(database, 3)
    async with database.transaction() as session:
        for pid, day in zip(
            pids, (today, today + timedelta(days=1), today - timedelta(days=30)), strict=True
        ):
            await session.execute(
                update(Profile)
                .where(Profile.id == pid)
                .values(anchors={"release": day.isoformat()})
            )
    notifier = RecordingNotifier()
    job = consumer(database, clock, notifier)
    assert await job.queue_release_days() == 1
    assert await job.queue_release_days() == 0  # one is queued already
    await job.run()
    assert [chat for chat, _ in notifier.sent] == ["m0"]
    assert "Release day" in notifier.texts()[0]
    assert await job.queue_release_days() == 0  # its milestone is recorded
    clock.advance(days=1)  # tomorrow: the second musician's day
    await job.run()
    assert [chat for chat, _ in notifier.sent] == ["m0", "m1"]


# ------------------------------------------------------------------ the consumer itself


async def test_the_head_claim_keeps_a_profiles_queue_to_one_worker(database: Database) -> None:
    clock = FakeClock(START)
    p1, p2 = await musicians(database, 2)
    await add_events(database, [listeners(p1, 10), listeners(p1, 150), listeners(p2, 5)])
    lease = timedelta(minutes=2)
    async with database.connection() as conn:
        first = await store.claim_heads(SQLAlchemyExecutor(conn), now=clock(), lease=lease, limit=1)
    assert first == [p1]  # the oldest head
    async with database.connection() as conn:
        second = await store.claim_heads(
            SQLAlchemyExecutor(conn), now=clock(), lease=lease, limit=10
        )
    # p1 still has two unprocessed events, but its head is leased: nothing of p1 is claimable
    assert second == [p2]
    async with database.connection() as conn:
        none = await store.claim_heads(SQLAlchemyExecutor(conn), now=clock(), lease=lease, limit=10)
    assert none == []
    # a worker that died holding p1: after the lease p1 comes back, nothing is lost
    clock.advance(minutes=3)
    notifier = RecordingNotifier()
    await consumer(database, clock, notifier).run()
    assert notifier.texts()
    assert "100 monthly listeners" in notifier.texts()[0]
    assert await unprocessed(database) == 0


async def test_each_profiles_events_are_handled_in_order(database: Database) -> None:
    """Per profile: 150 then gig fee then 1 200 listeners → the notices in that order, with
    small batches and two consumers running at once."""
    clock = FakeClock(START)
    pids = await musicians(database, 30)
    events = []
    for pid in pids:
        events.append(listeners(pid, 150))
    for pid in pids:
        events.append((pid, "stats.updated", {"metric": "gig_fee", "value": "80"}))
    for pid in pids:
        events.append(listeners(pid, 1200))
    await add_events(database, events)
    notifier = RecordingNotifier()
    a = consumer(database, clock, notifier, batch_size=4)
    b = consumer(database, clock, notifier, batch_size=4)
    await asyncio.gather(a.run(), b.run(), a.run(), b.run())
    await a.run()
    per_chat: dict[str, list[str]] = {}
    for chat, replies in notifier.sent:
        per_chat.setdefault(chat, []).append(to_plain(replies[0].text))
    assert len(per_chat) == 30
    for texts in per_chat.values():
        assert len(texts) == 3
        assert "100 monthly listeners" in texts[0]
        assert "first paid gig" in texts[1].lower()
        assert "1 000 monthly listeners" in texts[2]
    assert await unprocessed(database) == 0


async def test_two_consumers_at_once_celebrate_each_milestone_exactly_once(
    database: Database,
) -> None:
    clock = FakeClock(START)
    pids = await musicians(database, 120)
    # every milestone reached twice: a second event reaching the same threshold
    await add_events(
        database, [listeners(p, 1500) for p in pids] + [listeners(p, 1600) for p in pids]
    )
    notifier = RecordingNotifier()
    workers = [consumer(database, clock, notifier, batch_size=7) for _ in range(3)]
    await asyncio.gather(*(w.run() for w in workers))
    chats = [chat for chat, _ in notifier.sent]
    assert sorted(chats) == sorted(f"m{i}" for i in range(120))  # each once
    assert len(await rows(database, Milestone)) == 240  # 100 and 1 000 per musician
    assert len(await rows(database, Delivery, Delivery.status == "sent")) == 120
    assert await unprocessed(database) == 0


async def test_a_crash_between_recording_and_sending_never_sends_twice(
    database: Database,
) -> None:
    """The milestone and its reservation are committed before the send: a worker that dies
    there leaves a ``sending`` delivery and the events processed; the next worker sends
    nothing again (at most once), and the record tells what was lost."""
    clock = FakeClock(START)
    (pid,) = await musicians(database, 1)
    await add_events(database, [listeners(pid, 150)])
    doomed = consumer(database, clock)
    batch = await doomed._claim()
    notices = await doomed._record(batch.events, batch, lambda _: None, ConsumeReport())
    assert len(notices) == 1  # … and here the process dies, before the send
    clock.advance(minutes=10)  # long past any lease
    notifier = RecordingNotifier()
    await consumer(database, clock, notifier).run()
    assert notifier.sent == []
    (delivery,) = await rows(database, Delivery)
    assert delivery.status == "sending"
    (milestone,) = await rows(database, Milestone)
    assert milestone.celebrated == "sending"


async def test_a_crash_before_recording_loses_nothing(database: Database) -> None:
    clock = FakeClock(START)
    (pid,) = await musicians(database, 1)
    await add_events(database, [listeners(pid, 150)])
    doomed = consumer(database, clock, batch_size=10)
    await doomed._claim()  # leased, then the process dies
    notifier = RecordingNotifier()
    await consumer(database, clock, notifier).run()
    assert notifier.sent == []  # still leased
    clock.advance(minutes=3)
    await consumer(database, clock, notifier).run()
    assert len(notifier.sent) == 1


async def test_events_without_a_profile_are_marked_processed(database: Database) -> None:
    clock = FakeClock(START)
    async with database.transaction() as session:
        await session.execute(
            insert(Event),
            [{"type": "roadmap.chosen", "payload": {}, "created_at": START} for _ in range(3)],
        )
    await consumer(database, clock).run()
    assert await unprocessed(database) == 0


async def test_housekeeping_prunes_processed_events_after_the_window_only(
    database: Database,
) -> None:
    clock = FakeClock(START)
    pids = await musicians(database, 2)
    await add_events(database, [listeners(pids[0], 5)] * 7)
    await consumer(database, clock).run()  # processed at START
    await add_events(database, [listeners(pids[1], 5)] * 3)  # never processed
    keep = Retention(events=timedelta(days=30), batch_size=2)
    report = await prune(database, now=START + timedelta(days=29), retention=keep)
    assert report.events == 0
    report = await prune(database, now=START + timedelta(days=31), retention=keep)
    assert report.events == 7  # in batches of two
    left = await rows(database, Event)
    assert len(left) == 3
    assert all(e.processed_at is None for e in left)


async def test_unprocessed_events_cannot_pile_up_when_no_consumer_runs(database: Database) -> None:
    """Issue #18: with the consumer switched off (MILESTONES_ENABLED=false everywhere) nothing
    marks events processed. Those no milestone comes from go after the events window like
    processed ones; the rest are kept for the consumer until the longer unprocessed window."""
    pids = await musicians(database, 1)
    await add_events(
        database,
        [
            (pids[0], "task.completed", {"task": "a"}),
            (pids[0], "task.skipped", {"task": "b"}),
            listeners(pids[0], 5),
            (pids[0], "stage.completed", {"stage": "s"}),
        ],
    )
    keep = Retention(events=timedelta(days=30), unprocessed_events=timedelta(days=90))
    assert (await prune(database, now=START + timedelta(days=29), retention=keep)).events == 0
    report = await prune(database, now=START + timedelta(days=31), retention=keep)
    assert report.events == 2  # the task completion and the skip: no milestone reads them
    left = await rows(database, Event)
    assert sorted(e.type for e in left) == ["stage.completed", "stats.updated"]
    assert all(e.processed_at is None for e in left)
    assert (await prune(database, now=START + timedelta(days=89), retention=keep)).events == 0
    assert (await prune(database, now=START + timedelta(days=91), retention=keep)).events == 2
    assert await rows(database, Event) == []


# ------------------------------------------------------------------ bands


async def test_a_band_that_opted_in_hears_of_its_milestones_in_its_channel(
    database: Database,
) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    boss = GuildDriver(coach, "boss", manager=True, channel="901")
    await boss.say("/band create The Lamps")
    member = GuildDriver(coach, "ann", channel="902")
    await member.say("/band join")
    await boss.say("/band channel")
    await member.say("/band milestones on")
    assert "managers" in member.text.lower()  # refused: managers only
    await boss.say("/band milestones on")
    assert "announced" in boss.text
    (band,) = await rows(database, Band)
    assert band.announce_milestones
    (profile,) = await rows(database, Profile, Profile.band_id == band.id)
    await add_events(database, [listeners(profile.id, 120)])
    discord = RecordingNotifier(platform="discord")
    report = await consumer(database, clock, discord).run()
    assert report.announced == 1
    assert [chat for chat, _ in discord.sent] == ["901"]
    assert "The Lamps" in discord.texts()[0]
    (milestone,) = await rows(database, Milestone)
    assert milestone.announced
    assert milestone.celebrated == "channel"
    await boss.say("/band milestones off")
    await add_events(database, [listeners(profile.id, 1100)])
    await consumer(database, clock, discord).run()
    assert len(discord.sent) == 1  # off: not in the channel (and no member's number: no DM)


@pytest.mark.parametrize("args", ["", "maybe", "ON 🎉" * 50])
async def test_band_milestones_switch_answers_bad_input(database: Database, args: str) -> None:
    coach = await synced_coach(database, clock=FakeClock(START))
    boss = GuildDriver(coach, "boss", manager=True)
    await boss.say("/band create The Lamps")
    await boss.say(f"/band milestones {args}".strip())
    assert "/band milestones on" in boss.text
    (band,) = await rows(database, Band)
    assert not band.announce_milestones


# ------------------------------------------------------------------ plans


@pytest.mark.postgres_only
async def test_the_claim_the_queue_and_the_prune_walk_their_indexes(database: Database) -> None:
    """Each statement reads an index of ``events`` and never the whole table, which grows with
    every turn until pruned: the claim walks the unprocessed rows in order by
    ``(processed_at, created_at)`` and asks ``ix_events_unprocessed`` for each row's head."""
    pids = await musicians(database, 400)
    await add_events(database, [listeners(p, i) for i in range(25) for p in pids])
    # the steady state: history handled (until pruned), a small backlog of new events
    async with database.transaction() as session:
        await session.execute(
            update(Event)
            .where(Event.created_at < START + timedelta(microseconds=9_700))
            .values(processed_at=START)
        )
    assert await unprocessed(database) == 300
    clock = FakeClock(START)
    await consumer(database, clock, batch_size=10)._claim()  # some leased, the rest open
    queue = store.QUEUE.params(pids=pids[:10]).compile(
        dialect=postgresql.dialect(),
        compile_kwargs={"literal_binds": True, "render_postcompile": True},
    )
    claim = {"now": START, "until": START + timedelta(minutes=2), "limit": 10}
    async with database.unit_of_work() as plain:
        assert isinstance(plain, AsyncpgExecutor)
        await plain.conn.execute("ANALYZE events")

        async def explain(stmt: Any, params: dict[str, Any]) -> str:
            sql, names = compiled_for_asyncpg(stmt, list(params))
            rows = await plain.conn.fetch(f"EXPLAIN {sql}", *(params[n] for n in names))
            return "\n".join(r[0] for r in rows)

        plans = {
            "claim": await explain(store.HEADS.postgresql, claim),
            "queue": "\n".join(r[0] for r in await plain.conn.fetch(f"EXPLAIN {queue}")),
            "prune": await explain(OLD_EVENTS["postgresql"], {"cutoff": START, "batch": 100}),
        }
    for name, plan in plans.items():
        assert "Seq Scan on events" not in plan, f"{name}:\n{plan}"
        wanted = {
            "claim": {"ix_events_processed_at", "ix_events_unprocessed"},  # walk, then probe
            "queue": {"ix_events_unprocessed", "ix_events_profile_id"},  # either: by profile
            "prune": {"ix_events_processed_at"},
        }[name]
        found = {ix for ix in wanted if ix in plan}
        assert found == wanted if name != "queue" else found, f"{name}:\n{plan}"


# ------------------------------------------------------------------ the migration


@pytest.fixture(params=["sqlite", "postgres"])
async def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, unmigrated database on each backend."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'milestones.db'}"
    make: Callable[[], Awaitable[str]] = request.getfixturevalue("fresh_pg_url")
    return await make()


async def test_the_revision_marks_earlier_events_consumed(unmigrated_url: str) -> None:
    """History is not celebrated: events written before ``w2_milestones`` come out processed
    (at their own time, so housekeeping may prune them); the consumer finds nothing to do."""
    await asyncio.to_thread(upgrade, unmigrated_url, "c3_stats_charts")
    old = sa.table(
        "events",
        sa.column("id", sa.Uuid()),
        sa.column("type", sa.String()),
        sa.column("payload", sa.JSON()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    engine = create_async_engine(normalise_url(unmigrated_url), poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                sa.insert(old),
                [
                    {
                        "id": uuid.uuid4(),
                        "type": "stats.updated",
                        "payload": {},
                        "created_at": START,
                    }
                    for _ in range(3)
                ],
            )
    finally:
        await engine.dispose()
    await asyncio.to_thread(upgrade, unmigrated_url, "w2_milestones")
    db = Database(unmigrated_url)
    try:
        left = await rows(db, Event)
        assert len(left) == 3
        assert all(e.processed_at == START and e.claimed_until is None for e in left)
    finally:
        await db.dispose()
