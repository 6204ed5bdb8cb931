"""Webhook mode: the real PTB application fed by our aiohttp webhook server, end to end.

Outgoing Bot API calls go to the loopback :class:`FakeTelegram`; incoming updates are POSTed
by the test to the webhook's local URL, as Telegram (through a load balancer) would.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aiohttp
import pytest
from coachkit import free_port, start_coach_run, stop_coach_run, synced_coach
from fakes.telegram_api import FakeTelegram

from bot.telegram.app import TelegramFrontEnd
from bot.telegram.webhook import MAX_BODY, SECRET_HEADER, TelegramWebhook
from core.admin import audit
from core.admin.audit import DenialThrottle, latest
from core.conversation.engine import Coach
from core.db.engine import Database
from core.errors import ConfigurationError, PlatformUnreachable

MAYA = 1001
SECRET = "s3cret-token"
PUBLIC = "https://bot.example.test"
#: Loggers of this project: none of them may log the secret, at any level.
OURS = ("bot.", "core.", "coach")


@dataclass
class Rig:
    """The fake API, the database, the webhook server and an HTTP client."""

    fake: FakeTelegram
    database: Database
    webhook: TelegramWebhook
    http: aiohttp.ClientSession

    async def post(
        self,
        update: dict[str, Any] | None = None,
        *,
        secret: str | None = SECRET,
        body: bytes | None = None,
    ) -> int:
        """POST an update (or a raw body) to the webhook; the HTTP status."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        data = body if body is not None else json.dumps(update).encode()
        async with self.http.post(self.webhook.url, data=data, headers=headers) as response:
            await response.read()
            return response.status

    async def idle(self) -> None:
        """Wait until every accepted update was processed (PTB marks each done afterwards)."""
        await asyncio.wait_for(self.webhook.front.application.update_queue.join(), 10)

    async def say(self, text: str, user: int = MAYA) -> dict[str, Any]:
        """Send ``text`` as the user through the webhook and wait for it to be handled."""
        update = self.fake.user_message(user, text)  # well-formed; the fake is never polled
        assert await self.post(update) == 200
        await self.idle()
        return update


@pytest.fixture
async def rig(database: Database, caplog: pytest.LogCaptureFixture) -> AsyncIterator[Rig]:
    caplog.set_level(logging.DEBUG)
    coach = await synced_coach(database)
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        webhook = TelegramWebhook(front, secret_token=SECRET, port=0, public_url=PUBLIC)
        await webhook.start()
        try:
            yield Rig(fake, database, webhook, http)
        finally:
            await webhook.stop()


def _no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    """The secret is in no record of ours (any level) and in no INFO+ record of anyone."""
    records = [r for phase in ("setup", "call") for r in caplog.get_records(phase)]
    assert records, "logs were captured"
    for r in records:
        if r.name.startswith(OURS) or r.levelno >= logging.INFO:
            text = r.getMessage() + (r.exc_text or "")
            assert SECRET not in text, (r.name, r.levelname, text)


async def test_start_and_name_are_handled(rig: Rig) -> None:
    assert rig.webhook.url.startswith("http://127.0.0.1:")
    assert not rig.webhook.url.endswith(":0/telegram")
    await rig.say("/start")
    assert "artist name" in rig.fake.last(MAYA).plain_text
    await rig.say("Maya")
    menu = rig.fake.last(MAYA)
    assert any("Indie" in label for label, _ in menu.buttons()), rig.fake.dump()


async def test_webhook_is_registered_with_the_secret(rig: Rig) -> None:
    [params] = rig.fake.calls_of("setWebhook")
    assert params["url"] == f"{PUBLIC}/telegram"
    assert params["secret_token"] == SECRET
    assert params["allowed_updates"] == ["message", "callback_query", "my_chat_member"]
    assert not params.get("drop_pending_updates")
    assert rig.fake.webhook_url == f"{PUBLIC}/telegram"
    assert rig.fake.commands, "the command menu is published too"
    await rig.webhook.stop()
    assert not rig.fake.calls_of("deleteWebhook"), "other workers keep serving the webhook"


@pytest.mark.parametrize(("secret", "reason"), [("wrong-token", "wrong"), (None, "missing")])
async def test_bad_secret_is_refused_and_audited(
    rig: Rig, caplog: pytest.LogCaptureFixture, secret: str | None, reason: str
) -> None:
    sent = len(rig.fake.sent)
    update = rig.fake.user_message(MAYA, "/start")
    assert await rig.post(update, secret=secret) == 403
    await rig.idle()
    assert len(rig.fake.sent) == sent == 0, "nothing was handled"

    [entry] = await latest(rig.database)
    assert entry.action == "webhook.secret_mismatch"
    assert entry.outcome == "denied"
    assert entry.actor == "telegram-webhook:127.0.0.1"
    assert entry.details == {"reason": reason}
    assert SECRET not in repr(entry)
    if secret:
        assert secret not in repr(entry), "the presented value is never stored"
    _no_secret_in_logs(caplog)


