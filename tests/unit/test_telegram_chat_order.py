"""``PerChatOrder`` (bot/telegram/app.py): one chat's updates in order, other chats alongside,
the cross-worker ``turn`` awaited first, and an update older than the chat's newest one here
(taken over from a dead worker) not queued behind it."""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from bot.telegram.app import PerChatOrder


def _update(update_id: int, chat: int) -> Update:
    data: dict[str, Any] = {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "M"},
            "text": "hi",
        },
    }
    return Update.de_json(data, None)


async def test_one_chat_in_order_and_the_turn_first() -> None:
    log: list[str] = []
    done: list[int] = []
    order = PerChatOrder(on_done=lambda u: done.append(u.update_id))  # type: ignore[attr-defined]

    async def turn(update: Update, chat: int) -> None:
        log.append(f"turn {update.update_id}")

    order.turn = turn
    gate = asyncio.Event()

    async def handle(n: int, wait: bool = False) -> None:
        log.append(f"start {n}")
        if wait:
            await gate.wait()
        log.append(f"end {n}")

    first = asyncio.create_task(order.process_update(_update(1, 7), handle(1, wait=True)))
    second = asyncio.create_task(order.process_update(_update(2, 7), handle(2)))
    other = asyncio.create_task(order.process_update(_update(3, 8), handle(3)))
    await asyncio.wait_for(other, 2)  # another chat is not held up
    assert "end 3" in log
    assert "start 2" not in log
    gate.set()
    await asyncio.wait_for(asyncio.gather(first, second), 2)
    mine = [e for e in log if e.endswith(("1", "2"))]
    assert mine == ["turn 1", "start 1", "end 1", "turn 2", "start 2", "end 2"]
    assert done == [3, 1, 2]


async def test_an_older_update_taken_over_runs_at_once() -> None:
    """Update 10 waits in its turn for update 5 of the same chat (held by a worker that died);
    this worker then takes 5 over. Queued behind 10, the two would wait for each other."""
    order = PerChatOrder()
    five_done = asyncio.Event()

    async def turn(update: Update, chat: int) -> None:
        if update.update_id == 10:
            await five_done.wait()

    order.turn = turn

    async def handle(n: int) -> None:
        if n == 5:
            five_done.set()

    newer = asyncio.create_task(order.process_update(_update(10, 7), handle(10)))
    await asyncio.sleep(0.01)
    older = asyncio.create_task(order.process_update(_update(5, 7), handle(5)))
    await asyncio.wait_for(asyncio.gather(newer, older), 2)


async def test_an_update_waiting_for_its_turn_holds_no_running_slot() -> None:
    """One running slot; chat 7's update waits for its turn (an older update in a dead
    worker): chat 8's update still runs."""
    order = PerChatOrder(max_concurrent_updates=1)
    release = asyncio.Event()

    async def turn(update: Update, chat: int) -> None:
        if chat == 7:
            await release.wait()

    order.turn = turn
    ran: list[int] = []

    async def handle(n: int) -> None:
        ran.append(n)

    held = asyncio.create_task(order.process_update(_update(1, 7), handle(1)))
    await asyncio.wait_for(order.process_update(_update(2, 8), handle(2)), 2)
    assert ran == [2]
    release.set()
    await asyncio.wait_for(held, 2)
    assert ran == [2, 1]
