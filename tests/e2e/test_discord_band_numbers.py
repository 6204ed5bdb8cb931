"""A band's numbers, goals and plan in its Discord server, apart from its members' solo ones
(issue #13 §3: "Band numbers and a member's solo numbers stay apart").

The leak these tests pin: in a server the bot can't read typed messages (no Message Content
intent), so a question there is answered through the "✍️ Answer" modal. The band's prompts for
a typed value — ``/update``'s number, the guided ``/goal``'s target and date, "First I need
your … today", "No, let me fix it" after a suspicious figure, a new release date from
``/plan`` — came without that modal: the only place left to type the value was the member's DM,
which is their *solo* profile, and the solo's own open question took the band's number. Here
every such prompt is answered in the server, and the solo profile never moves.

Through the real discord.py against the loopback fake, on the test roadmaps of the numbers and
plan kits (synced next to the shipped ones), with a clock relative to today.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from discordkit import ANA, BEN, CHANNEL, Bench, running
from fakes.discord_api import FakeInteraction, FakeMessage
from icalendar import Calendar
from numberskit import LISTENERS, tracked_roadmap
from reminderkit import FakeClock, reminder_rows
from sqlalchemy import select
from support.memory import bundled_roadmaps
from support.plankit import good_friday, plan_roadmap

from core.db.engine import Database
from core.db.models import (
    Band,
    ConversationState,
    Goal,
    Identity,
    Profile,
    StatSample,
    UserTaskProgress,
)
from core.progress.timeline import show_date
from core.roadmaps.sync import sync_roadmaps

NUMBERS = "Numbers Test"
PLAN = "Plan test"


def _clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0))


def _with_button(messages: list[FakeMessage], label: str) -> FakeMessage:
    for message in reversed(messages):
        if any(label.casefold() in b.casefold() for b, _ in message.buttons()):
            return message
    raise AssertionError(f"no message with a {label!r} button: {[m.buttons() for m in messages]}")


async def _sync(bench: Bench, database: Database) -> None:
    async with database.transaction() as session:
        await sync_roadmaps(session, [*bundled_roadmaps(), tracked_roadmap(), plan_roadmap()])
    bench.coach.catalog.invalidate()


async def _dm_command(bench: Bench, name: str, **options: Any) -> FakeInteraction:
    return await bench.answered(bench.fake.user_runs_command_in_dm(ANA, name, **options))


async def _solo_on(bench: Bench, roadmap: str) -> None:
    """Ana's solo profile, in her DM, on ``roadmap``."""
    await _dm_command(bench, "start")
    await bench.dm(ANA, "Ana")
    await bench.press(ANA, _with_button(bench.fake.dm_messages(ANA), roadmap), roadmap)


async def _band_on(bench: Bench, roadmap: str) -> None:
    """The Night Owls (Ana manages, Ben joined) on ``roadmap``, in the server."""
    await bench.command(ANA, "band", sub="create", name="Night Owls")
    await bench.command(BEN, "band", sub="join")
    start = await bench.command(ANA, "start")
    await bench.press(ANA, _with_button(start.messages(), roadmap), roadmap)


async def _answer(bench: Bench, user: int, messages: list[FakeMessage], value: str) -> str:
    """Answer the prompt among ``messages`` in the server: its "Answer" button opens the modal,
    ``value`` is submitted; the texts of the answer."""
    opened = await bench.press(user, _with_button(messages, "Answer"), "Answer")
    assert opened.modal is not None, "the Answer button opens the answer form"
    submitted = bench.fake.submit_modal(user, opened.id, {"answer": value})
    return (await bench.answered(submitted)).texts()


async def _profiles(database: Database, *, solo: bool = True) -> tuple[Profile | None, Profile]:
    """(Ana's solo profile, unless ``solo`` is false; the band's profile), as stored."""
    async with database.transaction() as session:
        band = (await session.scalars(select(Profile).join(Band, Band.id == Profile.band_id))).one()
        if not solo:
            return None, band
        mine = (
            await session.scalars(
                select(Profile)
                .join(Identity, Identity.user_id == Profile.user_id)
                .where(Identity.platform == "discord", Identity.external_id == str(ANA))
            )
        ).one()
        return mine, band