async def test_every_refusal_gets_a_row(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each refusal's reason, one row each (the per-address cap on repeats, tested below, off)."""
    monkeypatch.setattr(audit, "DENIALS", DenialThrottle(window=0))
    update = rig.fake.user_message(MAYA, "/start")
    near_misses = {"not-it": "wrong", "": "missing", SECRET + "x": "wrong", SECRET[:-1]: "wrong"}
    for presented in near_misses:
        assert await rig.post(update, secret=presented) == 403
    async with rig.http.post(
        rig.webhook.url,
        data=json.dumps(update),
        headers=[(SECRET_HEADER, SECRET), (SECRET_HEADER, "other")],
    ) as response:
        assert response.status == 403, "two secret headers are refused"
    await rig.idle()
    assert rig.fake.sent == []
    entries = await latest(rig.database)
    assert [e.details["reason"] for e in reversed(entries)] == [*near_misses.values(), "wrong"]
    assert {(e.action, e.outcome) for e in entries} == {("webhook.secret_mismatch", "denied")}
    for entry in entries:
        assert SECRET not in repr(entry)
        assert "not-it" not in repr(entry)
    # the right secret still works afterwards
    await rig.say("/start")
    assert "artist name" in rig.fake.last(MAYA).plain_text
    _no_secret_in_logs(caplog)


async def test_same_update_twice_is_handled_once(rig: Rig) -> None:
    first = await rig.say("/start")
    await rig.say("Maya")
    after_once = len(rig.fake.sent)
    assert after_once >= 2
    assert await rig.post(first) == 200  # Telegram's redelivery after a timeout
    await rig.idle()
    assert len(rig.fake.sent) == after_once, "a redelivered update gets no second reply"

    update = rig.fake.user_message(MAYA, "/progress")
    statuses = await asyncio.gather(rig.post(update), rig.post(update))
    assert list(statuses) == [200, 200]
    await rig.idle()
    assert len(rig.fake.sent) == after_once + 1, rig.fake.dump()


async def test_bad_requests(rig: Rig) -> None:
    assert await rig.post(body=b"{not json") == 400
    assert await rig.post(body=b"\xff\xfe") == 400
    assert await rig.post(body=b"[1, 2]") == 400
    assert await rig.post(body=b'{"message": {}}') == 400  # no update_id
    assert await rig.post(body=b'{"update_id": 7, "message": {"text": 1}}') == 400
    too_big = b"{" + b" " * MAX_BODY + b"}"
    headers = {SECRET_HEADER: SECRET}
    async with rig.http.post(rig.webhook.url, data=io.BytesIO(too_big), headers=headers) as r:
        assert r.status == 413  # refused on Content-Length, before reading

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(too_big), 64 * 1024):
            yield too_big[start : start + 64 * 1024]

    async with rig.http.post(rig.webhook.url, data=chunks(), headers=headers) as r:
        assert r.status == 413  # chunked, no Content-Length: refused while reading
    async with rig.http.get(rig.webhook.url) as response:
        assert response.status == 405
    async with rig.http.post(rig.webhook.url + "/elsewhere", data=b"{}") as response:
        assert response.status == 404
    await rig.idle()
    assert rig.fake.sent == []
    assert await latest(rig.database) == [], "only secret mismatches are audited"


