"""A reminder worker process for the multi-process tests (and the benchmark).

It runs the real :class:`~core.reminders.worker.ReminderWorker` (the tick as the only job of a
job runner, :mod:`core.jobs.runner`) against the given database, with two test-only parts:

* a **shared fake clock**: ``fake_now = epoch + (time.time() - real_start) * speed``, the same
  in every process started with the same arguments, so a minute of reminders passes in seconds;
* a **recording notifier** that appends ``<chat id>\\n`` to a file with one ``write(2)`` per
  nudge on an ``O_APPEND`` descriptor: what was handed to "the platform" survives a ``kill -9``.

Usage: ``python tests/support/reminder_worker_proc.py --db URL --out FILE --name NAME --epoch ISO
--real-start SECONDS --speed N [--tick S] [--batch N] [--lease S]``. Prints ``ready`` once the
runner runs; stops cleanly on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from collections.abc import Sequence
from datetime import datetime, timedelta

from core.db.engine import Database
from core.kernel.notify import SENT, DeliveryResult
from core.kernel.types import Outbound
from core.reminders.tick import ReminderTick, TickConfig
from core.reminders.worker import ReminderWorker


class FileNotifier:
    """Appends one line per nudge to a file (the "platform" of the tests)."""

    platform = "console"

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        assert replies, "a nudge is at least one message"
        assert replies[0].buttons, "a nudge always has buttons"
        os.write(self.fd, f"{chat_id}\n".encode())
        return SENT


async def main(args: argparse.Namespace) -> None:
    epoch = datetime.fromisoformat(args.epoch)

    def clock() -> datetime:
        return epoch + timedelta(seconds=(time.time() - args.real_start) * args.speed)

    db = Database(args.db, pool_size=2)
    config = TickConfig(batch_size=args.batch, lease=timedelta(seconds=args.lease))
    tick = ReminderTick(
        db, {"console": FileNotifier(args.out)}, clock=clock, config=config, worker=args.name
    )
    worker = ReminderWorker(tick, interval=args.tick)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await worker.start()
    print("ready", flush=True)
    try:
        await stop.wait()
    finally:
        await worker.stop()
        await db.dispose()
    print(f"sent {worker.totals.sent}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--epoch", required=True)
    parser.add_argument("--real-start", type=float, required=True)
    parser.add_argument("--speed", type=float, default=1.0)
    parser.add_argument("--tick", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--lease", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
