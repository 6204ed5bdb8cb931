"""Bands through the core: one shared roadmap per server, credit for who did what, managers.

Everything goes through ``Coach.handle()`` with guild events (``chat_type="guild"``), on SQLite
and PostgreSQL; the concurrency test runs on PostgreSQL, where workers share the state.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from bandkit import GuildDriver, first_checklist
from coachkit import catalog_of, count, synced_coach
from sqlalchemy import select

from core.app.engine import SORRY, Coach
from core.db.engine import Database
from core.db.models import (
    Band,
    BandAssignment,
    BandMember,
    Event,
    Identity,
    Profile,
    User,
    UserTaskProgress,
)
from core.kernel.audit import latest
from core.kernel.payloads import encode
from core.kernel.types import Inbound, Toast

INDIE = "indie-singer-songwriter"


async def _user_id(database: Database, external: str) -> uuid.UUID:
    async with database.transaction() as session:
        return (
            await session.scalars(
                select(Identity.user_id).where(
                    Identity.platform == "discord", Identity.external_id == external
                )
            )
        ).one()


async def _band_profile(database: Database, server: str = "900") -> Profile:
    async with database.transaction() as session:
        return (
            await session.scalars(
                select(Profile)
                .join(Band, Band.id == Profile.band_id)
                .where(Band.external_id == server)
            )
        ).one()


async def _band_with_two(
    database: Database,
) -> tuple[Coach, GuildDriver, GuildDriver]:
    """A band on the indie roadmap with its manager (Ana) and a member (Ben)."""
    coach = await synced_coach(database)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    ben = GuildDriver(coach, "1002", name="Ben")
    await ana.say("/band create The Night Owls")
    assert "The Night Owls" in ana.text
    await ben.say("/band join")
    assert "Welcome to" in ben.text
    await ana.say("/start")
    await ana.press("Indie")
    return coach, ana, ben


async def _walk_to_checklist(database: Database, driver: GuildDriver) -> None:
    index, _task = first_checklist(await catalog_of(database), INDIE)
    for _ in range(index):
        await driver.say("/skip")


async def test_band_journey_credits_each_member(database: Database) -> None:
    _coach, ana, ben = await _band_with_two(database)
    await _walk_to_checklist(database, ana)
    _, checklist = first_checklist(await catalog_of(database), INDIE)
    first, second = checklist.items[0], checklist.items[1]
    await ana.press_payload(encode("tick", checklist.slug, first.key))
    await ben.press_payload(encode("tick", checklist.slug, second.key))
    band = await _band_profile(database)
    async with database.transaction() as session:
        row = (
            await session.scalars(
                select(UserTaskProgress).where(
                    UserTaskProgress.profile_id == band.id,
                    UserTaskProgress.task_id == checklist.id,
                )
            )
        ).one()
    ana_id, ben_id = await _user_id(database, "1001"), await _user_id(database, "1002")
    assert row.task_data["ticked"] == [first.key, second.key]
    assert row.task_data["ticked_by"] == {first.key: str(ana_id), second.key: str(ben_id)}
    # nothing landed on either member's solo profile
    assert await count(database, UserTaskProgress, UserTaskProgress.profile_id != band.id) == 0
    # the remaining items by Ben complete the checklist in his name
    for item in checklist.items[2:]:
        await ben.press_payload(encode("tick", checklist.slug, item.key))
    async with database.transaction() as session:
        row = (
            await session.scalars(
                select(UserTaskProgress).where(UserTaskProgress.task_id == checklist.id)
            )
        ).one()
        events = (await session.scalars(select(Event).where(Event.type == "task.completed"))).all()
    assert row.status == "completed"
    assert row.completed_by == ben_id
    assert [e.user_id for e in events] == [ben_id]
    await ana.say("/band progress")
    text = ana.text
    assert "The Night Owls" in text
    assert "Who did what" in text
    assert "Ana: 1 item(s) ticked, 0 task(s) finished" in text
    ben_ticks = len(checklist.items) - 1
    assert f"Ben: {ben_ticks} item(s) ticked, 1 task(s) finished" in text


async def test_member_of_another_server_is_refused_and_audited(database: Database) -> None:
    coach, ana, _ben = await _band_with_two(database)
    await _walk_to_checklist(database, ana)
    _, checklist = first_checklist(await catalog_of(database), INDIE)
    # Cleo has her own band in server 700; in server 900 she is nobody's member
    cleo_home = GuildDriver(coach, "2001", server="700", channel="701", name="Cleo", manager=True)
    await cleo_home.say("/band create Cleo's Crew")
    cleo_here = GuildDriver(coach, "2001", name="Cleo")
    replies = await cleo_here.press_payload(encode("tick", checklist.slug, checklist.items[0].key))
    assert "not in" in cleo_here.text
    assert "The Night Owls" in cleo_here.text
    assert all(isinstance(r, Toast) and r.ephemeral for r in replies)
    await cleo_here.say("/band progress")
    assert "Who did what" not in cleo_here.text
    assert await count(database, UserTaskProgress, UserTaskProgress.task_id == checklist.id) == 0
    entries = [e for e in await latest(database) if e.action == "band.access"]
    assert len(entries) == 1, "her second refusal within the minute is counted, not written"
    assert entries[0].outcome == "denied"
    assert entries[0].actor == "discord:2001"
    assert entries[0].actor_user_id == await _user_id(database, "2001")
    # and in her own server she sees only her own band
    await cleo_home.say("/band progress")
    assert "Cleo's Crew" in cleo_home.text
    assert "Night Owls" not in cleo_home.text


async def test_role_holders_are_members_and_others_cannot_join(database: Database) -> None:
    coach = await synced_coach(database)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create Owls <@&555>")
    assert "everyone with the role is in" in ana.text
    dee = GuildDriver(coach, "1003", name="Dee", roles=("555",))
    await dee.say("/band members")
    assert "Dee" in dee.text  # a role holder acts at once, and is listed (and credited)
    eve = GuildDriver(coach, "1004", name="Eve", roles=("444",))
    await eve.say("/band join")
    assert "holders of its role" in eve.text
    assert await count(database, BandMember) == 2  # Ana and Dee
    assert next(e.action for e in await latest(database)) == "band.join"


async def test_creating_needs_manage_server(database: Database) -> None:
    coach = await synced_coach(database)
    bob = GuildDriver(coach, "1005", name="Bob")
    await bob.say("/band create Bob's Band")
    assert "Only server managers" in bob.text
    assert await count(database, Band) == 0
    [entry] = await latest(database)
    assert (entry.action, entry.outcome) == ("band.create", "denied")
    await bob.say("/today")
    assert "no band in this server" in bob.text
    ana = GuildDriver(coach, "1001", manager=True)
    await ana.say("/band create Owls")
    await ana.say("/band create Again")
    assert "already has a band" in ana.text
    await ana.say(f"/band create x{'y' * 80}")
    assert await count(database, Band) == 1


async def test_manager_actions(database: Database) -> None:
    _coach, ana, ben = await _band_with_two(database)
    await ana.say("/skip")
    await ben.say("/band rename The Larks")
    assert "Only server managers" in ben.text
    await ben.say("/band reset")
    assert "Only server managers" in ben.text
    await ana.say("/band rename The Larks")
    assert "The Larks" in ana.text
    assert (await _band_profile(database)).artist_name == "The Larks"
    # reset asks first; "Keep it" changes nothing, a member can't press "Yes"
    await ana.say("/band reset")
    await ana.press("Keep it")
    assert "nothing was reset" in ana.text
    assert await count(database, UserTaskProgress) == 1
    await ana.say("/band reset")
    await ben.press_payload(encode("band_reset"))
    assert "Only server managers" in ben.text
    await ana.press("Yes, reset")
    assert "starts afresh" in ana.text
    assert await count(database, UserTaskProgress) == 0
    assert (await _band_profile(database)).roadmap_id is None
    await ana.press_payload(encode("band_reset"))  # a stale second press
    assert "expired" in ana.text
    actions = [(e.action, e.outcome) for e in await latest(database)]
    assert ("band.reset", "ok") in actions
    assert ("band.reset", "denied") in actions
    assert ("band.rename", "denied") in actions
    # remove a member: they lose access at once
    await ana.say("/band remove <@1002>")
    assert "Removed" in ben.text or "Removed" in ana.text
    await ben.say("/band progress")
    assert "not in" in ben.text


async def test_assign_a_task(database: Database) -> None:
    _coach, ana, ben = await _band_with_two(database)
    catalog = await catalog_of(database)
    roadmap = catalog.roadmap_by_slug(INDIE)
    assert roadmap is not None
    task = roadmap.stages[0].tasks[1]
    await ana.say(f"/assign {task.title} <@1002>")
    assert f"{task.title} is now Ben's job" in ana.text
    await ana.say(f"/assign {task.title} <@3333>")
    assert "aren't in the band" in ana.text
    await ana.say("/assign nothing-like-this <@1002>")
    assert "couldn't find" in ana.text
    await ben.say("/band progress")
    assert f"{task.title} → Ben" in ben.text
    await ana.say("/skip")  # the assigned task is next: its card says whose job it is
    assert "📌 Ben's job" in ana.text
    async with database.transaction() as session:
        [row] = (await session.scalars(select(BandAssignment))).all()
    assert row.user_id == await _user_id(database, "1002")
    assert row.assigned_by == await _user_id(database, "1001")


async def test_replayed_guild_event_has_no_second_effect(database: Database) -> None:
    _coach, ana, _ben = await _band_with_two(database)
    first = await ana.say("/skip", update_id="int-77")
    assert first
    again = await ana.say("/skip", update_id="int-77")
    assert again == []
    assert await count(database, UserTaskProgress) == 1


async def test_personal_commands_point_to_dms(database: Database) -> None:
    _coach, ana, _ben = await _band_with_two(database)
    await ana.say("/link")
    assert "DM me" in ana.text


@pytest.mark.postgres_only
async def test_two_members_tick_one_checklist_at_once(database: Database) -> None:
    coach, ana, ben = await _band_with_two(database)
    await _walk_to_checklist(database, ana)
    _, checklist = first_checklist(await catalog_of(database), INDIE)
    other_worker = Coach(Database(database.url))
    try:
        presses = []
        for n, item in enumerate(checklist.items):
            member, worker = (ana, coach) if n % 2 == 0 else (ben, other_worker)
            payload = encode("tick", checklist.slug, item.key)
            presses += [worker.handle(member.inbound(kind="button", payload=payload))] * 1
            presses.append(coach.handle(member.inbound(kind="button", payload=payload)))
        results = await asyncio.gather(*presses)
    finally:
        await other_worker.db.dispose()
    assert not any(SORRY in r.text for replies in results for r in replies)
    async with database.transaction() as session:
        row = (
            await session.scalars(
                select(UserTaskProgress).where(UserTaskProgress.task_id == checklist.id)
            )
        ).one()
    assert sorted(row.task_data["ticked"]) == sorted(i.key for i in checklist.items)
    ana_id, ben_id = await _user_id(database, "1001"), await _user_id(database, "1002")
    expected = {
        item.key: str(ana_id if n % 2 == 0 else ben_id) for n, item in enumerate(checklist.items)
    }
    assert row.task_data["ticked_by"] == expected
    assert row.status == "completed"
    assert await count(database, Event, Event.type == "task.completed") == 1


async def test_band_channel_gets_the_news(database: Database) -> None:
    _coach, ana, ben = await _band_with_two(database)
    ana.channel = "905"
    await ana.say("/band channel")
    assert "this channel" in ana.text
    await _walk_to_checklist(database, ben)
    _, checklist = first_checklist(await catalog_of(database), INDIE)
    replies = []
    for item in checklist.items:  # Ben finishes the checklist from another channel
        replies = await ben.press_payload(encode("tick", checklist.slug, item.key))
    [news] = [r for r in replies if r.chat_id == "905"]
    assert f"Ben* finished *{checklist.title}" in news.text
    assert all(r.chat_id is None for r in replies if r is not news)


async def test_a_member_named_with_control_characters_is_stored_clean(
    database: Database,
) -> None:
    """Found by the fuzz test on PostgreSQL: a band member's first event created the person
    with the platform's display name as given, and PostgreSQL refuses NUL in text. Names are
    now cleaned and cut to the column when the ``Inbound`` is built, on every path."""
    coach = await synced_coach(database)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    odd = GuildDriver(coach, "1003", name="Z\x00oë 🎸" + "x" * 300)
    await odd.say("/band join")
    assert SORRY not in odd.text
    assert "Welcome to" in odd.text
    user_id = await _user_id(database, "1003")
    async with database.transaction() as session:
        user = await session.get(User, user_id)
        assert user is not None
        assert user.display_name == ("Zoë 🎸" + "x" * 300)[:120]


def test_inbound_names_fit_their_columns() -> None:
    event = Inbound(
        platform="discord",
        user_id="1",
        chat_id="1",
        kind="text",
        display_name="\x00\x07",
        locale="en-GB\x00" + "x" * 40,
    )
    assert event.display_name is None
    assert event.locale == ("en-GB" + "x" * 40)[:16]