async def test_denial_audits_are_capped(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The webhook's own cap across addresses (the per-address cap on repeats off)."""
    monkeypatch.setattr(audit, "DENIALS", DenialThrottle(window=0))
    coach = await synced_coach(database)
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        webhook = TelegramWebhook(front, secret_token=SECRET, port=0, denial_audits_per_minute=2)
        await webhook.start()
        try:
            for _ in range(4):
                async with http.post(webhook.url, data=b"{}") as response:
                    assert response.status == 403
        finally:
            await webhook.stop()
        assert not fake.calls_of("setWebhook"), "no public URL, nothing registered"
    assert len(await latest(database)) == 2


async def test_one_address_refused_again_and_again_is_one_row_a_minute(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Repeats from one address are counted, not written, and don't use up the minute's
    budget for other addresses; the count arrives with the address's next row."""
    now = [0.0]
    monkeypatch.setattr(audit, "DENIALS", DenialThrottle(clock=lambda: now[0]))
    update = rig.fake.user_message(MAYA, "/start")
    for _ in range(70):  # more than the webhook's 60 rows a minute
        assert await rig.post(update, secret="wrong-token") == 403
    await rig.idle()
    [entry] = await latest(rig.database)
    assert entry.details == {"reason": "wrong"}
    now[0] += audit.DENIAL_WINDOW
    assert await rig.post(update, secret=None) == 403
    await rig.idle()
    newest = (await latest(rig.database))[0]
    assert newest.details == {"reason": "missing", audit.SUPPRESSED: 69}


async def test_start_while_telegram_is_unreachable_can_be_tried_again(
    database: Database,
) -> None:
    """Telegram down at start: PlatformUnreachable, nothing left listening; once Telegram
    answers, the next start() registers and serves. A refused token is a plain message."""
    coach = await synced_coach(database)
    port = free_port()
    fake = FakeTelegram()
    front = TelegramFrontEnd(coach, fake.token, api_base_url=f"http://127.0.0.1:{port}")
    webhook = TelegramWebhook(front, secret_token=SECRET, port=0, public_url=PUBLIC)
    with pytest.raises(PlatformUnreachable, match="Telegram could not be reached"):
        await webhook.start()
    await fake.start(port=port)
    try:
        async with aiohttp.ClientSession() as http:
            await webhook.start()
            try:
                rig = Rig(fake, database, webhook, http)
                await rig.say("/start")
                assert "artist name" in fake.last(MAYA).plain_text
                assert fake.webhook_url == f"{PUBLIC}/telegram"
            finally:
                await webhook.stop()
        wrong = TelegramFrontEnd(coach, "999:not-the-token", api_base_url=fake.url)
        refused = TelegramWebhook(wrong, secret_token=SECRET, port=0)
        with pytest.raises(ConfigurationError, match="Telegram refused") as caught:
            await refused.start()
        assert "not-the-token" not in str(caught.value)
        assert caught.value.__suppress_context__, "PTB's error (quoting the token) is not chained"
        await refused.stop()
    finally:
        await fake.stop()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"secret_token": ""}, "secret token"),
        ({"secret_token": "x" * 257}, "secret token"),
        ({"secret_token": "has space"}, "secret token"),
        ({"secret_token": "émoji"}, "secret token"),
        ({"secret_token": SECRET, "path": "telegram"}, "path"),
        ({"secret_token": SECRET, "port": 70000}, "port"),
        ({"secret_token": SECRET, "public_url": "http://bot.example.test"}, "https"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], message: str) -> None:
    front = TelegramFrontEnd(cast(Coach, None), "123456:TEST-TOKEN")
    with pytest.raises(ValueError, match=message):
        TelegramWebhook(front, **kwargs)


def test_longest_allowed_secret_is_accepted() -> None:
    front = TelegramFrontEnd(cast(Coach, None), "123456:TEST-TOKEN")
    webhook = TelegramWebhook(front, secret_token="A-z_9" * 51 + "x", public_url=PUBLIC + "/")
    assert webhook.webhook_url == f"{PUBLIC}/telegram"
    with pytest.raises(RuntimeError):
        _ = webhook.url


async def test_coach_run_in_webhook_mode(database: Database, tmp_path: Path) -> None:
    """`coach run --telegram-webhook`: registers the webhook, serves POSTed updates, stops."""
    secret = "a-long-enough-webhook-secret"
    async with FakeTelegram() as fake:
        process = await start_coach_run(
            database,
            tmp_path,
            "--telegram-webhook",
            env={
                "TELEGRAM_BOT_TOKEN": fake.token,
                "TELEGRAM_API_BASE_URL": fake.url,
                "TELEGRAM_WEBHOOK_SECRET": secret,
                "TELEGRAM_WEBHOOK_URL": "https://bot.example.test",
                "TELEGRAM_WEBHOOK_PORT": "0",
            },
        )
        assert process.stderr is not None
        try:
            listening = ""
            while "webhook listening on" not in listening:
                line = await asyncio.wait_for(process.stderr.readline(), timeout=60)
                assert line, "coach run exited before listening"
                listening = line.decode()
            hook = listening.rsplit("webhook listening on ", 1)[1].strip()
            update = fake.user_message(4242, "/start")
            async with aiohttp.ClientSession() as http:
                response = await http.post(
                    hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
                )
                assert response.status == 200
            await fake.wait_for(lambda: bool(fake.messages(4242)), timeout=30)
            assert "artist name" in fake.last(4242).plain_text
            assert fake.calls_of("setWebhook")
        finally:
            log = await stop_coach_run(process)
        assert process.returncode == 0, log[-2000:]
        assert secret not in log
        assert fake.token not in log
