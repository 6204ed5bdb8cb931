"""One ``coach run`` process serving Telegram AND Discord at once, as a deployment with both
tokens runs it: two musicians chat (one per platform), an admin's broadcast reaches each of
them exactly once on their own platform, due nudges go out through the right front end, and
SIGTERM stops everything cleanly without either token in the log.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from coachkit import free_port, start_coach_run, stop_coach_run
from fakes.discord_api import FakeDiscord, FakeMessage
from fakes.telegram_api import FakeTelegram, SentMessage
from sqlalchemy import select, update
from watchkit import get_json, until_json

from core.db.engine import Database
from core.db.models import Delivery, Identity, Reminder

MAYA = 1001  # a musician on Telegram
BOSS = 1002  # the admin, also on Telegram
ANA = 100_000_000_000_000_001  # a musician in Discord DMs
BROADCAST = "Gig at the Venue on Friday"


def _discord_with_buttons(fake: FakeDiscord, label: str) -> FakeMessage:
    for message in reversed(fake.dm_messages(ANA)):
        if any(label.casefold() in b.casefold() for b, _ in message.buttons()):
            return message
    raise AssertionError(f"no DM with a {label!r} button: {fake.dm_messages(ANA)}")


async def _recorded_nudges(database: Database, *, count: int) -> list[tuple[str, str, str]]:
    """(platform, chat, status) of the schedule nudges, once ``count`` are recorded."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        async with database.transaction() as session:
            rows = (
                await session.execute(
                    select(Delivery.platform, Delivery.target_chat, Delivery.status).where(
                        Delivery.kind == "schedule"
                    )
                )
            ).all()
        if len(rows) >= count or asyncio.get_running_loop().time() > deadline:
            return sorted((r.platform, r.target_chat, r.status) for r in rows)
        await asyncio.sleep(0.05)


