"""``coach run``'s one loop over its front ends (bot/lifecycle.py), on fake front ends and a
sleeper that records its waits and returns at once: started in order, an unreachable one
retried in the background on the 1, 2, 5, 10, 30, 60 s steps (capped), a refused token
stopping the start, everything stopped in reverse order. And which front ends ``coach run``
builds from its settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import discord
import pytest
from pydantic import SecretStr

from bot.cli import front_ends
from bot.discord.client import DiscordFrontEnd
from bot.lifecycle import RETRY_DELAYS, keep_starting, running
from bot.telegram.app import TelegramFrontEnd
from bot.telegram.webhook import TelegramWebhook
from core.app.engine import Coach
from core.db.engine import Database
from core.errors import ConfigurationError, PlatformUnreachable
from core.kernel.frontend import FrontEnd
from core.kernel.notify import SENT, DeliveryResult, by_platform
from core.kernel.types import Outbound
from core.settings import Settings


class FakeFront:
    """A front end whose starts go as scripted: each entry of ``outcomes`` is what one start
    raises (``None``: it starts); once they run out, every start works."""

    def __init__(
        self, platform: str, log: list[str], outcomes: Sequence[Exception | None] = ()
    ) -> None:
        self.platform = platform
        self.log = log
        self.outcomes = list(outcomes)
        self.starts = 0
        self.started = asyncio.Event()

    async def start(self) -> None:
        self.starts += 1
        self.log.append(f"start {self.platform}")
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.started.set()

    async def stop(self) -> None:
        self.log.append(f"stop {self.platform}")

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        return SENT


class Sleeper:
    """Records every wait and returns at once (after letting other tasks run)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def _down(name: str) -> PlatformUnreachable:
    return PlatformUnreachable(f"{name} could not be reached (ClientConnectorError)")


async def test_front_ends_start_in_order_and_stop_in_reverse() -> None:
    log: list[str] = []
    fronts = [FakeFront("telegram", log), FakeFront("discord", log), FakeFront("console", log)]
    sleep = Sleeper()
    async with running(fronts, sleep=sleep):
        assert log == ["start telegram", "start discord", "start console"]
        log.append("serving")
    assert log[-3:] == ["stop console", "stop discord", "stop telegram"]
    assert sleep.waits == [], "nothing was retried"


async def test_an_unreachable_front_end_is_retried_in_the_background_while_the_others_serve(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log: list[str] = []
    telegram = FakeFront("telegram", log)
    discord_ = FakeFront("discord", log, [_down("Discord")] * 4)
    after = FakeFront("later", log)
    sleep = Sleeper()
    with caplog.at_level(logging.INFO, logger="bot.lifecycle"):
        async with running([telegram, discord_, after], sleep=sleep):
            # the first attempt failed; the next front end was started without waiting for it
            assert log[:3] == ["start telegram", "start discord", "start later"]
            await asyncio.wait_for(discord_.started.wait(), 5)
            assert discord_.starts == 5, "four times unreachable, then up"
            assert sleep.waits == [1.0, 2.0, 5.0, 10.0], "the back-off, step by step"
    assert "discord: Discord could not be reached" in caplog.text
    assert "trying again in the background" in caplog.text
    assert log[-3:] == ["stop later", "stop discord", "stop telegram"]


async def test_the_wait_between_attempts_grows_to_a_minute_and_never_past_the_cap() -> None:
    sleep = Sleeper()
    front = FakeFront("discord", [], [_down("Discord")] * 8)
    await keep_starting(front, sleep=sleep)
    assert sleep.waits == [1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 60.0, 60.0, 60.0]
    assert list(RETRY_DELAYS) == sleep.waits[:6]

    capped = Sleeper()
    await keep_starting(FakeFront("discord", [], [_down("Discord")] * 4), longest=4, sleep=capped)
    assert capped.waits == [1.0, 2.0, 4.0, 4.0, 4.0]


async def test_a_front_end_still_unreachable_at_stop_is_no_longer_tried() -> None:
    log: list[str] = []
    gate = asyncio.Event()

    async def held(seconds: float) -> None:  # the background attempt waits until released
        await gate.wait()

    never = FakeFront("discord", log, [_down("Discord")] * 1000)
    async with running([FakeFront("telegram", log), never], sleep=held):
        await asyncio.sleep(0)
    gate.set()
    await asyncio.sleep(0)
    assert never.starts == 1, "the retry was cancelled before the front end was stopped"
    assert log == ["start telegram", "start discord", "stop discord", "stop telegram"]


async def test_a_refused_token_stops_the_start_and_what_started_is_stopped() -> None:
    log: list[str] = []
    refused = FakeFront("discord", log, [ConfigurationError("Discord refused DISCORD_BOT_TOKEN.")])
    fronts = [FakeFront("telegram", log), refused, FakeFront("later", log)]
    with pytest.raises(ConfigurationError, match="refused"):
        async with running(fronts, sleep=Sleeper()):
            pytest.fail("a refused token must not let the process serve")
    # the refused one is stopped too (its start may have opened sessions); "later" never began
    assert log == ["start telegram", "start discord", "stop discord", "stop telegram"]


async def test_a_refusal_found_by_a_background_attempt_gives_only_that_front_end_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unreachable first, then the platform answers and refuses the token: logged plainly,
    that front end given up, nothing raised (the others keep running)."""
    refuses = FakeFront(
        "discord", [], [_down("Discord"), ConfigurationError("Discord refused DISCORD_BOT_TOKEN.")]
    )
    with caplog.at_level(logging.ERROR, logger="bot.lifecycle"):
        await keep_starting(refuses, sleep=Sleeper())
    assert refuses.starts == 2
    assert "discord: Discord refused DISCORD_BOT_TOKEN. The other front ends keep" in caplog.text
    assert all(r.exc_info is None for r in caplog.records), "no traceback (a cause may quote it)"


async def test_coach_run_builds_the_front_ends_its_settings_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # discord.py's REST base is process-wide (bot/discord/endpoints.py): put it back after
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    coach = Coach(Database("sqlite+aiosqlite://"))  # never opened
    telegram = {"telegram_bot_token": SecretStr("123:abc")}
    both = {**telegram, "discord_bot_token": SecretStr("discord-token")}

    def settings(**values: object) -> Settings:
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    assert front_ends(settings(), coach) == []
    (polling,) = front_ends(settings(**telegram), coach)
    assert isinstance(polling, TelegramFrontEnd)
    secret = SecretStr("a-webhook-secret-of-some-length")
    (hook,) = front_ends(settings(**telegram, telegram_webhook_secret=secret), coach, webhook=True)
    assert isinstance(hook, TelegramWebhook)
    fronts: list[FrontEnd] = front_ends(settings(**both), coach)
    assert [type(f) for f in fronts] == [TelegramFrontEnd, DiscordFrontEnd]
    assert dict(by_platform(*fronts)) == {"telegram": fronts[0], "discord": fronts[1]}
