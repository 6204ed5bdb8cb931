"""``kill -9`` inside the window where Telegram has forgotten a batch the bot has not handled.

Telegram forgets every update before the ``offset`` of a ``getUpdates`` call. The fake Bot API
calls :attr:`~fakes.telegram_api.FakeTelegram.on_confirm` the moment such a call arrives —
before answering it — and these tests ``SIGKILL`` the bot's process right there (no test hook
in the bot). To make sure the handlers have not finished by then, the test holds a lock on
``processed_updates`` that every handler's transaction needs: at the kill, the whole batch is
confirmed to Telegram and none of it is handled. That is the window.

* With python-telegram-bot's own ``Updater`` (a bare application,
  ``tests/support/ptb_polling_proc.py``) the batch is gone: Telegram never sends it again and
  the restarted bot never sees it.
* ``coach run`` writes each batch to the inbox before it confirms it: after the restart every
  update is handled, exactly once (each update toggles a checklist item, so a lost one leaves
  it unticked and a doubled one unticks it again), and the inbox is empty.
* A button press whose card edit died with the process: the tick is stored, the card is stale;
  the next press on the card shows both ticks.
* Webhook mode: a worker killed after answering Telegram's push with 200 but before handling
  the update leaves it in the inbox, leased to itself; once the lease runs out, the next
  worker's sweep handles it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from coachkit import start_coach_run, stop_coach_run
from fakes.telegram_api import FakeTelegram, SentMessage
from sqlalchemy.engine import make_url

from core.db.engine import Database

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

PLAIN_PTB = Path(__file__).resolve().parents[1] / "support" / "ptb_polling_proc.py"
#: Seconds each update takes the bare PTB application (``WORK`` in ptb_polling_proc.py).
PLAIN_PTB_WORK = 1.0
#: Musicians in the batch; each sends three updates: one getUpdates batch (≤ 100).
USERS = 30
FIRST_USER = 5000
#: The first task of the Indie roadmap and the keys of its items 1-3.
TASK = "iss-artist-identity"
ITEMS = ["name-search", "handles", "one-liner"]
#: Seconds a restarted bot gets to show it handles nothing more.
GRACE = 2.0


def _dsn(db: Database) -> str:
    return make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Bot:
    """``coach run`` as a process of this test, with what it needs to be started again."""

    database: Database
    tmp: Path
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await start_coach_run(self.database, self.tmp, env=self.env)

    async def killed(self) -> int:
        """Wait for the process to end (killed by the fake's hook); its exit status."""
        assert self.process is not None
        await asyncio.wait_for(self.process.communicate(), timeout=60)
        assert self.process.returncode is not None
        return self.process.returncode

    async def stop(self) -> str:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return ""
        return await stop_coach_run(process)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(database: Database, tmp_path: Path, fake: FakeTelegram) -> AsyncIterator[Bot]:
    env = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.url,
        "REMINDERS_ENABLED": "false",  # nothing else touches processed_updates meanwhile
        "COACH_RATE_LIMIT": "off",
    }
    running = Bot(database, tmp_path, env)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


def _kill_on_confirm(fake: FakeTelegram, pid: int, batch: set[int]) -> None:
    """SIGKILL ``pid`` the moment a getUpdates confirms updates of ``batch``."""

    def confirmed(ids: list[int]) -> None:
        if batch & set(ids):
            fake.on_confirm = None
            os.kill(pid, signal.SIGKILL)  # the bot's process, started by this test

    fake.on_confirm = confirmed


async def _onboard(fake: FakeTelegram, users: list[int]) -> None:
    """/start, a name and the Indie roadmap for every user, all at once."""
    for step, text in enumerate(("/start", "Artist")):
        for user in users:
            fake.user_message(user, text)
        await fake.wait_for(
            lambda n=step + 1: all(len(fake.messages(u)) >= n for u in users), timeout=60
        )
    for user in users:
        menu = fake.last(user)
        data = next(d for label, d in menu.buttons() if "Indie" in label)
        fake.press_button(user, menu.message_id, data)
    await fake.wait_for(
        lambda: all("Stage 1" in fake.last(u).plain_text for u in users), timeout=60
    )