async def _failed_broadcast(database: Database, chat: str) -> tuple[str, str]:
    """(status, last error) of the broadcast delivery to ``chat`` once an attempt failed."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        async with database.transaction() as session:
            row = (
                await session.execute(
                    select(Delivery.status, Delivery.last_error).where(
                        Delivery.kind == "broadcast",
                        Delivery.target_chat == chat,
                        Delivery.last_error.is_not(None),
                        # not an earlier broadcast that failed once and then went through
                        Delivery.status != "sent",
                    )
                )
            ).first()
        if row is not None:
            return row.status, row.last_error
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no failed broadcast delivery to {chat}")
        await asyncio.sleep(0.05)


@pytest.mark.postgres_only
async def test_one_process_serves_telegram_and_discord(database: Database, tmp_path: Path) -> None:
    async with FakeTelegram() as tg, FakeDiscord() as dc:
        dc.add_user(ANA, "Ana")
        env = {
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_BASE_URL": tg.url,
            "DISCORD_BOT_TOKEN": dc.token,
            "DISCORD_API_BASE_URL": dc.api_base,
            "COACH_ADMINS": f"telegram:{BOSS}",
            "REMINDER_TICK_SECONDS": "0.2",
            "HEALTH_PORT": str(health := free_port()),
        }
        readyz = f"http://127.0.0.1:{health}/readyz"
        process = await start_coach_run(database, tmp_path, env=env)
        try:
            await dc.wait_for(lambda: dc.identifies == 1, timeout=30)

            async def tg_say(chat: int, text: str) -> SentMessage:
                before = len(tg.messages(chat))
                tg.user_message(chat, text)
                await tg.wait_for(lambda: len(tg.messages(chat)) > before, timeout=30)
                return tg.last(chat)

            async def tg_press(chat: int, label: str) -> SentMessage:
                message = tg.last(chat)
                data = next(d for text, d in message.buttons() if label in text)
                before = len(tg.messages(chat)), len(tg.edits)
                tg.press_button(chat, message.message_id, data)
                await tg.wait_for(
                    lambda: (len(tg.messages(chat)), len(tg.edits)) != before, timeout=10
                )
                return tg.last(chat)

            async def dc_say(text: str) -> str:
                before = len(dc.dm_messages(ANA))
                dc.dm_message(ANA, text)
                await dc.wait_for(lambda: len(dc.dm_messages(ANA)) > before, timeout=10)
                return dc.dm_messages(ANA)[-1].text()

            # both musicians chat at the same time: /start → name → roadmap
            assert "artist name" in (await tg_say(MAYA, "/start")).plain_text
            assert "artist name" in await dc_say("/start")
            await tg_say(MAYA, "Maya")
            await dc_say("Ana")
            assert "You're on" in (await tg_press(MAYA, "Indie")).plain_text
            menu = _discord_with_buttons(dc, "Indie")
            iid = dc.press_button(ANA, menu, menu.button("Indie"))
            await dc.wait_for(lambda: dc.interaction(iid).acked, timeout=10)
            assert "You're on" in dc.interaction(iid).texts()

            # the admin (not a musician himself) broadcasts from Telegram: preview, confirm
            preview = await tg_say(BOSS, f"/admin broadcast {BROADCAST}")
            assert "to 2 musicians" in preview.plain_text, preview.plain_text
            await tg_press(BOSS, "Send to 2")
            await tg.wait_for(lambda: "Broadcast finished" in tg.last(BOSS).plain_text, timeout=15)
            assert "2 sent, 0 skipped, 0 failed" in tg.last(BOSS).plain_text
            received = f"📣 {BROADCAST}"  # as musicians get it (the admin's preview says more)
            on_telegram = Counter(m.chat_id for m in tg.sent if m.plain_text.startswith(received))
            assert on_telegram == {MAYA: 1}
            on_discord = [m for m in dc.dm_messages(ANA) if m.text().startswith(received)]
            assert len(on_discord) == 1, [m.text() for m in dc.dm_messages(ANA)]

            # a daily nudge for each musician, made due now (the process runs on the real clock)
            assert "every day at 18:00" in (await tg_say(MAYA, "/remind daily 18:00")).plain_text
            assert "every day at 18:00" in await dc_say("/remind daily 18:00")
            async with database.transaction() as session:
                await session.execute(
                    update(Reminder)
                    .where(Reminder.kind == "schedule")
                    .values(next_due_at=datetime.now(UTC) - timedelta(seconds=1))
                )
            # any message of theirs, not just the last: the nudge may land between the two
            # messages of an earlier reply (the tick runs every 0.2 s, replies are not atomic)
            await tg.wait_for(
                lambda: any("Time for your music, Maya" in m.plain_text for m in tg.messages(MAYA)),
                timeout=10,
            )
            try:
                await dc.wait_for(
                    lambda: any(
                        "Time for your music, Ana" in m.text() for m in dc.dm_messages(ANA)
                    ),
                    timeout=10,
                )
            except AssertionError:
                raise AssertionError([m.text()[:80] for m in dc.dm_messages(ANA)]) from None
            assert not any("Time for your music" in m.plain_text for m in tg.messages(BOSS))
            nudges = await _recorded_nudges(database, count=2)  # recorded just after the sends
            assert nudges == [("discord", str(ANA), "sent"), ("telegram", str(MAYA), "sent")]
            async with database.transaction() as session:
                identities = (await session.execute(select(Identity.platform))).scalars().all()
            assert sorted(identities) == ["discord", "telegram"]

            # Discord goes away: Telegram keeps answering and gets the next broadcast at once
            # (the Discord musician's copy fails and waits for a retry)
            await dc.stop()
            assert "% overall" in (await tg_say(MAYA, "/progress")).plain_text
            # /readyz: Telegram serves, Discord's gateway is gone (discord.py reconnecting)
            checks = (
                await until_json(readyz, lambda s, b: s == 503 and b["checks"]["discord"] != "ok")
            )[1]["checks"]
            assert checks["discord"] == "gateway connection lost; reconnecting", checks
            assert checks["telegram"] == "ok", checks
            await tg_say(BOSS, "/admin broadcast Still on for Friday")
            await tg_press(BOSS, "Send to 2")
            await tg.wait_for(lambda: "Still on for Friday" in tg.last(MAYA).plain_text, timeout=10)
            status, error = await _failed_broadcast(database, str(ANA))
            assert status == "pending", "Ana's copy failed and waits for its retry"
            assert error.startswith("Client"), error  # aiohttp's ClientConnectorError or the like
        finally:
            stopping = time.monotonic()
            log = await stop_coach_run(process)
        assert process.returncode == 0, log[-3000:]
        # promptly, Discord down or not: well inside stop_coach_run's 30 s (seen: 1–6 s under load)
        assert time.monotonic() - stopping < 10, "SIGTERM stops it promptly, Discord down or not"
        assert "telegram: polling for updates" in log
        assert "discord: connected to the gateway" in log
        assert "Discord unreachable" in log
        # the only errors: discord.py's own "reconnecting" while the fake Discord is gone
        errors = [
            line
            for line in log.splitlines()
            if re.match(r"^\d{4}-\S+ \S+ (ERROR|CRITICAL) ", line)
            and "discord.client: Attempting a reconnect" not in line
        ]
        assert errors == [], log[-3000:]
        assert "never retrieved" not in log
        assert tg.token not in log
        assert tg.token.split(":", 1)[1] not in log
        assert dc.token not in log


@pytest.mark.postgres_only
async def test_discord_down_at_start_does_not_keep_telegram_from_serving(
    database: Database, tmp_path: Path
) -> None:
    """Discord unreachable when coach run starts: Telegram serves at once, Discord is tried
    again in the background and serves as soon as it answers."""
    port = free_port()
    async with FakeTelegram() as tg:
        env = {
            "TELEGRAM_BOT_TOKEN": tg.token,
            "TELEGRAM_API_BASE_URL": tg.url,
            "DISCORD_BOT_TOKEN": FakeDiscord.token,
            "DISCORD_API_BASE_URL": f"http://127.0.0.1:{port}/api/v10",
            # however long start-up takes on a loaded machine, the next try is ≤ 1 s away
            "PLATFORM_RETRY_MAX_SECONDS": "1",
            "HEALTH_PORT": str(health := free_port()),
        }
        readyz = f"http://127.0.0.1:{health}/readyz"
        process = await start_coach_run(database, tmp_path, env=env)
        dc = FakeDiscord()
        try:
            tg.user_message(MAYA, "/start")
            await tg.wait_for(lambda: bool(tg.messages(MAYA)), timeout=30)
            assert "artist name" in tg.last(MAYA).plain_text
            status, body = await get_json(readyz)  # Telegram serves; Discord is not up
            assert status == 503, body
            assert body["checks"]["discord"] == "not connected to the gateway", body
            assert body["checks"]["telegram"] == "ok", body
            await dc.start(port=port)  # Discord is back
            dc.add_user(ANA, "Ana")
            await dc.wait_for(lambda: dc.identifies == 1, timeout=30)  # next retry: ≤ 1 s
            await dc.wait_for(lambda: dc.connected, timeout=5)
            dc.dm_message(ANA, "/start")
            await dc.wait_for(lambda: bool(dc.dm_messages(ANA)), timeout=10)
            assert "artist name" in dc.dm_messages(ANA)[-1].text()
            body = (await until_json(readyz, lambda s, _b: s == 200))[1]
            assert body["checks"]["discord"] == "ok", body
        finally:
            log = await stop_coach_run(process)
            await dc.stop()
    assert process.returncode == 0, log[-3000:]
    assert "discord: Discord could not be reached" in log
    assert "trying again in the background" in log
    assert "Traceback" not in log, log[-3000:]
    assert FakeDiscord.token not in log
