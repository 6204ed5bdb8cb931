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
from typing import Any

import aiohttp
import pytest
from coachkit import free_port, start_coach_run, stop_coach_run, synced_coach
from fakes.telegram_api import FakeTelegram
from reminderkit import FakeClock
from sendkit import ManualTimer
from sqlalchemy import select, text

from bot.telegram.app import TelegramFrontEnd
from bot.telegram.proxies import client_address, parse_networks
from bot.telegram.webhook import MAX_BODY, MAX_DEPTH, SECRET_HEADER, TelegramWebhook
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Delivery
from core.errors import ConfigurationError, PlatformUnreachable
from core.inbox import DEFAULT_LEASE, Entry, Inbox
from core.kernel import audit
from core.kernel.audit import DenialThrottle, latest
from core.undelivered import KIND

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
    assert await rig.post(body=b'{"update_id": true, "message": {}}') == 400
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


async def test_stopping_a_webhook_worker_gives_up_its_parked_replies_as_polling_does(
    database: Database,
) -> None:
    """The webhook's stop is the front end's stop: a reply still waiting out a 429 is given up
    and its chat owed a note in the database (the next start sends it). It used to stop the
    application only, leaving the reply's retries running past the shutdown, owed to nobody."""
    coach = await synced_coach(database)
    timer = ManualTimer()
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url, timer=timer)
        webhook = TelegramWebhook(front, secret_token=SECRET, port=0)
        await webhook.start()
        rig = Rig(fake, database, webhook, http)
        try:
            fake.fail_next("sendMessage", status=429, retry_after=30, times=10_000)
            await rig.say("/start")
            await timer.until_sleeping()
            assert front.sending.parked(MAYA) == 1
        finally:
            await webhook.stop()
        assert not front.sending.busy(MAYA), "nothing keeps retrying after the stop"
    async with database.transaction() as session:
        owed = (await session.scalars(select(Delivery).where(Delivery.kind == KIND))).all()
    assert [(d.platform, d.target_chat, d.status) for d in owed] == [
        ("telegram", str(MAYA), "pending")
    ]


def _idle_coach() -> Coach:
    """A coach over a database it never connects to (for checks made before any I/O)."""
    return Coach(Database("sqlite+aiosqlite:///:memory:"))


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
        ({"secret_token": SECRET, "trusted_proxies": ["10.0.0.0/8", "proxy"]}, "'proxy'"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], message: str) -> None:
    front = TelegramFrontEnd(_idle_coach(), "123456:TEST-TOKEN")
    with pytest.raises(ValueError, match=message):
        TelegramWebhook(front, **kwargs)


def test_longest_allowed_secret_is_accepted() -> None:
    front = TelegramFrontEnd(_idle_coach(), "123456:TEST-TOKEN")
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


# --------------------------------------------------------------------------- issue #11


async def test_deeply_nested_json_is_a_400_not_a_500(rig: Rig) -> None:
    """Nesting past the JSON parser's stack raised RecursionError: an unhandled 500, which
    Telegram (or whoever sent it) would retry. Any nesting past MAX_DEPTH is refused too."""
    past_the_stack = b'{"update_id": 9, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert await rig.post(body=past_the_stack) == 400
    nested: dict[str, Any] = {"end": True}
    for _ in range(MAX_DEPTH + 5):
        nested = {"x": nested}
    assert await rig.post({"update_id": 10, "message": nested}) == 400
    await rig.idle()
    assert rig.fake.sent == []
    await rig.say("/start")  # and the worker still serves
    assert "artist name" in rig.fake.last(MAYA).plain_text


