"""A milestone consumer process for the multi-process tests.

It runs the real :class:`~core.coaching.milestones.consumer.MilestoneConsumer` as the only job
of a job runner (:mod:`core.jobs.runner`) against the given database, with a **recording
notifier** that appends ``<ns> <chat id> <first line of the text>\\n`` to a file with one
``write(2)`` per notice on an ``O_APPEND`` descriptor: what was handed to "the platform"
survives a ``kill -9``, and the nanosecond stamp orders one musician's notices across workers.
``--send-delay`` makes each send take that long, so a kill lands mid-batch.

Usage: ``python tests/support/milestone_worker_proc.py --db URL --out FILE [--tick S]
[--batch N] [--lease S] [--send-delay S]``. Prints ``ready`` once the runner runs; stops cleanly
on SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from core.coaching.milestones.consumer import ConsumerConfig, MilestoneConsumer
from core.db.engine import Database
from core.jobs.runner import JobRunner
from core.kernel.markup import to_plain
from core.kernel.notify import SENT, DeliveryResult
from core.kernel.types import Outbound


class FileNotifier:
    """Appends one line per notice to a file (the "platform" of the tests)."""

    platform = "console"

    def __init__(self, path: str, delay: float) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.delay = delay

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        assert replies, "a notice is at least one message"
        if self.delay:
            await asyncio.sleep(self.delay)
        first = to_plain(replies[0].text).splitlines()[0]
        os.write(self.fd, f"{time.time_ns()} {chat_id} {first}\n".encode())
        return SENT


def clock() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


async def main(args: argparse.Namespace) -> None:
    db = Database(args.db, pool_size=2)
    config = ConsumerConfig(batch_size=args.batch, lease=timedelta(seconds=args.lease))
    consumer = MilestoneConsumer(
        db,
        {"console": FileNotifier(args.out, args.send_delay)},
        clock=clock,
        config=config,
        interval=args.tick,
    )
    runner = JobRunner(clock=clock)
    runner.add(consumer.job())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await runner.start()
    print("ready", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.stop()
        await db.dispose()
    print(f"sent {consumer.totals.sent}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--tick", type=float, default=0.05)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--lease", type=float, default=20.0)
    parser.add_argument("--send-delay", type=float, default=0.0)
    asyncio.run(main(parser.parse_args()))
