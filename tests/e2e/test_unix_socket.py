"""A PostgreSQL on the same host over its Unix socket: both execution paths work.

The README recommends ``postgresql://user@/db?host=/var/run/postgresql`` for a database on the
bot's host (no TCP stack per round trip). The hot path opens its own asyncpg pool from the URL,
so the socket directory must reach it as well as SQLAlchemy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from coachkit import Driver, synced_coach
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from core.db.engine import Database
from core.db.models import Identity, Profile, UserTaskProgress

SOCKET_DIR = Path("/var/run/postgresql")


def _socket_exists(port: int) -> bool:
    return (SOCKET_DIR / f".s.PGSQL.{port}").exists()


async def test_the_coach_runs_over_the_unix_socket(pg_url: str) -> None:
    url = make_url(pg_url)
    port = url.port or 5432
    if url.host not in {"127.0.0.1", "localhost"} or not _socket_exists(port):
        pytest.skip(f"needs the test PostgreSQL on this host, socket in {SOCKET_DIR}")
    socket_url = url.set(host=None, port=None, query={"host": str(SOCKET_DIR), "port": str(port)})
    database = Database(socket_url.render_as_string(hide_password=False))
    try:
        coach = await synced_coach(database)
        maya = Driver(coach, user="socket-maya")
        await maya.onboard()
        tick = next(b for b in maya.buttons if b.payload.startswith("v1:tk:"))
        await maya.press_payload(tick.payload, update_id="socket-1")  # the asyncpg hot path
        async with database.transaction() as session:  # SQLAlchemy's path
            rows = await session.scalar(
                select(func.count())
                .select_from(UserTaskProgress)
                .join(Profile, Profile.id == UserTaskProgress.profile_id)
                .join(Identity, Identity.user_id == Profile.user_id)
                .where(Identity.external_id == "socket-maya")
            )
        assert rows == 1
    finally:
        await database.dispose()