async def _state(database: Database, profile: Profile) -> ConversationState:
    async with database.transaction() as session:
        found = await session.get(ConversationState, profile.id)
        assert found is not None
        return found


async def test_a_bands_update_is_answered_in_the_server_not_on_the_members_solo_question(
    database: Database,
) -> None:
    async with running(database, clock=_clock()) as bench:
        await _sync(bench, database)
        await _solo_on(bench, NUMBERS)  # her own first question waits in her DM
        assert "How many monthly listeners" in bench.fake.dm_messages(ANA)[-1].text()
        await _band_on(bench, NUMBERS)

        asked = await bench.command(ANA, "update", metric="monthly listeners")
        assert "What's your **monthly listeners** now?" in asked.texts()
        saved = await _answer(bench, ANA, asked.messages(), "9000")
        assert "Saved: **9,000 listeners**" in saved

        solo, band = await _profiles(database)
        assert band.current_stats[LISTENERS]["value"] == "9000"
        assert LISTENERS not in solo.current_stats, "the band's number reached the solo"
        waiting = await _state(database, solo)
        assert waiting.awaiting == "answer", "her own question still waits for her number"

        mine = await bench.dm(ANA, "500")  # her own number, in her own chat
        assert "Saved" in "\n".join(m.text() for m in mine)
        solo, band = await _profiles(database)
        assert solo.current_stats[LISTENERS]["value"] == "500"
        assert band.current_stats[LISTENERS]["value"] == "9000"
        assert "9,000" in (await bench.command(BEN, "stats")).texts()
        assert "500" not in (await bench.command(BEN, "stats")).texts()
        assert "9,000" not in (await _dm_command(bench, "stats")).texts()


async def test_a_bands_guided_goal_is_answered_in_the_server(database: Database) -> None:
    async with running(database, clock=_clock()) as bench:
        await _sync(bench, database)
        await _solo_on(bench, NUMBERS)
        await _band_on(bench, NUMBERS)

        first = await bench.command(BEN, "goal", metric="monthly listeners")
        assert "First I need your **monthly listeners** today" in first.texts()
        assert "Saved: **1,000 listeners**" in await _answer(bench, BEN, first.messages(), "1000")

        target = await bench.command(BEN, "goal", metric="monthly listeners")
        assert "do you want to reach?" in target.texts()
        when = await _answer(bench, BEN, target.messages(), "2000")
        assert "By when?" in when
        by = bench.fake.messages(CHANNEL)
        assert _with_button(by, "In 3 months").button("Answer"), "a date may be typed too"
        done = await bench.press(BEN, _with_button(by, "In 3 months"), "In 3 months")
        assert "Goal set: Monthly listeners **2,000**" in done.texts()

        solo, band = await _profiles(database)
        assert band.current_stats[LISTENERS]["goal"]["target"] == "2000"
        assert solo.current_stats == {}
        async with database.transaction() as session:
            goals = (await session.execute(select(Goal.profile_id, Goal.target))).all()
            samples = (await session.execute(select(StatSample.profile_id))).all()
        assert {pid for pid, _ in goals} == {band.id}
        assert {pid for (pid,) in samples} == {band.id}
        assert "No goals yet" in (await _dm_command(bench, "goal")).texts()


async def test_a_bands_fixed_figure_and_undo_stay_with_the_band(database: Database) -> None:
    """ "No, let me fix it" after a suspicious band figure asks again in the server; /undo in
    the server takes the band's answer back, in the DM it is the solo's own (nothing)."""
    async with running(database, clock=_clock()) as bench:
        await _sync(bench, database)
        await _solo_on(bench, NUMBERS)
        await _band_on(bench, NUMBERS)
        asked = await bench.command(ANA, "update", metric="monthly listeners")
        await _answer(bench, ANA, asked.messages(), "9000")

        today = await bench.command(BEN, "today")
        assert "How many monthly listeners" in today.texts()
        checking = await _answer(bench, BEN, today.messages(), "95000")  # 10× the last one
        assert "Just checking" in checking
        fix = await bench.press(BEN, _with_button(bench.fake.messages(CHANNEL), "No, let"), "No")
        assert "type the right figure" in fix.texts()
        assert "Saved: **9,500 listeners**" in await _answer(bench, BEN, fix.messages(), "9500")

        solo, band = await _profiles(database)
        assert band.current_stats[LISTENERS]["value"] == "9500"
        assert LISTENERS not in solo.current_stats
        assert "nothing to undo" in (await _dm_command(bench, "undo")).texts()
        await bench.command(ANA, "undo")
        solo, band = await _profiles(database)
        assert band.current_stats[LISTENERS]["value"] == "9000"
        assert LISTENERS not in solo.current_stats

        # "later" in the band's form puts off the band's question, not hers
        later = await bench.command(BEN, "today")
        assert "I'll ask again in 3 days" in await _answer(bench, BEN, later.messages(), "later")
        async with database.transaction() as session:
            put_off = (
                await session.execute(
                    select(UserTaskProgress.profile_id).where(
                        UserTaskProgress.status == "postponed"
                    )
                )
            ).all()
        assert put_off == [(band.id,)]
        assert solo is not None
        assert (await _state(database, solo)).awaiting == "answer", "hers still waits"