class Locked:
    """A transaction of this test holding ``LOCK processed_updates IN SHARE MODE``: every
    handler's transaction (which records its update id there) waits until it ends."""

    def __init__(self, database: Database) -> None:
        self.dsn = _dsn(database)
        self.conn: Any = None
        self.tx: Any = None

    async def __aenter__(self) -> Locked:
        self.conn = await asyncpg.connect(self.dsn)
        self.tx = self.conn.transaction()
        await self.tx.start()
        await self.conn.execute("LOCK TABLE processed_updates IN SHARE MODE")
        return self

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        return list(await self.conn.fetch(query, *args))

    async def __aexit__(self, *exc: object) -> None:
        await self.tx.rollback()
        await self.conn.close()


async def _fetch(database: Database, query: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(_dsn(database))
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def _until(check: Callable[[], Any], timeout: float = 60) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not await check():  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.1)


async def test_killed_after_confirming_a_batch_the_coach_loses_nothing(
    bot: Bot, fake: FakeTelegram, database: Database
) -> None:
    users = [FIRST_USER + i for i in range(USERS)]
    await _onboard(fake, users)
    before = {u: len(fake.messages(u)) for u in users}
    assert bot.process is not None

    async with Locked(database) as lock:
        batch = [fake.user_message(u, str(n))["update_id"] for u in users for n in (1, 2, 3)]
        _kill_on_confirm(fake, bot.process.pid, set(batch))
        assert await bot.killed() == -signal.SIGKILL
        # inside the window: Telegram has forgotten the batch, nothing of it is handled ...
        assert fake.pending_updates == []
        handled = await lock.fetch(
            "SELECT update_id FROM processed_updates WHERE update_id = ANY($1::text[])",
            [str(i) for i in batch],
        )
        assert handled == [], "the kill came before the handlers' commits"
        # ... and all of it is written down (with, maybe, onboarding updates handled in the
        # last moments, whose rows were not deleted yet: handed over again, they change nothing)
        held = await lock.fetch("SELECT update_id FROM inbox_updates")
        assert set(batch) <= {r["update_id"] for r in held}

    await bot.start()  # the restart hands the inbox to the handlers first
    await fake.wait_for(
        lambda: all(len(fake.messages(u)) >= before[u] + 3 for u in users), timeout=90
    )

    async def drained() -> bool:
        return not await _fetch(database, "SELECT 1 FROM inbox_updates")

    await _until(drained)
    await asyncio.sleep(GRACE)  # nothing more arrives: no update was handled twice
    assert {u: len(fake.messages(u)) - before[u] for u in users} == dict.fromkeys(users, 3)
    handled = await _fetch(
        database,
        "SELECT update_id FROM processed_updates WHERE update_id = ANY($1::text[])",
        [str(i) for i in batch],
    )
    assert sorted(int(r["update_id"]) for r in handled) == sorted(batch)
    ticked = await _fetch(
        database,
        "SELECT i.external_id, p.task_data -> 'ticked' AS ticked FROM user_task_progress p "
        "JOIN tasks t ON t.id = p.task_id JOIN profiles f ON f.id = p.profile_id "
        "JOIN identities i ON i.user_id = f.user_id WHERE t.slug = $1",
        TASK,
    )
    assert {r["external_id"]: sorted(_json(r["ticked"])) for r in ticked} == {
        str(u): sorted(ITEMS) for u in users
    }, "each toggle applied exactly once: a lost one leaves an item unticked, a double one too"
    log = await bot.stop()
    assert "left in the inbox taken over" in log


def _json(value: Any) -> Any:
    import json  # noqa: PLC0415

    return json.loads(value) if isinstance(value, str) else value


