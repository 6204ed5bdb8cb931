"""A test driver for the coach: push messages and button presses, read the replies.

Modelled on errbot's ``testbot.push_message``/``pop_message``: tests talk to the real core
through ``handle()`` exactly as a front end does, with a real database underneath.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from core.app.engine import Coach
from core.db.engine import Database
from core.kernel.markup import to_plain
from core.kernel.types import Button, Inbound, Outbound
from core.progress.parsing import example_answer
from core.roadmaps.catalog import Catalog, load_catalog
from core.roadmaps.sync import sync_roadmaps
from support.memory import bundled_roadmaps

_update_ids = itertools.count(1)
ROOT = Path(__file__).resolve().parents[2]


async def run_coach(
    *args: str, stdin: str = "", cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``coach ARGS`` as a person runs it (no DATABASE_URL or Telegram settings inherited;
    ``env`` is added)."""
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("TELEGRAM_")
    } | (env or {})
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or ROOT,
        env=env,
        check=False,
    )


async def synced_coach(database: Database, **kw: Any) -> Coach:
    """A coach over ``database`` with the bundled roadmaps synced in (``kw``: ``Coach``'s own,
    e.g. ``clock=`` — the clock is injected here, once; it cannot be swapped later)."""
    async with database.transaction() as session:
        await sync_roadmaps(session, list(bundled_roadmaps()))
    return Coach(database, **kw)


async def catalog_of(database: Database) -> Catalog:
    """The catalog as stored in the database."""
    async with database.transaction() as session:
        return await load_catalog(session)


class Driver:
    """One musician talking to the coach."""

    def __init__(
        self,
        coach: Coach,
        user: str = "maya",
        platform: str = "console",
        *,
        locale: str | None = None,
    ) -> None:
        self.coach = coach
        self.user = user
        self.platform = platform
        #: The language the platform reports with every event (Telegram's ``language_code``);
        #: ``None``: it says nothing, like the terminal.
        self.locale = locale
        self.replies: list[Outbound] = []
        self.buttons: list[Button] = []

    async def _push(self, inbound: Inbound) -> list[Outbound]:
        replies = await self.coach.handle(inbound)
        self.replies = replies
        for reply in replies:
            if reply.buttons:
                self.buttons = reply.all_buttons()
        return replies

    def inbound(self, **kw: Any) -> Inbound:
        """An inbound event from this musician."""
        base: dict[str, Any] = {
            "platform": self.platform,
            "user_id": self.user,
            "chat_id": self.user,
        }
        if self.locale is not None:
            base["locale"] = self.locale
        base.update(kw)
        return Inbound(**base)

    async def say(self, text: str, *, update_id: str | None = None) -> list[Outbound]:
        """Send a message (a command when it starts with a slash)."""
        kind = "command" if text.startswith("/") else "text"
        return await self._push(self.inbound(kind=kind, text=text, update_id=update_id))

    async def press_payload(self, payload: str, *, update_id: str | None = None) -> list[Outbound]:
        """Press a button by its payload."""
        return await self._push(
            self.inbound(kind="button", payload=payload, message_id="1", update_id=update_id)
        )

    def find(self, label_part: str) -> Button:
        """A button from the latest replies whose label contains ``label_part``."""
        for button in self.buttons:
            if label_part.casefold() in button.label.casefold():
                return button
        raise AssertionError(f"no button with {label_part!r} in {[b.label for b in self.buttons]}")

    async def press(self, label_part: str) -> list[Outbound]:
        """Press the button whose label contains ``label_part``."""
        return await self.press_payload(self.find(label_part).payload)

    @property
    def text(self) -> str:
        """All the latest replies as plain text."""
        return "\n".join(to_plain(r.text) for r in self.replies)

    async def onboard(self, name: str = "Maya", roadmap_name: str = "Indie") -> None:
        """``/start`` → artist name → pick a roadmap."""
        await self.say("/start")
        await self.say(name)
        await self.press(roadmap_name)


def next_update_id() -> str:
    """A fresh platform update id."""
    return str(next(_update_ids))


def valid_answer(catalog: Catalog, task_slug: str, today: date) -> str:
    """A raw answer that the parser accepts for this data-input task."""
    task = catalog.tasks_by_slug[task_slug]
    assert task.input is not None
    return example_answer(task.input, today=today)


async def count(database: Database, model: Any, *where: Any) -> int:
    """Rows of ``model`` matching ``where``."""
    async with database.transaction() as session:
        stmt = select(func.count()).select_from(model)
        for clause in where:
            stmt = stmt.where(clause)
        return int((await session.execute(stmt)).scalar_one())


async def start_coach_run(
    database: Database, tmp_path: Path, *args: str, env: dict[str, str]
) -> asyncio.subprocess.Process:
    """``coach run --migrate ARGS`` as a real process, on its own copy of the test database.

    SQLite tests get a fresh file (the fixture's file is open in this process); PostgreSQL
    tests use the per-run database. ``env`` is added to this process's environment.
    """
    url = f"sqlite+aiosqlite:///{tmp_path / 'run.db'}" if database.is_sqlite else database.url
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        "--db",
        url,
        "--migrate",
        *args,
        env={**base, "LOG_LEVEL": "INFO", **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_coach_run(process: asyncio.subprocess.Process) -> str:
    """SIGTERM the process we started, wait for it, and return its log (stderr)."""
    process.send_signal(signal.SIGTERM)
    _out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    log = err.decode()
    # pytest shows a test's captured stderr when it fails: the process's own story with it
    sys.stderr.write(f"--- coach run's log ---\n{log}--- end of coach run's log ---\n")
    return log


def free_port() -> int:
    """A loopback port with no listener (free a moment ago): a platform that is down, until a
    fake is started on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def at_a_checklist(driver: Driver) -> str:
    """Skip tasks until a checklist is the current task; its first tick button's payload."""
    await driver.say("/today")
    for _ in range(10):
        ticks = [b.payload for b in driver.buttons if b.payload.startswith("v1:tk:")]
        if ticks:
            return ticks[0]
        await driver.say("/skip")
    raise AssertionError("no checklist in the first ten tasks")
