"""Sends Telegram does not take at once: 429s and network errors waited out within a time
budget, stale edits superseded, and a note owed when a reply is finally given up.

The real PTB application runs against the loopback fake Bot API; time in the sender (the 429
waits, the back-off, the budgets) is a :class:`~sendkit.ManualTimer`, so "retry after 30 s"
takes no real time and a test can hold it open while it presses another button.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from coachkit import synced_coach
from fakes.telegram_api import FakeTelegram, SentMessage
from pydantic import ValidationError
from sendkit import ManualTimer
from sqlalchemy import select
from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.app import TelegramFrontEnd
from bot.telegram.sending import Budgets, retry_after_seconds
from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Delivery, Identity, User
from core.kernel.notify import DeliveryStatus
from core.kernel.types import Message
from core.settings import load_settings
from core.undelivered import KIND

MAYA = 2001
LEO = 2002
#: Words of the note a chat gets when a reply was given up (core.undelivered.NOTE).
NOTE_WORDS = "couldn't get through"


@dataclass
class Rig:
    """The fake API, the database, the running front end and its hand-moved timer."""

    fake: FakeTelegram
    database: Database
    front: TelegramFrontEnd
    timer: ManualTimer

    async def restart(self) -> None:
        """Stop the application and start a brand-new one (a process restart)."""
        await self.front.stop()
        self.front = _front(Coach(self.database), self.fake, self.timer)
        await self.front.start(poll_timeout=1)

    async def idle(self) -> None:
        """Every queued update fetched and handled (parked sends may still be waiting)."""
        await self.fake.wait_for(lambda: not self.fake.pending_updates)
        app = self.front.application
        await self.fake.wait_for(app.update_queue.empty)
        processor = app.update_processor
        await self.fake.wait_for(lambda: processor.current_concurrent_updates == 0)

    async def say(self, text: str, user: int = MAYA) -> SentMessage:
        """Send a message as the user (Telegram taking everything) and wait for the reply."""
        before = len(self.fake.sent)
        self.fake.user_message(user, text)
        await self.fake.wait_for(lambda: len(self.fake.sent) > before)
        await self.idle()
        return self.fake.last(user)

    async def press(self, label_part: str, user: int = MAYA) -> None:
        """Queue a press of the button (by label) on the user's latest message with buttons."""
        message = next(m for m in reversed(self.fake.messages(user)) if m.buttons())
        data = next(
            d for label, d in message.buttons() if label_part.casefold() in label.casefold()
        )
        self.fake.press_button(user, message.message_id, data)

    async def checklist_card(self) -> SentMessage:
        """Onboard Maya onto a roadmap whose first task is a checklist; its card."""
        await self.say("/start")
        await self.say("Maya")
        answers = len(self.fake.callback_answers)
        await self.press("Indie")
        await self.fake.wait_for(lambda: len(self.fake.callback_answers) > answers)
        await self.idle()
        card = self.fake.last(MAYA)
        assert any(label.startswith("☐ 2.") for label, _ in card.buttons()), card.plain_text
        return card

    def notes(self, user: int = MAYA) -> list[SentMessage]:
        """The 'reply not delivered' notes in a chat."""
        return [m for m in self.fake.messages(user) if NOTE_WORDS in m.plain_text]


def _front(coach: Coach, fake: FakeTelegram, timer: ManualTimer) -> TelegramFrontEnd:
    return TelegramFrontEnd(
        coach,
        fake.token,
        api_base_url=fake.url,
        budgets=Budgets(reply=60, notice=30),
        timer=timer,
    )


@pytest.fixture
async def rig(database: Database) -> AsyncIterator[Rig]:
    coach = await synced_coach(database)
    async with FakeTelegram() as fake:
        timer = ManualTimer()
        front = _front(coach, fake, timer)
        await front.start(poll_timeout=1)
        rig = Rig(fake, database, front, timer)
        try:
            yield rig
        finally:
            await rig.front.stop()


async def _owed(database: Database) -> list[tuple[str, str, str]]:
    """Owed notes in the database: (platform, chat, status)."""
    async with database.transaction() as session:
        rows = await session.scalars(select(Delivery).where(Delivery.kind == KIND))
        return [(r.platform, r.target_chat, r.status) for r in rows]


async def _unreachable(database: Database, user: int) -> bool:
    async with database.transaction() as session:
        return bool(
            (
                await session.execute(
                    select(User.unreachable)
                    .join(Identity, Identity.user_id == User.id)
                    .where(Identity.external_id == str(user))
                )
            ).scalar_one()
        )


# ---------------------------------------------------------------------------- 1. the budget