async def test_killed_in_the_same_window_plain_ptb_loses_the_batch(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    """The demonstration: PTB's own Updater has confirmed the batch before its handlers ran,
    so after a kill -9 there and a restart the updates are gone for good."""
    record = tmp_path / "handled.txt"
    record.touch()

    async def start() -> asyncio.subprocess.Process:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(PLAIN_PTB),
            fake.url,
            fake.token,
            str(record),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        polls = len(fake.calls_of("getUpdates"))
        await fake.wait_for(lambda: len(fake.calls_of("getUpdates")) > polls, timeout=60)
        return process

    process = await start()
    try:
        batch = [fake.user_message(FIRST_USER + i, "hello")["update_id"] for i in range(20)]
        _kill_on_confirm(fake, process.pid, set(batch))
        await asyncio.wait_for(process.wait(), timeout=60)
        assert process.returncode == -signal.SIGKILL
        assert fake.pending_updates == [], "confirmed: Telegram forgot the batch"
        assert record.read_text() == "", "killed before any handler finished"
    finally:
        if process.returncode is None:
            process.kill()  # ours, by pid
            await process.wait()

    process = await start()  # the restart
    try:
        await asyncio.sleep(GRACE + 2 * PLAIN_PTB_WORK)
        assert record.read_text() == "", "the batch never comes back: all 20 updates lost"
    finally:
        process.kill()
        await process.wait()


async def test_a_card_edit_lost_to_a_crash_catches_up_on_the_next_press(
    bot: Bot, fake: FakeTelegram
) -> None:
    user = FIRST_USER
    await _onboard(fake, [user])
    card = fake.last(user)
    assert bot.process is not None
    pid = bot.process.pid

    def edit_kills(method: str, _params: dict[str, Any]) -> bool:
        if method != "editMessageText":
            return False
        fake.on_call = None
        os.kill(pid, signal.SIGKILL)  # the bot's process, started by this test
        return True  # the edit never happens

    fake.on_call = edit_kills
    fake.press_button(user, card.message_id, _button(card, "☐ 1."))
    assert await bot.killed() == -signal.SIGKILL
    stale = fake.last(user)
    assert "☐ 1." in stale.plain_text, "the tick's card edit died with the process"

    await bot.start()  # the press is handled again from the inbox: already recorded, no reply
    edits = len(fake.edits)
    fake.press_button(user, stale.message_id, _button(stale, "☐ 2."))
    await fake.wait_for(lambda: len(fake.edits) > edits, timeout=60)
    now = fake.last(user)
    assert now.message_id == card.message_id
    assert "☑ 1." in now.plain_text, fake.dump()
    assert "☑ 2." in now.plain_text, fake.dump()


def _button(message: SentMessage, label: str) -> str:
    return next(data for text, data in message.buttons() if label in text)


async def _webhook_worker(
    database: Database, tmp: Path, fake: FakeTelegram, secret: str
) -> tuple[asyncio.subprocess.Process, str]:
    """``coach run --telegram-webhook`` on a free port; the process and its local URL."""
    env = {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.url,
        "TELEGRAM_WEBHOOK_SECRET": secret,
        "TELEGRAM_WEBHOOK_PORT": "0",
        "TELEGRAM_INBOX_LEASE_SECONDS": "5",
        "REMINDERS_ENABLED": "false",
    }
    process = await start_coach_run(database, tmp, "--telegram-webhook", env=env)
    assert process.stderr is not None
    line = ""
    while "webhook listening on" not in line:
        raw = await asyncio.wait_for(process.stderr.readline(), timeout=60)
        assert raw, "coach run exited before listening"
        line = raw.decode()
    return process, line.rsplit("webhook listening on ", 1)[1].strip()


async def test_a_webhook_worker_killed_after_answering_leaves_nothing_behind(
    database: Database, fake: FakeTelegram, tmp_path: Path
) -> None:
    secret = "a-long-enough-webhook-secret"
    user = FIRST_USER
    first, url = await _webhook_worker(database, tmp_path, fake, secret)
    try:
        async with Locked(database) as lock:
            fake.deliver_by_webhook(url, secret=secret)
            update = fake.user_message(user, "/start")
            await fake.wait_for(lambda: (update["update_id"], 200) in fake.webhook_attempts)
            await fake.stop_webhook_delivery()
            os.kill(first.pid, signal.SIGKILL)  # ours: answered 200, handler still waiting
            await asyncio.wait_for(first.communicate(), timeout=60)
            assert fake.pending_updates == [], "Telegram has it as delivered"
            assert fake.messages(user) == []
            held = await lock.fetch("SELECT update_id, claimed_by FROM inbox_updates")
            assert [r["update_id"] for r in held] == [update["update_id"]]
    finally:
        if first.returncode is None:
            os.kill(first.pid, signal.SIGKILL)
            await first.wait()

    second, _url = await _webhook_worker(database, tmp_path / "second", fake, secret)
    try:
        await fake.wait_for(lambda: bool(fake.messages(user)), timeout=60)

        async def drained() -> bool:
            return not await _fetch(database, "SELECT 1 FROM inbox_updates")

        await _until(drained)
        await asyncio.sleep(GRACE)
        texts = [m.plain_text for m in fake.messages(user)]
        assert len(texts) == 1, fake.dump()
        assert "artist name" in texts[0]
    finally:
        log = await stop_coach_run(second)
    assert "left in the inbox taken over" in log
