"""The turn store's contract (``tests/support/store_contract.py``) on the database: the SQL
store on SQLite and PostgreSQL does what the unit layer's memory store does (the same cases
run on memory in ``tests/unit/test_memory_store.py``)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

import pytest
from coachkit import catalog_of
from support.memory import bundled_roadmaps
from support.store_contract import CASES, NOW, Setting

from core.accounts.store import create_musician
from core.db.engine import Database
from core.kernel import store
from core.kernel.store import SqlTurnStore, TurnRecord
from core.roadmaps.sync import sync_roadmaps


class _RolledBack(Exception):
    """Ends a case's transaction without committing (a case may leave it aborted)."""


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
async def test_sql_store_keeps_the_contract(
    database: Database, case: Callable[[Setting], Awaitable[None]]
) -> None:
    async with database.transaction() as session:
        await sync_roadmaps(session, list(bundled_roadmaps()))
    catalog = await catalog_of(database)
    with contextlib.suppress(_RolledBack):
        async with database.unit_of_work() as ex:
            record = await create_musician(
                ex, platform="console", external_id="maya", display_name=None, locale=None, now=NOW
            )

            async def reload() -> TurnRecord:
                loaded = await store.load_turn(ex, "console", "maya", None, NOW)
                assert loaded.record is not None
                return loaded.record

            await case(Setting(SqlTurnStore(ex), record, catalog, reload))
            raise _RolledBack
