"""A bare python-telegram-bot application polled by PTB's own ``Updater`` — for the crash test.

    python tests/support/ptb_polling_proc.py API_URL TOKEN RECORD_FILE

``tests/e2e/test_telegram_crash.py`` runs it against the fake Bot API to show the window the inbox
closes: PTB confirms a batch (the next ``getUpdates`` carries ``offset = last + 1``) as soon as
it has queued it, before any handler ran. Each update is "handled" by a short piece of work
(:data:`WORK` seconds, standing in for the coach's database transaction) and then recorded as
one line in RECORD_FILE (flushed and fsynced, so a ``kill -9`` loses nothing written).
"""

from __future__ import annotations

import asyncio
import os
import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler

#: Seconds of work per update before it counts as handled.
WORK = 1.0


def main() -> None:
    """Poll until killed."""
    api, token, record = sys.argv[1:4]

    async def handle(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await asyncio.sleep(WORK)
        with open(record, "a", encoding="utf-8") as out:  # noqa: ASYNC230 - tiny, and fsynced
            out.write(f"{update.update_id}\n")
            out.flush()
            os.fsync(out.fileno())

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .concurrent_updates(32)
        .build()
    )
    application.add_handler(TypeHandler(Update, handle))
    application.run_polling(timeout=1, poll_interval=0.0, allowed_updates=["message"])


if __name__ == "__main__":
    main()
