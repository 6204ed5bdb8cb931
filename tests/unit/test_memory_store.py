"""The turn store's contract (``tests/support/store_contract.py``) on the memory store, and
the database's refusals it mimics; the same cases run on SQL in
``tests/integration/test_turn_store.py``."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime

import pytest
from support.memory import MemoryTurnStore, bundled_catalog
from support.store_contract import CASES, NOW, Setting

from core.kernel.store import TurnRecord
from core.kernel.types import Inbound
from core.progress.service import ProgressRecord


def _setting() -> Setting:
    catalog = bundled_catalog()
    memory = MemoryTurnStore(catalog)
    maya = Inbound(platform="console", user_id="maya", chat_id="maya", kind="text", text="hi")
    record = memory.create_musician(maya, NOW)

    async def reload() -> TurnRecord:
        loaded = memory.load_turn("console", "maya")
        assert loaded is not None
        return loaded

    return Setting(memory, record, catalog, reload)


@pytest.mark.parametrize("case", CASES, ids=[case.__name__ for case in CASES])
async def test_memory_store_keeps_the_contract(case: Callable[[Setting], Awaitable[None]]) -> None:
    await case(_setting())


async def test_writes_the_database_would_refuse_are_refused() -> None:
    s = _setting()
    pid = s.record.profile_id
    with pytest.raises(ValueError, match="no column"):
        await s.store.update_profile(pid, artist="x")
    with pytest.raises(ValueError, match="naive"):
        await s.store.update_profile(pid, updated_at=datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="NOT NULL"):
        await s.store.update_profile(pid, current_stats=None)
    with pytest.raises(ValueError, match="characters"):
        await s.store.update_profile(pid, artist_name="x" * 1000)
    task = s.catalog.roadmaps[0].stages[0].tasks[0]
    with pytest.raises(TypeError, match="JSON serializable"):
        await s.store.save_progress(pid, ProgressRecord(task.id, task_data={"at": NOW}), NOW)
    with pytest.raises(ValueError, match="needs"):
        await s.store.add_sample({"id": uuid.uuid4(), "profile_id": pid})
