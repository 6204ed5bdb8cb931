"""The release plan on every front end (issue #13 §2): through the real python-telegram-bot
against the fake Bot API — a rule-breaking release date answered with a suggested-date button,
``/plan``, and the calendar file by ``sendDocument`` — ; Discord's command tree with ``/plan``
and its ``ics`` choice, and ``/plan ics`` in a DM through the real discord.py; and the
terminal chat. The roadmap is the plan kit's own (a test roadmaps folder / a sync of it), not
the shipped content."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import discord
from coachkit import run_coach
from discord import app_commands
from discordkit import ANA, running
from icalendar import Calendar
from reminderkit import FakeClock
from support.memory import bundled_roadmaps
from support.plankit import good_friday, plan_roadmap, write_plan_roadmap
from telegramkit import MAYA, TelegramChat, telegram_chat

from bot.discord import commands
from core.app.engine import Coach
from core.app.features import FEATURES
from core.db.engine import Database
from core.kernel.registry import Registry
from core.progress.timeline import show_date
from core.roadmaps.sync import sync_roadmaps


def _clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0))


async def _sync_plan(database: Database) -> None:
    async with database.transaction() as session:
        await sync_roadmaps(session, [*bundled_roadmaps(), plan_roadmap()])


@contextlib.asynccontextmanager
async def _telegram(database: Database, clock: FakeClock) -> AsyncIterator[TelegramChat]:
    await _sync_plan(database)
    coach = Coach(database, clock=clock)
    async with telegram_chat(coach) as chat:
        yield chat


async def test_telegram_release_date_plan_and_calendar_file(database: Database) -> None:
    clock = _clock()
    friday = good_friday(clock().date())
    thursday = friday - timedelta(days=1)
    async with _telegram(database, clock) as chat:
        await chat.say("/start")
        await chat.say("Maya")
        await chat.press("Plan test")
        await chat.say("/skip")  # the master checklist: the release date is asked
        assert "What is your release date?" in chat.fake.last(MAYA).plain_text
        ruled = await chat.say(thursday.isoformat())
        assert "That's a Thursday — it should be a Friday." in ruled.plain_text
        labels = [label for label, _data in ruled.buttons()]
        assert labels[0] == show_date(friday)
        assert labels[-1] == f"Keep {show_date(thursday)} anyway"
        await chat.press(show_date(friday))
        saved = "\n".join(m.plain_text for m in chat.fake.messages(MAYA)[-2:])
        assert f"Saved: {show_date(friday)}" in saved

        plan = await chat.say("/plan")
        assert f"Release: {show_date(friday)}" in plan.plain_text
        assert "T−28 · Upload to your distributor" in plan.plain_text

        document = await chat.say("/plan ics")
        assert chat.fake.calls_of("sendDocument")
        assert document.document is not None
        assert document.document_name == "release-plan.ics"
        events = Calendar.from_ical(document.document).walk("VEVENT")
        assert {e.decoded("DTSTART") for e in events} == {
            friday,
            friday - timedelta(days=28),
            friday - timedelta(days=7),
            friday + timedelta(days=35),
        }


def test_discord_tree_has_plan_with_its_ics_choice() -> None:
    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    commands.build(tree, SimpleNamespace(coach=SimpleNamespace(registry=Registry(FEATURES))))
    built = {c.name: c.to_dict(tree) for c in tree.get_commands()}
    plan = built["plan"]
    assert plan["description"].startswith("Your release plan")
    (option,) = plan["options"]
    assert option["name"] == "format"
    assert [c["value"] for c in option["choices"]] == ["ics"]
    assert option.get("required", False) is False
    assert plan["contexts"] == [0, 1], "in servers (the band's plan) and DMs"


async def test_discord_plan_ics_in_a_dm(database: Database) -> None:
    clock = _clock()
    friday = good_friday(clock().date())
    async with running(database, clock=clock) as bench:
        await _sync_plan(database)
        bench.coach.catalog.invalidate()
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(ANA, "start"))
        fake.dm_message(ANA, "Ana")
        await fake.wait_for(
            lambda: any("Plan test" in str(m.buttons()) for m in fake.dm_messages(ANA))
        )
        menu = next(m for m in fake.dm_messages(ANA) if "Plan test" in str(m.buttons()))
        await bench.press(ANA, menu, "Plan test")
        await bench.answered(fake.user_runs_command_in_dm(ANA, "skip"))
        count = len(fake.dm_messages(ANA))
        fake.dm_message(ANA, friday.isoformat())
        await fake.wait_for(lambda: len(fake.dm_messages(ANA)) > count)
        sent = await bench.answered(fake.user_runs_command_in_dm(ANA, "plan", format="ics"))
        files = [a for m in sent.messages() for a in m.attachments]
        assert [f["filename"] for f in files] == ["release-plan.ics"]
        shown = await bench.answered(fake.user_runs_command_in_dm(ANA, "plan"))
        assert f"Release: {show_date(friday)}" in shown.texts()


async def test_terminal_chat_plans_and_saves_the_calendar_file(
    database: Database, tmp_path: Path
) -> None:
    write_plan_roadmap(tmp_path / "roadmaps")
    friday = good_friday(datetime.now(UTC).date())
    thursday = friday - timedelta(days=1)
    lines = ["/start", "Maya", "1", "/skip", thursday.isoformat(), friday.isoformat()]
    lines += ["/plan", "/plan ics"]
    result = await run_coach(
        "chat",
        "--db",
        database.url,
        "--user",
        "maya",
        stdin="\n".join(lines) + "\n",
        env={"ROADMAPS_DIR": str(tmp_path / "roadmaps")},
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "That's a Thursday — it should be a Friday." in out
    assert f"  [1] {show_date(friday)}" in out
    assert f"Keep {show_date(thursday)} anyway" in out
    assert f"Release: {show_date(friday)}" in out
    assert "[file: " in out
    assert "release-plan.ics" in out