async def test_a_bands_plan_and_calendar_in_the_server(database: Database) -> None:
    clock = _clock()
    friday = good_friday(clock().date())
    later = next(d for w in range(9, 30) if (d := good_friday(clock().date(), w)) > friday)
    async with running(database, clock=clock) as bench:
        await _sync(bench, database)
        await _solo_on(bench, PLAN)
        await _band_on(bench, PLAN)

        unset = await bench.command(ANA, "plan")
        assert "isn't set yet" in unset.texts()
        asked = await bench.press(ANA, _with_button(unset.messages(), "Set your"), "Set your")
        assert "What is your release date?" in asked.texts()
        assert f"Saved: **{show_date(friday)}**" in await _answer(
            bench, ANA, asked.messages(), friday.isoformat()
        )

        shown = await bench.command(BEN, "plan")
        assert f"Release: {show_date(friday)}" in shown.texts()
        sent = await bench.command(BEN, "plan", format="ics")
        [file] = [a for m in sent.messages() for a in m.attachments]
        assert file["filename"] == "release-plan.ics"
        events = Calendar.from_ical(file["data"]).walk("VEVENT")
        assert friday in {e.decoded("DTSTART") for e in events}, "the band's own release day"

        change = await bench.press(BEN, _with_button(shown.messages(), "Change the"), "Change the")
        assert "What is your release date?" in change.texts()
        assert "Your plan is dated from it now" in await _answer(
            bench, BEN, change.messages(), later.isoformat()
        )
        assert f"Release: {show_date(later)}" in (await bench.command(ANA, "plan")).texts()

        solo, band = await _profiles(database)
        assert band.anchors == {"release": later.isoformat()}
        assert solo.anchors == {}, "the band's release date reached the solo"
        assert "isn't set yet" in (await _dm_command(bench, "plan")).texts()
        plans = [r for r in await reminder_rows(database) if r.kind == "plan"]
        assert [(r.band_id is not None, r.target_chat) for r in plans] == [(True, f"c:{CHANNEL}")]


async def test_an_answer_form_answers_only_the_question_it_was_opened_for(
    database: Database,
) -> None:
    """A band's members share one conversation: Ana's form, opened on the listeners question,
    must not answer the followers number Ben asked for since (it did: 9000 followers)."""
    async with running(database, clock=_clock()) as bench:
        await _sync(bench, database)
        await _band_on(bench, NUMBERS)
        question = _with_button((await bench.command(ANA, "today")).messages(), "Answer")
        asked = await bench.command(BEN, "update", metric="followers")
        opened = await bench.press(ANA, question, "Answer")
        late = await bench.answered(bench.fake.submit_modal(ANA, opened.id, {"answer": "9000"}))
        assert "isn't open any more" in late.texts()
        assert all(m.ephemeral for m in late.messages())
        _solo, band = await _profiles(database, solo=False)
        assert band.current_stats == {}, "Ana's listeners became the band's followers"

        assert "Saved: **350**" in await _answer(bench, BEN, asked.messages(), "350")
        again = await bench.command(ANA, "today")
        assert "Saved: **9,000 listeners**" in await _answer(bench, ANA, again.messages(), "9000")
        _solo, band = await _profiles(database, solo=False)
        assert band.current_stats["instagram_followers"]["value"] == "350"
        assert band.current_stats[LISTENERS]["value"] == "9000"
