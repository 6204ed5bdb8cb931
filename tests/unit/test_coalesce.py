"""The background queue the chart warm-ups run on: one run per key however often asked, never
two at once for a key, bounded, failures counted and logged, and nothing left running after
``idle`` or ``close``."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.jobs.coalesce import Coalescing


class Gate:
    """Work that records each key and waits for the test to let it finish."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.running: set[str] = set()
        self.overlaps: list[str] = []
        self.release = asyncio.Event()

    async def work(self, key: str) -> None:
        if key in self.running:
            self.overlaps.append(key)
        self.running.add(key)
        self.started.append(key)
        try:
            await self.release.wait()
        finally:
            self.running.discard(key)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_key_asked_while_waiting_runs_once() -> None:
    gate = Gate()
    queue: Coalescing[str] = Coalescing(gate.work, name="test", capacity=8, concurrency=1)
    assert queue.ask("a")
    assert queue.ask("b")
    assert queue.ask("b"), "already waiting: coalesced, not dropped"
    assert queue.ask("b")
    await _settle()
    gate.release.set()
    await queue.idle()
    assert gate.started == ["a", "b"]
    assert (queue.done, queue.coalesced, queue.dropped) == (2, 2, 0)
    assert not queue.busy


async def test_a_key_asked_while_running_runs_again_after_never_alongside() -> None:
    """The running work read its data before the new change: one more run, after it."""
    gate = Gate()
    queue: Coalescing[str] = Coalescing(gate.work, name="test", capacity=8, concurrency=3)
    queue.ask("a")
    await _settle()
    assert gate.started == ["a"]
    queue.ask("a")
    queue.ask("a")
    await _settle()
    assert gate.started == ["a"], "not a second run of the same key at once"
    gate.release.set()
    await queue.idle()
    assert gate.started == ["a", "a"]
    assert gate.overlaps == []


async def test_different_keys_run_side_by_side_up_to_the_concurrency() -> None:
    gate = Gate()
    queue: Coalescing[str] = Coalescing(gate.work, name="test", capacity=8, concurrency=2)
    for key in "abc":
        queue.ask(key)
    await _settle()
    assert sorted(gate.running) == ["a", "b"]
    gate.release.set()
    await queue.idle()
    assert gate.started == ["a", "b", "c"]


async def test_past_the_capacity_a_request_is_dropped() -> None:
    gate = Gate()
    queue: Coalescing[str] = Coalescing(gate.work, name="test", capacity=2, concurrency=1)
    queue.ask("a")
    await _settle()  # "a" runs: it no longer waits
    assert queue.ask("b")
    assert queue.ask("c")
    assert not queue.ask("d"), "two wait already"
    assert queue.waiting == 2
    gate.release.set()
    await queue.idle()
    assert gate.started == ["a", "b", "c"]
    assert queue.dropped == 1


async def test_a_failure_is_logged_and_counted_and_the_rest_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    done: list[str] = []

    async def work(key: str) -> None:
        if key == "bad":
            raise RuntimeError("boom")
        done.append(key)

    queue: Coalescing[str] = Coalescing(work, name="warm", capacity=8)
    with caplog.at_level(logging.ERROR):
        queue.ask("bad")
        queue.ask("good")
        await queue.idle()
    assert done == ["good"]
    assert (queue.done, queue.failed) == (1, 1)
    assert "warm of bad failed" in caplog.text
    queue.ask("bad")  # asked again: tried again
    await queue.idle()
    assert queue.failed == 2


async def test_close_drops_the_waiting_cancels_the_running_and_refuses_more() -> None:
    gate = Gate()
    queue: Coalescing[str] = Coalescing(gate.work, name="test", capacity=8, concurrency=1)
    queue.ask("a")
    queue.ask("b")
    await _settle()
    await queue.close()
    assert gate.started == ["a"]
    assert gate.running == set(), "the running one was cancelled"
    assert not queue.busy
    assert not queue.ask("c")
    await _settle()
    assert gate.started == ["a"]
    assert [t for t in asyncio.all_tasks() if t.get_name() == "test"] == []


def test_capacity_and_concurrency_are_at_least_one() -> None:
    async def work(_key: str) -> None:
        return None

    with pytest.raises(ValueError, match="at least 1"):
        Coalescing(work, name="x", capacity=0)
    with pytest.raises(ValueError, match="at least 1"):
        Coalescing(work, name="x", capacity=1, concurrency=0)
