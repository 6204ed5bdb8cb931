"""The ``getUpdates`` loop's waits (bot/telegram/polling.py), on the loopback fake Bot API and a
timer the test moves by hand: no test here waits for real, and each says how long the loop
meant to wait — the back-off after failed calls (1 s × 1.5 up to 30 s, reset by a call that
works), Telegram's ``retry_after`` under flood control, and the inbox's retries (0.5 s doubling
up to 10 s) while a batch can't be written down or the leftovers can't be read; nothing is
confirmed to Telegram meanwhile. The intake is a stand-in: what it does with a batch is
tests/test_telegram.py's and tests/test_inbox.py's business.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import pytest
from fakes.telegram_api import FakeTelegram
from sendkit import ManualTimer

from bot.telegram.polling import Poller

MAYA = 1001


@dataclass
class Intake:
    """Records the batches written down; fails the next ``failing_*`` calls as a database
    that is away would."""

    accepted: list[list[int]] = field(default_factory=list)
    resumes: int = 0
    failing_accepts: int = 0
    failing_resumes: int = 0

    async def accept(self, raws: Sequence[object]) -> None:
        if self.failing_accepts:
            self.failing_accepts -= 1
            raise ConnectionRefusedError("the database is away")
        self.accepted.append([raw["update_id"] for raw in raws])  # type: ignore[index]

    async def resume(self, *, everything: bool) -> int:
        assert everything, "the polling worker takes every leftover"
        if self.failing_resumes:
            self.failing_resumes -= 1
            raise ConnectionRefusedError("the database is away")
        self.resumes += 1
        return 0


@dataclass
class Rig:
    fake: FakeTelegram
    intake: Intake
    timer: ManualTimer
    poller: Poller

    def polls(self) -> int:
        return len(self.fake.calls_of("getUpdates"))

    async def let_waits_pass(self, count: int) -> None:
        """Let the loop's next ``count`` waits end, one after the other, as they begin."""
        for _ in range(count):
            await self.timer.until_sleeping()
            self.timer.skip_to_next()


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as telegram:
        yield telegram


def _rig(fake: FakeTelegram, *, token: str | None = None) -> Rig:
    intake, timer = Intake(), ManualTimer()
    poller = Poller(
        f"{fake.url}/bot{token or fake.token}",
        intake,  # type: ignore[arg-type]
        timeout=1,
        interval=0.0,
        allowed_updates=["message"],
        refused="Telegram refused TELEGRAM_BOT_TOKEN.",
        sleep=timer.sleep,
    )
    return Rig(fake, intake, timer, poller)


async def test_failed_polls_back_off_by_half_again_up_to_thirty_seconds(fake: FakeTelegram) -> None:
    rig = _rig(fake)
    fake.fail_next("getUpdates", status=502, times=11)
    await rig.poller.start()
    try:
        await rig.let_waits_pass(11)
        await fake.wait_for(lambda: rig.polls() == 12)  # the twelfth call is let through
        assert rig.timer.waits == [
            1.0,
            1.5,
            2.25,
            3.375,
            5.0625,
            7.59375,
            11.390625,
            17.0859375,
            25.62890625,
            30.0,
            30.0,
        ]
        # a call that works starts the back-off afresh
        fake.fail_next("getUpdates", status=500)
        update = fake.user_message(MAYA, "hello")  # ends the long poll in flight at once
        await rig.timer.until_sleeping()
        assert rig.timer.waits[11:] == [1.0]
        rig.timer.skip_to_next()
        await fake.wait_for(lambda: not fake.pending_updates)
        assert rig.intake.accepted == [[update["update_id"]]]
    finally:
        await rig.poller.stop()


async def test_flood_control_is_waited_out_as_telegram_says(fake: FakeTelegram) -> None:
    rig = _rig(fake)
    fake.fail_next("getUpdates", status=429, retry_after=7)
    fake.fail_next("getUpdates", status=502)
    await rig.poller.start()
    try:
        await rig.let_waits_pass(2)
        await fake.wait_for(lambda: rig.polls() == 3)
        assert rig.timer.waits == [7.5, 1.0], "retry_after and half a second; then a back-off"
    finally:
        await rig.poller.stop()


async def test_a_refused_token_stops_polling_without_waiting(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    rig = _rig(fake, token="999:not-the-token")
    await rig.poller.start()
    try:
        await fake.wait_for(lambda: not rig.poller.running)
        assert rig.timer.waits == []
        assert "Telegram refused TELEGRAM_BOT_TOKEN. Polling stopped." in caplog.text
    finally:
        await rig.poller.stop()


async def test_a_batch_that_cannot_be_written_down_is_retried_and_not_confirmed(
    fake: FakeTelegram,
) -> None:
    rig = _rig(fake)
    update = fake.user_message(MAYA, "hello")
    rig.intake.failing_accepts = 6
    await rig.poller.start()
    try:
        await rig.let_waits_pass(5)
        await rig.timer.until_sleeping()
        assert rig.timer.waits == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0], "doubling, up to 10 s"
        assert rig.polls() == 1, "no poll while the batch is not written down"
        assert fake.pending_updates, "so Telegram still holds it"
        rig.timer.skip_to_next()
        await fake.wait_for(lambda: rig.intake.accepted == [[update["update_id"]]])
        await fake.wait_for(lambda: rig.polls() == 2)
        # only the call after the write carried the offset past the update
        first, second = fake.calls_of("getUpdates")
        assert "offset" not in first
        assert second["offset"] == update["update_id"] + 1
        await fake.wait_for(lambda: not fake.pending_updates)
    finally:
        await rig.poller.stop()


async def test_leftovers_that_cannot_be_read_are_waited_for_before_the_first_poll(
    fake: FakeTelegram,
) -> None:
    rig = _rig(fake)
    rig.intake.failing_resumes = 3
    await rig.poller.start()
    try:
        await rig.let_waits_pass(3)
        await fake.wait_for(lambda: rig.polls() == 1)
        assert rig.timer.waits == [0.5, 1.0, 2.0]
        assert rig.intake.resumes == 1, "read once the database answered, before any poll"
    finally:
        await rig.poller.stop()