async def test_a_429_streak_is_waited_out_by_retry_after_not_given_up_after_three(
    rig: Rig,
) -> None:
    """Five 429s in a row (PTB's limiter used to give up after three retries): the reply waits
    each ``retry_after`` and arrives, 50 s later, well inside its 60-s budget."""
    fake = rig.fake
    await rig.say("/start")
    calls = len(fake.calls_of("sendMessage"))
    fake.fail_next("sendMessage", status=429, retry_after=10, times=5)
    fake.user_message(MAYA, "Maya")
    waited = await rig.timer.run_until(
        lambda: any("Nice to meet you" in m.plain_text for m in fake.messages(MAYA))
    )
    assert waited == pytest.approx(50), "each refusal waited its retry_after, no more"
    assert len(fake.calls_of("sendMessage")) == calls + 6, "five refusals, then the reply"
    assert rig.front.failures["rate_limited"] == 5
    assert rig.front.failures["gave_up"] == 0
    await rig.front.sending.idle()
    assert not rig.notes(), "nothing was lost, so nothing to apologise for"


async def test_network_errors_are_retried_within_the_budget(rig: Rig) -> None:
    """Eight 502s in a row (the old loop tried four times): backed off 0.5, 1, 2, 4, 8 s…"""
    fake = rig.fake
    await rig.say("/start")
    fake.fail_next("sendMessage", status=502, times=8)
    fake.user_message(MAYA, "Maya")
    waited = await rig.timer.run_until(
        lambda: any("Nice to meet you" in m.plain_text for m in fake.messages(MAYA))
    )
    assert waited == pytest.approx(0.5 + 1 + 2 + 4 + 8 + 8 + 8 + 8)
    assert rig.front.failures["network"] == 8
    assert rig.front.failures["gave_up"] == 0


@pytest.mark.parametrize("status", [429, 502])
async def test_a_reply_past_its_budget_owes_the_chat_one_note_sent_once_telegram_accepts_again(
    rig: Rig, status: int
) -> None:
    fake = rig.fake
    await rig.say("/start")
    await rig.say("/start", user=LEO)
    fake.fail_next("sendMessage", status=status, retry_after=30, times=10_000)
    fake.user_message(MAYA, "Maya")
    waited = await rig.timer.run_until(lambda: rig.front.failures["gave_up"] == 1)
    assert 55 <= waited <= 61, "given up when the next try would start after its 60-s budget"
    fake.user_message(MAYA, "/progress")  # the same outage: a second reply lost
    await rig.timer.run_until(lambda: rig.front.failures["gave_up"] == 2)
    assert await _owed(rig.database) == [("telegram", str(MAYA), "pending")], "one per chat"
    assert not rig.notes()

    fake.stop_failing("sendMessage")  # Telegram takes messages again…
    rig.timer.advance(30)  # …once the last pause it asked for is over: Leo's reply goes out…
    await rig.say("/progress", user=LEO)
    await fake.wait_for(lambda: len(rig.notes()) == 1)  # …and Maya gets her note
    await rig.front.notes.idle()
    await rig.say("/today", user=LEO)
    await rig.say("/today")
    assert len(rig.notes()) == 1, "one note per chat per outage"
    assert not rig.notes(LEO), "Leo lost nothing"
    assert await _owed(rig.database) == []


async def test_an_owed_note_survives_a_restart(rig: Rig) -> None:
    """A reply still waiting when the process stops is given up, and its note is in the
    database: the next process sends it once Telegram accepts messages."""
    fake = rig.fake
    await rig.say("/start")
    fake.fail_next("sendMessage", status=429, retry_after=30, times=10_000)
    fake.user_message(MAYA, "Maya")
    await rig.timer.until_sleeping()
    assert rig.front.sending.parked(MAYA) == 1
    await rig.front.stop()
    assert await _owed(rig.database) == [("telegram", str(MAYA), "pending")]

    fake.stop_failing()
    rig.front = _front(Coach(rig.database), fake, rig.timer)
    await rig.front.start(poll_timeout=1)
    await rig.say("/start", user=LEO)
    await fake.wait_for(lambda: len(rig.notes()) == 1)
    await rig.front.notes.idle()
    assert await _owed(rig.database) == []


async def test_a_parked_reply_refused_with_403_marks_the_person_and_owes_nothing(
    rig: Rig,
) -> None:
    fake = rig.fake
    await rig.say("/start")
    fake.fail_next("sendMessage", status=429, retry_after=10)
    fake.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked by the user")
    fake.user_message(MAYA, "Maya")
    await rig.timer.until_sleeping()
    await rig.timer.run_until(lambda: rig.front.failures["forbidden_gone"] == 1)
    await rig.front.sending.idle()
    assert await _unreachable(rig.database, MAYA)
    assert await _owed(rig.database) == []
    assert rig.front.failures["gave_up"] == 0


# ------------------------------------------------------------------------- 2. stale edits


async def test_two_ticks_on_one_card_while_telegram_says_429_send_only_the_newer_edit(
    rig: Rig,
) -> None:
    fake = rig.fake
    card = await rig.checklist_card()
    edits, calls = len(fake.edits), len(fake.calls_of("editMessageText"))
    fake.fail_next("editMessageText", status=429, retry_after=10)

    await rig.press("☐ 1.")
    await rig.timer.until_sleeping()  # the first tick's edit waits out its retry_after…
    assert rig.front.sending.parked(MAYA) == 1
    await rig.press("☐ 2.")  # …while the chat's next update, a second tick, is handled
    await fake.wait_for(lambda: rig.front.sending.parked(MAYA) == 2)

    rig.timer.advance(10)
    await rig.front.sending.idle()
    assert len(fake.calls_of("editMessageText")) == calls + 2, "the refused edit, the newer one"
    assert len(fake.edits) == edits + 1, "the older edit was dropped, not sent late"
    current = fake.messages(MAYA)[-1]
    assert current.message_id == card.message_id
    assert "☑ 1." in current.plain_text
    assert "☑ 2." in current.plain_text
    assert rig.front.failures["superseded"] == 1
    assert not fake.unanswered_callbacks


