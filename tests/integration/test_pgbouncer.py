"""The coach behind a real PgBouncer in transaction pooling mode (``DATABASE_POOLER=pgbouncer``,
issue #16 §2): eight musicians chatting at once through two server connections, every tick
and answer stored; and the same database without the setting refused by PgBouncer, which is
why the setting exists."""

from __future__ import annotations

import asyncio

import pytest
from coachkit import Driver, at_a_checklist, synced_coach
from pgbouncer import pgbouncer
from sqlalchemy import text

from core.db.engine import Database
from core.db.failures import DatabaseUnavailable
from core.db.retry import RetryPolicy
from core.settings import load_settings


@pytest.mark.postgres_only
async def test_musicians_chat_through_pgbouncer_transaction_pooling(
    pg_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"DATABASE_POOLER": "pgbouncer", "DATABASE_POOL_SIZE": "4"}.items():
        monkeypatch.setenv(name, value)  # as an operator configures it
    with pgbouncer(pg_database.url, server_connections=2) as through:
        db = Database.from_settings(load_settings(database_url=through))
        assert db.pooler == "pgbouncer"
        try:
            coach = await synced_coach(db)

            async def journey(n: int) -> str:
                person = Driver(coach, f"player{n}")
                await person.onboard()
                await person.press_payload(await at_a_checklist(person))
                await person.say(f"/update listeners {1000 + n}")
                await person.say("/progress")
                return person.text

            texts = await asyncio.gather(*(journey(n) for n in range(8)))
            assert all("%" in t for t in texts), texts
        finally:
            await db.dispose()

    async with pg_database.transaction() as session:  # straight to PostgreSQL: all stored
        profiles = (await session.execute(text("SELECT count(*) FROM profiles"))).scalar()
        ticked = (
            await session.execute(
                text("SELECT count(*) FROM user_task_progress WHERE status = 'in_progress'")
            )
        ).scalar()
        samples = (await session.execute(text("SELECT count(*) FROM stat_samples"))).scalar()
    assert (profiles, ticked, samples) == (8, 8, 8)


@pytest.mark.postgres_only
async def test_without_the_setting_pgbouncer_refuses_the_connection(
    pg_database: Database,
) -> None:
    """The timeouts travel as startup parameters, which PgBouncer refuses: a worker pointed at
    PgBouncer without ``DATABASE_POOLER=pgbouncer`` fails at once, with PgBouncer's reason."""
    with pgbouncer(pg_database.url) as through:
        db = Database(through, retry=RetryPolicy(budget=0))
        try:
            with pytest.raises(DatabaseUnavailable) as refused:
                async with db.transaction() as session:
                    await session.execute(text("SELECT 1"))
        finally:
            await db.dispose()
    assert "unsupported startup parameter" in str(refused.value.__cause__)
