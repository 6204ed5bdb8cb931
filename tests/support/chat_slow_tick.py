"""``coach chat`` with a reminder tick that overruns, for ``tests/e2e/test_chat_logs.py``.

The real ``coach`` command (``bot.cli.main``) with one change: every reminder tick takes
``SLOW_TICK_SECONDS`` (default 3) — as a tick waiting on a stuck database would — so with a
short ``REMINDER_TICK_SECONDS`` the scheduler finds the previous tick still running many
times a second. Usage: ``python tests/support/chat_slow_tick.py chat --db URL --user NAME``.
"""

from __future__ import annotations

import asyncio
import os
import sys

from bot.cli import main
from core.reminders.tick import ReminderTick, TickReport


async def _slow_tick(self: ReminderTick) -> TickReport:
    await asyncio.sleep(float(os.environ.get("SLOW_TICK_SECONDS", "3")))
    return TickReport()


if __name__ == "__main__":
    ReminderTick.run = _slow_tick  # type: ignore[method-assign]
    sys.exit(main(sys.argv[1:]))