async def test_an_edit_without_a_newer_one_is_kept_and_the_chat_keeps_its_order(
    rig: Rig,
) -> None:
    """A parked edit followed by a new message (not an edit of that card) is never dropped,
    and the new message comes after it."""
    fake = rig.fake
    await rig.checklist_card()
    edits, sent = len(fake.edits), len(fake.sent)
    fake.fail_next("editMessageText", status=429, retry_after=10)
    await rig.press("☐ 1.")
    await rig.timer.until_sleeping()
    fake.user_message(MAYA, "/progress")
    await fake.wait_for(lambda: rig.front.sending.parked(MAYA) == 2)
    assert len(fake.sent) == sent, "the new message waits behind the parked edit"

    rig.timer.advance(10)
    await rig.front.sending.idle()
    assert len(fake.edits) == edits + 1
    assert len(fake.sent) == sent + 1
    assert "☑ 1." in fake.edits[-1].after.plain_text
    assert fake.edits[-1].ts <= fake.sent[-1].ts, "the edit first, as the updates came"
    assert "% overall" in fake.sent[-1].plain_text
    assert rig.front.failures["superseded"] == 0


# ------------------------------------------------------------------------------ 3. notices


async def test_a_notice_waits_within_its_budget_then_reports_failed_without_raising(
    rig: Rig,
) -> None:
    fake = rig.fake
    fake.open_private_chat(MAYA)
    fake.fail_next("sendMessage", status=429, retry_after=5, times=2)
    sending = asyncio.create_task(rig.front.notify(str(MAYA), [Message(text="Nudge one")]))
    waited = await rig.timer.run_until(sending.done)
    assert sending.result().status is DeliveryStatus.SENT
    assert waited == pytest.approx(10)

    fake.fail_next("sendMessage", status=429, retry_after=20, times=10_000)
    sending = asyncio.create_task(rig.front.notify(str(MAYA), [Message(text="Nudge two")]))
    waited = await rig.timer.run_until(sending.done)
    result = sending.result()  # the Notifier contract: a result, never a raise
    assert result.status is DeliveryStatus.FAILED
    assert "time budget" in result.detail
    assert waited <= 30, "the notice budget, well inside the senders' two-minute leases"
    assert await _owed(rig.database) == [], "a notice is retried by its own machinery"


async def test_sends_queued_during_a_pause_keep_telegrams_pace(database: Database) -> None:
    """A 429 pauses every send; what queued meanwhile goes out at 28/s when it ends, not in
    one burst (PTB's limiter took bucket slots before waiting the pause out). Real time."""
    coach = await synced_coach(database)
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            chats = range(3000, 3040)
            for chat in chats:
                fake.open_private_chat(chat)
            fake.fail_next("sendMessage", status=429, retry_after=1)
            results = await asyncio.gather(
                *(front.notify(str(chat), [Message(text=f"Hello {chat}")]) for chat in chats)
            )
        finally:
            await front.stop()
    assert all(r.status is DeliveryStatus.SENT for r in results), results
    assert len(fake.sent) == len(chats)
    assert not fake.violations, fake.violations[:3]  # never more than 30 in one second


# ---------------------------------------------------------------------- PTB's public API


@pytest.mark.parametrize("opt_in", ["true", "false"])
def test_retry_after_is_read_in_seconds_whichever_type_ptb_hands_out(
    opt_in: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The contract ``sending.py`` relies on: ``RetryAfter.retry_after`` is an int (with a
    deprecation warning) or a timedelta (``PTB_TIMEDELTA``); both read as seconds, no warning
    escapes (warnings are errors in this suite)."""
    monkeypatch.setenv("PTB_TIMEDELTA", opt_in)
    with warnings.catch_warnings():  # PTB's own constructor warns without the opt-in
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        seven, three = RetryAfter(7), RetryAfter(timedelta(seconds=3))
    assert retry_after_seconds(seven) == 7.0
    assert retry_after_seconds(three) == 3.0


def test_the_budgets_are_settings_that_keep_notices_inside_their_leases(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("TELEGRAM_REPLY_BUDGET_SECONDS", "TELEGRAM_NOTICE_BUDGET_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.telegram_reply_budget_seconds == 60
    assert settings.telegram_notice_budget_seconds == 30
    monkeypatch.setenv("TELEGRAM_REPLY_BUDGET_SECONDS", "120")
    assert load_settings().telegram_reply_budget_seconds == 120
    monkeypatch.setenv("TELEGRAM_NOTICE_BUDGET_SECONDS", "150")  # past the 2-minute leases
    with pytest.raises(ValidationError):
        load_settings()
