"""Several ``coach run --telegram-webhook`` workers behind a round-robin proxy, fed by the fake
Telegram like Telegram feeds a webhook: the scale-out tests' and benchmark's rig (issue #16 §3).

:class:`WebhookFleet` starts the workers (real processes, ``workerkit``), the non-sticky
:class:`~rrproxy.RoundRobinProxy` in front of them, and the fake's webhook delivery (several
connections, one queue per chat, redeliveries injected). The journey helpers drive many
musicians at once and read what happened from the database: which updates were handled, in
which order (``processed_updates.processed_at``, written at the start of each update's turn).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import asyncpg
from coachkit import free_port
from fakes.telegram_api import FakeTelegram
from rrproxy import RoundRobinProxy
from sqlalchemy.engine import make_url
from workerkit import WorkerProcesses

from core.coaching.review.week import Slot, spread

SECRET = "scale-out-webhook-secret"
PATH = "/telegram"
#: The first musician's chat id; musician i chats from FIRST_CHAT + i.
FIRST_CHAT = 700_000
#: What every musician types at once after picking a roadmap (order matters: two skips, then
#: the progress they made; a reminder and a weekly review to deliver later).
BURST = ("/today", "/skip", "/skip", "/progress", "/remind daily 09:00", "/review monday 9:00")


def dsn(url: str) -> str:
    """An asyncpg DSN for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class WebhookFleet(WorkerProcesses):
    """``workers`` webhook workers on one database, a proxy in front, the fake pushing to it.

    Args:
        tmp: Where the workers' logs go (``<name>.stderr``).
        db_url: The database (migrated, roadmaps synced).
        fake: The running fake Telegram.
        workers: How many workers.
        lease: ``TELEGRAM_INBOX_LEASE_SECONDS`` (short, so a killed worker's rows come back fast).
        env: More settings for every worker.
    """

    def __init__(
        self,
        tmp: Path,
        db_url: str,
        fake: FakeTelegram,
        *,
        workers: int = 3,
        lease: float = 5.0,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(tmp)
        self.db_url, self.fake, self.lease = db_url, fake, lease
        self.ports = {f"w{i + 1}": free_port() for i in range(workers)}
        self.env = env or {}
        self.proxy = RoundRobinProxy([self.base(name) for name in self.ports])

    def base(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    async def start(self, name: str, as_name: str | None = None) -> None:
        """Start worker ``name`` (on its port), logging as ``as_name`` (a restart)."""
        env = {
            "TELEGRAM_BOT_TOKEN": self.fake.token,
            "TELEGRAM_API_BASE_URL": self.fake.url,
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.test",
            "TELEGRAM_WEBHOOK_PORT": str(self.ports[name]),
            "TELEGRAM_WEBHOOK_PATH": PATH,
            "TELEGRAM_INBOX_LEASE_SECONDS": str(self.lease),
            "DISCORD_BOT_TOKEN": "",
            **self.env,
        }
        await self.launch_coach_run(
            as_name or name,
            self.db_url,
            "--telegram-webhook",
            env=env,
            ready="webhook listening on",
        )

    async def __aenter__(self) -> Self:
        await self.proxy.__aenter__()
        try:
            await asyncio.gather(*(self.start(name) for name in self.ports))
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.fake.stop_webhook_delivery()
        try:
            await self.stop_all()
        finally:
            await self.proxy.__aexit__(*exc)

    def deliver(self, *, connections: int = 16, redeliver_every: int = 0) -> None:
        """Let the fake push its queued updates through the proxy, as Telegram would."""
        self.fake.deliver_by_webhook(
            self.proxy.url + PATH,
            secret=SECRET,
            retry_delay=0.05,
            connections=connections,
            redeliver_every=redeliver_every,
        )

    async def ready(self, name: str) -> tuple[int, Any]:
        """``/readyz`` of worker ``name`` (on its webhook listener): status and JSON body."""
        import aiohttp  # noqa: PLC0415 - only here

        async with aiohttp.ClientSession() as http, http.get(self.base(name) + "/readyz") as r:
            return r.status, await r.json()


# ----------------------------------------------------------------------------- the journey


def chats(n: int) -> list[int]:
    return [FIRST_CHAT + i for i in range(n)]


def type_all(fake: FakeTelegram, chat_ids: Iterable[int], texts: Iterable[str]) -> list[int]:
    """Every musician types ``texts`` one after the other without waiting; the update ids."""
    texts = list(texts)
    ids = []
    for chat in chat_ids:
        for text in texts:
            ids.append(int(fake.user_message(chat, text)["update_id"]))
    return ids


async def wait_until(predicate: Any, *, within: float, what: str, poll: float = 0.1) -> None:
    """Poll an async or plain predicate until true, or fail saying ``what``."""
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(poll)


async def handled(conn: asyncpg.Connection, update_ids: Iterable[int]) -> set[int]:
    """Which of ``update_ids`` are recorded as handled (``processed_updates``)."""
    rows = await conn.fetch(
        "SELECT update_id FROM processed_updates WHERE platform = 'telegram' "
        "AND update_id = ANY($1::text[])",
        [str(u) for u in update_ids],
    )
    return {int(r["update_id"]) for r in rows}


async def all_handled(conn: asyncpg.Connection, update_ids: list[int], within: float) -> None:
    want = set(update_ids)

    async def done() -> bool:
        return await handled(conn, want) == want

    await wait_until(done, within=within, what=f"{len(want)} updates to be handled", poll=0.2)


async def onboard(
    fleet: WebhookFleet, conn: asyncpg.Connection, chat_ids: list[int], within: float = 120
) -> None:
    """``/start`` and an artist name typed at once, then the Indie roadmap picked (each step
    within ``within`` seconds)."""
    fake = fleet.fake
    ids = type_all(fake, chat_ids, ["/start", "Artist"])
    await all_handled(conn, ids, within=within)

    def menu_of(chat: int) -> Any:
        return next(
            (m for m in reversed(fake.messages(chat)) if any("Indie" in b for b, _ in m.buttons())),
            None,
        )

    await wait_until(
        lambda: all(menu_of(c) is not None for c in chat_ids), within=within, what="roadmap menus"
    )
    picks = []
    for chat in chat_ids:
        menu = menu_of(chat)
        data = next(d for label, d in menu.buttons() if "Indie" in label)
        picks.append(int(fake.press_button(chat, menu.message_id, data)["update_id"]))
    await all_handled(conn, picks, within=within)


async def order_broken(conn: asyncpg.Connection, per_chat: dict[int, list[int]]) -> list[str]:
    """The chats whose updates did not start in ``update_id`` order (one line each)."""
    rows = await conn.fetch(
        "SELECT update_id, processed_at FROM processed_updates WHERE platform = 'telegram'"
    )
    started = {int(r["update_id"]): r["processed_at"] for r in rows}
    broken = []
    for chat, ids in per_chat.items():
        seq = [(started[u], u) for u in sorted(ids) if u in started]
        if [u for _, u in sorted(seq)] != [u for _, u in seq]:
            broken.append(f"chat {chat}: {sorted(seq)}")
    return broken


async def make_due(
    conn: asyncpg.Connection,
    targets: list[str],
    *,
    platform: str = "telegram",
    weekly: str = "review",
) -> int:
    """The reminders (``schedule``) and weekly messages (``weekly``: a musician's ``review``, a
    band's ``digest``) addressed to ``targets`` (``target_chat``) due now; how many rows.

    A reminder just comes due a minute ago. A weekly message is sent only at its slot (day and
    time, plus the profile's stable spread in the hour after: ``week.spread``), within its grace
    window: so its slot is moved to two minutes before now, less that spread.
    """
    now = datetime.now(UTC)
    status = await conn.execute(
        "UPDATE reminders SET next_due_at = $1 WHERE kind = 'schedule' "
        "AND platform = $2 AND target_chat = ANY($3::text[])",
        now - timedelta(minutes=1),
        platform,
        targets,
    )
    count = int(status.split()[-1])
    rows = await conn.fetch(
        "SELECT r.id, r.timezone, p.id AS profile_id FROM reminders r JOIN profiles p "
        "ON p.user_id = r.user_id OR p.band_id = r.band_id WHERE r.kind = $1 "
        "AND r.platform = $2 AND r.target_chat = ANY($3::text[])",
        weekly,
        platform,
        targets,
    )
    for row in rows:
        assert row["timezone"] == "UTC", row  # nobody set a time zone
        at = (now - spread(row["profile_id"]) - timedelta(minutes=2)).replace(
            second=0, microsecond=0
        )
        slot = Slot(at.weekday(), at.time())
        await conn.execute(
            "UPDATE reminders SET schedule = $2::jsonb, next_due_at = $3 WHERE id = $1",
            row["id"],
            json.dumps(slot.to_json()),
            now - timedelta(hours=2),
        )
    return count + len(rows)