async def test_an_update_ptb_cannot_read_is_acknowledged_and_logged(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    """A 4xx would make Telegram send the update again and again; it is logged and answered
    200, never handled and never written down (no later attempt could read it either)."""
    broken = rig.fake.queue_update({"message": {"text": 1}})
    assert await rig.post(broken) == 200
    await rig.idle()
    assert rig.fake.sent == []
    assert f"telegram update {broken['update_id']} could not be read" in caplog.text
    assert await rig.webhook.front.inbox.held() == set()
    await rig.say("/start")
    assert "artist name" in rig.fake.last(MAYA).plain_text


async def _rename(database: Database, old: str, new: str) -> None:
    async with database.connection() as conn:
        await conn.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_an_update_not_written_down_is_a_503_and_telegram_sends_it_again(rig: Rig) -> None:
    """The 200 goes out only after the update is committed to the inbox: while the inbox
    can't be written, Telegram's pushes get 503 and the update stays queued at Telegram; once
    it can, the next push is answered 200 and handled, once."""
    rig.fake.deliver_by_webhook(rig.webhook.url, secret=SECRET)
    await _rename(rig.database, "inbox_updates", "inbox_away")
    try:
        update = rig.fake.user_message(MAYA, "/start")
        await rig.fake.wait_for(lambda: len(rig.fake.webhook_attempts) >= 3)
        assert {status for _, status in rig.fake.webhook_attempts} == {503}
        assert [u["update_id"] for u in rig.fake.pending_updates] == [update["update_id"]]
        assert rig.fake.sent == []
    finally:
        await _rename(rig.database, "inbox_away", "inbox_updates")
    await rig.fake.wait_for(lambda: not rig.fake.pending_updates)
    await rig.idle()
    assert rig.fake.webhook_attempts[-1] == (update["update_id"], 200)
    replies = [m.plain_text for m in rig.fake.messages(MAYA)]
    assert len(replies) == 1, rig.fake.dump()
    assert "artist name" in replies[0]


async def test_rows_a_dead_worker_left_in_the_inbox_are_taken_over(database: Database) -> None:
    """A worker that answered 200 and died before handling leaves its rows leased to itself.
    A live worker leaves them alone while the lease runs (their worker may still be on them),
    then its sweep takes them over and handles them, in order, once."""
    clock = FakeClock()
    await synced_coach(database)
    coach = Coach(database, clock=clock)
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        dead = Inbox(database, "telegram", worker="dead-worker", clock=clock)
        left = [fake.user_message(MAYA, "/start"), fake.user_message(MAYA, "Maya")]
        await dead.put([Entry(u["update_id"], json.dumps(u)) for u in left])
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        webhook = TelegramWebhook(front, secret_token=SECRET, port=0, sweep_every=0.05)
        await webhook.start()
        try:
            await asyncio.sleep(0.3)  # a few sweeps: the lease still runs
            assert fake.sent == []
            clock.advance(seconds=DEFAULT_LEASE.total_seconds() + 1)
            await fake.wait_for(lambda: len(fake.messages(MAYA)) >= 2)
            await Rig(fake, database, webhook, http).idle()
            await _drained(front.inbox)
        finally:
            await webhook.stop()
        texts = [m.plain_text for m in fake.messages(MAYA)]
        assert len(texts) == 2, fake.dump()
        assert "artist name" in texts[0]
        assert "Nice to meet you, Maya" in texts[1]


async def _drained(inbox: Inbox, timeout: float = 10) -> None:  # noqa: ASYNC109
    """Wait until the inbox holds nothing (handled rows are deleted in batches)."""
    async with asyncio.timeout(timeout):
        while await inbox.held():  # noqa: ASYNC110 - polling the database
            await asyncio.sleep(0.02)


def test_the_client_behind_a_trusted_proxy_comes_from_x_forwarded_for() -> None:
    proxies = parse_networks(["10.0.0.0/8", "2001:db8::/32"])
    # no trusted proxy: the header is anyone's to write, so it is ignored
    assert client_address("198.51.100.7", ["203.0.113.9"], ()) == "198.51.100.7"
    assert client_address("198.51.100.7", ["203.0.113.9"], proxies) == "198.51.100.7"
    # from a trusted proxy: the nearest hop that is not a proxy (the left ones are forgeable)
    assert client_address("10.0.0.2", ["203.0.113.9"], proxies) == "203.0.113.9"
    assert client_address("10.0.0.2", ["1.2.3.4, 203.0.113.9, 10.1.1.1"], proxies) == (
        "203.0.113.9"
    )
    assert client_address("10.0.0.2", ["1.2.3.4", "203.0.113.9"], proxies) == "203.0.113.9"
    assert client_address("2001:db8::5", ["[2001:db9::1]:4711"], proxies) == "2001:db9::1"
    # nothing usable: the proxy itself
    assert client_address("10.0.0.2", [], proxies) == "10.0.0.2"
    assert client_address("10.0.0.2", ["10.0.0.3"], proxies) == "10.0.0.2"
    assert client_address("10.0.0.2", ["not-an-ip"], proxies) == "10.0.0.2"
    assert client_address(None, ["203.0.113.9"], proxies) == "unknown"


@pytest.mark.parametrize("trusted", [(), ("127.0.0.1",)])
async def test_the_audited_address_believes_x_forwarded_for_only_from_a_trusted_proxy(
    database: Database, monkeypatch: pytest.MonkeyPatch, trusted: tuple[str, ...]
) -> None:
    monkeypatch.setattr(audit, "DENIALS", DenialThrottle(window=0))
    coach = await synced_coach(database)
    async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        webhook = TelegramWebhook(front, secret_token=SECRET, port=0, trusted_proxies=trusted)
        await webhook.start()
        try:
            headers = {SECRET_HEADER: "wrong-token", "X-Forwarded-For": "203.0.113.9"}
            async with http.post(webhook.url, data=b"{}", headers=headers) as response:
                assert response.status == 403
        finally:
            await webhook.stop()
    [entry] = await latest(database)
    expected = "203.0.113.9" if trusted else "127.0.0.1"
    assert entry.actor == f"telegram-webhook:{expected}"
