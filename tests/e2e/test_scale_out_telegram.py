"""Three ``coach run --telegram-webhook`` workers behind a round-robin proxy, one PostgreSQL
(issue #16 §3): musicians' journeys pushed by the fake Telegram as Telegram pushes a webhook
(16 connections, one queue per chat), every seventh update delivered twice — the second time
through the proxy's next worker.

What must hold: every update handled, none twice (every chat got the same replies), each chat's
updates handled in the order the musician sent them although the proxy is not sticky (the inbox
makes a worker wait for a chat's older updates held elsewhere: ``Inbox.wait_turn``), reminders
and weekly reviews sent once; and with a worker killed (``kill -9``) in the middle and started
again, nothing lost. The 500-musician run is ``benchmarks/scale_out.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections import Counter, defaultdict
from pathlib import Path

import asyncpg
import pytest
from coachkit import synced_coach
from fakes.telegram_api import FakeTelegram
from scaleoutkit import (
    BURST,
    WebhookFleet,
    all_handled,
    chats,
    dsn,
    handled,
    make_due,
    onboard,
    order_broken,
    type_all,
    wait_until,
)

from core.db.engine import Database

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

#: 30 in the suite; ``SCALE_OUT_MUSICIANS=500`` runs the issue's 500 journeys with every check
#: (a few minutes; the waits below grow with it).
MUSICIANS = int(os.environ.get("SCALE_OUT_MUSICIANS", "30"))
#: How much longer than for 30 musicians anything may take.
SLACK = max(1.0, MUSICIANS / 30)
#: Sends a second per worker: Telegram's 30/s is per bot, but the fake does not limit, and the
#: default 28 would make the test wait for the pacing instead of the workers.
ENV = {"TELEGRAM_SENDS_PER_SECOND": "300"}


#: The deliveries of the musicians' daily reminders and weekly reviews.
_SENT = (
    "SELECT count(*) = $1 FROM deliveries d JOIN reminders r ON r.id = d.reminder_id "
    "WHERE r.kind IN ('schedule', 'review')"
)
_BY_STATUS = (
    "SELECT r.kind, d.kind AS sent_as, d.status, count(*) FROM reminders r LEFT JOIN "
    "deliveries d ON d.reminder_id = r.id GROUP BY 1, 2, 3"
)


def _per_chat(chat_ids: list[int], texts: int, ids: list[int]) -> dict[int, list[int]]:
    """``type_all``'s ids back by chat (it types each chat's texts one after the other)."""
    return {chat: ids[i * texts : (i + 1) * texts] for i, chat in enumerate(chat_ids)}


def _repeats(fake: FakeTelegram, chat_ids: list[int]) -> int:
    """Messages that repeat the chat's previous message word for word."""
    found = 0
    for chat in chat_ids:
        texts = [m.plain_text for m in fake.messages(chat)]
        found += sum(1 for a, b in itertools.pairwise(texts) if a == b)
    return found


def _odd_one_out(fake: FakeTelegram, counts: Counter[int]) -> str:
    """The messages of the chat with the most messages and of one with the fewest."""
    most, fewest = max(counts, key=lambda c: counts[c]), min(counts, key=lambda c: counts[c])
    show = {c: [m.plain_text[:60] for m in fake.messages(c)] for c in (most, fewest)}
    return f"{counts}\n{show}"


async def _sent_per_chat(fake: FakeTelegram, chat_ids: list[int]) -> Counter[int]:
    return Counter({c: len(fake.messages(c)) for c in chat_ids})


async def test_three_webhook_workers_keep_order_and_handle_each_update_once(
    pg_database: Database, tmp_path: Path
) -> None:
    await synced_coach(pg_database)
    people = chats(MUSICIANS)
    async with FakeTelegram() as fake:
        fleet = WebhookFleet(tmp_path, pg_database.url, fake, env=ENV)
        conn = await asyncpg.connect(dsn(pg_database.url))
        try:
            async with fleet:
                for name in fleet.ports:
                    status, body = await fleet.ready(name)
                    assert status == 200, body
                fleet.deliver(redeliver_every=7)
                await onboard(fleet, conn, people, within=120 * SLACK)
                ids = type_all(fake, people, BURST)
                await all_handled(conn, ids, within=120 * SLACK)
                due = await make_due(conn, [str(c) for c in people])
                assert due == 2 * MUSICIANS  # a daily reminder and a weekly review each
                before = await _sent_per_chat(fake, people)
                try:
                    await wait_until(
                        lambda: conn.fetchval(_SENT + " AND d.status = 'sent'", due),
                        within=60 * SLACK,
                        what="the nudges and reviews",
                    )
                except AssertionError as exc:
                    raise AssertionError(f"{exc}: {await conn.fetch(_BY_STATUS)}") from None
                await asyncio.sleep(min(5.0, 1.5 * SLACK))  # a second copy would be here by now
                after = await _sent_per_chat(fake, people)
            assert await conn.fetchval("SELECT count(*) FROM inbox_updates") == 0
            assert await order_broken(conn, _per_chat(people, len(BURST), ids)) == []
            attempts = await conn.fetchval(
                "SELECT max(d.attempts) FROM deliveries d JOIN reminders r "
                "ON r.id = d.reminder_id WHERE r.kind IN ('schedule', 'review')"
            )
        finally:
            await conn.close()
        # Every chat went the same way: the same number of messages, none lost or doubled — but
        # for a send retried after its answer was lost (a 5 s read timeout on a loaded machine:
        # the fake had it, the worker sent it again), which the worker logs as a retry.
        retried = sum(fleet.log_of(name).count("sendMessage failed") for name in fleet.ports)
        usual = Counter(before.values()).most_common(1)[0][0]
        assert min(before.values()) == usual, _odd_one_out(fake, before)  # nothing lost
        assert _repeats(fake, people) >= sum(before.values()) - usual * len(people)
        assert sum(before.values()) - usual * len(people) <= retried, _odd_one_out(fake, before)
        new = Counter({c: after[c] - before[c] for c in people})
        assert min(new.values()) == 2, new  # each musician's nudge and review
        assert sum(new.values()) - 2 * len(people) <= retried, new
        assert attempts == 1
        # The proxy spread the work, and redeliveries reached another worker than the first.
        served = Counter(index for index, _uid, status in fleet.proxy.log if status == 200)
        assert len(served) == 3, served
        where: dict[int, set[int]] = defaultdict(set)
        for index, uid, status in fleet.proxy.log:
            if status == 200 and uid is not None:
                where[uid].add(index)
        assert fake.redelivered
        assert any(len(where[uid]) > 1 for uid in fake.redelivered)


async def test_a_worker_killed_mid_run_and_restarted_loses_nothing(
    pg_database: Database, tmp_path: Path
) -> None:
    await synced_coach(pg_database)
    people = chats(MUSICIANS)
    async with FakeTelegram() as fake:
        fleet = WebhookFleet(tmp_path, pg_database.url, fake, env=ENV)
        conn = await asyncpg.connect(dsn(pg_database.url))
        try:
            async with fleet:
                fleet.deliver(redeliver_every=7)
                await onboard(fleet, conn, people, within=120 * SLACK)
                ids = type_all(fake, people, BURST)
                held = "SELECT count(*) FROM inbox_updates WHERE claimed_by LIKE $1"
                victim = fleet.procs["w2"]
                # Kill w2 while it holds updates of the burst (written down, not all handled).
                await wait_until(
                    lambda: conn.fetchval(held, f"%:{victim.pid}:%"),
                    within=60 * SLACK,
                    what="w2 to hold updates",
                    poll=0.01,
                )
                os.kill(victim.pid, signal.SIGKILL)
                await victim.wait()
                left = await conn.fetchval(held, f"%:{victim.pid}:%")
                await fleet.start("w2", as_name="w2-restarted")
                await all_handled(conn, ids, within=120 * SLACK)
                assert await handled(conn, ids) == set(ids)
                await wait_until(
                    lambda: conn.fetchval("SELECT count(*) = 0 FROM inbox_updates"),
                    within=30 * SLACK,
                    what="an empty inbox",
                )
                # The state is whole: every musician skipped two tasks and set both reminders.
                skipped = await conn.fetch(
                    "SELECT count(*) AS n FROM user_task_progress WHERE status = 'skipped' "
                    "GROUP BY profile_id"
                )
                reminders = await conn.fetchval(
                    "SELECT count(*) FROM reminders WHERE kind IN ('schedule', 'review')"
                )
        finally:
            await conn.close()
        print(f"\nkill -9: w2 held {left} updates when killed", flush=True)
        assert sorted(r["n"] for r in skipped) == [2] * MUSICIANS
        assert reminders == 2 * MUSICIANS
        assert "taken over" in fleet.log_of("w1") + fleet.log_of("w3") + fleet.log_of(
            "w2-restarted"
        )
