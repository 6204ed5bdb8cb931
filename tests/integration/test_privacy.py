"""A musician's own data: /export gives all of it, /forget deletes all of it (after asking),
/broadcasts off opts out. "All of it" is checked against every table of the schema."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from bandkit import GuildDriver, first_checklist
from coachkit import Driver, catalog_of, count, synced_coach, valid_answer
from fakes.telegram_api import FakeTelegram
from sqlalchemy import select

from bot.telegram.app import TelegramFrontEnd
from core.admin import broadcast
from core.app.engine import Coach
from core.db.base import Base, utcnow
from core.db.engine import Database
from core.db.models import (
    Band,
    BandMember,
    Broadcast,
    ConversationState,
    Delivery,
    Event,
    Identity,
    Profile,
    Reminder,
    StatSample,
    StatsChart,
    User,
    UserTaskProgress,
)
from core.kernel.audit import latest, record
from core.kernel.payloads import encode
from core.kernel.types import Document

ARTIST = "Zyxwvüt Qoph"  # distinctive (and not ASCII): any leftover shows up in a scan
HANDLE = "maya-q7z"
DISCORD = "5550001"  # Maya's Discord account, in a band


def _walk(value: Any, at: str) -> list[tuple[str, str]]:
    """Every key and every scalar inside ``value`` (JSON walked recursively), as text with its
    place: ``("$.ticked_by.item-1", "<uuid>")``. Non-ASCII stays as it is (``json.dumps``
    would escape it, and a needle like "ü" would never match)."""
    if isinstance(value, dict):
        return [
            hit
            for key, inner in value.items()
            for hit in [(f"{at}.{key}", str(key)), *_walk(inner, f"{at}.{key}")]
        ]
    if isinstance(value, list | tuple):
        return [hit for i, inner in enumerate(value) for hit in _walk(inner, f"{at}[{i}]")]
    return [] if value is None else [(at, str(value))]


async def _scan(db: Database, needles: list[str]) -> list[str]:
    """Every place in the whole schema — each column of each row, and inside JSON each key and
    each value, recursively — that mentions one of ``needles``."""
    hits = []
    async with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in await session.execute(select(table)):
                for column, value in row._mapping.items():
                    for place, text in _walk(value, f"{table.name}.{column}$"):
                        hits += [
                            f"{place}: {text[:80]}"
                            for needle in needles
                            if needle.casefold() in text.casefold()
                        ]
    return hits


async def _rich_musician(database: Database) -> tuple[Coach, Driver, uuid.UUID]:
    """A musician with rows in as many tables as possible, and a bystander with rows too."""
    coach = await synced_coach(database)
    coach = Coach(database, admins=["console:boss", f"console:{HANDLE}"], catalog=coach.catalog)
    catalog = await catalog_of(database)
    maya = Driver(coach, HANDLE)
    await maya.onboard(ARTIST)
    # work through the first stage: answers (stats samples), a tick, skips
    roadmap = catalog.roadmap_by_slug("indie-singer-songwriter")
    assert roadmap is not None
    for task in roadmap.stages[0].tasks:
        if task.input is not None:
            await maya.say(valid_answer(catalog, task.slug, utcnow().date()))
            continue
        if task.is_checklist:
            await maya.press_payload(encode("tick", task.slug, task.items[0].key))
        await maya.say("/skip")
    bystander = Driver(coach, "other-person")
    await bystander.onboard("Bystander")
    await bystander.say("/skip")
    async with database.transaction() as session:
        user_id = (
            await session.execute(select(Identity.user_id).where(Identity.external_id == HANDLE))
        ).scalar_one()
        other_id = (
            await session.execute(
                select(Identity.user_id).where(Identity.external_id == "other-person")
            )
        ).scalar_one()
        session.add(Identity(user_id=user_id, platform="telegram", external_id="777000111"))
        session.add(Identity(user_id=user_id, platform="discord", external_id=DISCORD))
        reminder = Reminder(
            user_id=user_id, kind="daily", platform="telegram", target_chat="777000111"
        )
        session.add(reminder)
        await session.flush()
        session.add(
            Delivery(
                idempotency_key=f"reminder:{reminder.id}:1",
                reminder_id=reminder.id,
                user_id=user_id,
                kind="reminder",
                platform="telegram",
                target_chat="777000111",
                status="sent",
            )
        )
        band = Band(name="The Others", platform="discord", external_id="guild-1")
        session.add(band)
        await session.flush()
        session.add(BandMember(band_id=band.id, user_id=user_id, role="manager"))
        session.add(BandMember(band_id=band.id, user_id=other_id, role="member"))
        band_profile = Profile(band_id=band.id, artist_name="The Others")
        session.add(band_profile)
        await session.flush()
        # her /stats chart, as /stats stores it: derived from her numbers, forgotten with them
        own_profile = await session.scalar(select(Profile.id).where(Profile.user_id == user_id))
        session.add(
            StatsChart(profile_id=own_profile, digest="0" * 32, png=b"\x89PNG", drawn_at=utcnow())
        )
        # a band sample Maya recorded: the band keeps it, Maya's name on it goes
        session.add(
            StatSample(
                profile_id=band_profile.id, metric="fans", value=Decimal(5), recorded_by=user_id
            )
        )
        session.add(Broadcast(text="Hi all", status="done", created_by=user_id,
                              report_platform="telegram", report_chat="777000111"))  # fmt: skip
    await record(
        database,
        actor=f"console:{HANDLE}",
        action="admin.stats",
        outcome="denied",
        actor_user_id=user_id,
    )
    await record(
        database,
        actor="console:boss",
        action="admin.reset",
        outcome="ok",
        target=f"console:{HANDLE}",
        details={"note": f"reset {ARTIST}"},
    )
    await record(  # their user id, not a handle: as /link and /unlink write it
        database,
        actor="discord:42",
        action="account.unlink",
        outcome="ok",
        target=f"user:{user_id}",
        details={"new_user": str(user_id)},
    )
    await _band_life(coach, database)
    await maya.say(f"/admin broadcast Hello from {ARTIST}!")  # a draft, never sent
    assert "Broadcast preview" in maya.text
    return coach, maya, user_id


async def _band_life(coach: Coach, database: Database) -> None:
    """Maya in Ben's band: she is assigned a task and ticks all but one item of a checklist,
    then Ben ticks the last. Her id is now inside the band's JSON: the checklist's
    ``ticked_by``, the band's undo snapshot of the row before Ben's tick, and the
    ``task.assigned`` event."""
    ben = GuildDriver(coach, "4040", name="Ben", manager=True)
    maya = GuildDriver(coach, DISCORD, name="Maya D")
    await ben.say("/band create The Night Owls")
    await maya.say("/band join")
    await ben.say("/start")
    await ben.press("Indie")
    index, checklist = first_checklist(await catalog_of(database), "indie-singer-songwriter")
    roadmap = (await catalog_of(database)).roadmap_by_slug("indie-singer-songwriter")
    assert roadmap is not None
    later = roadmap.stages[0].tasks[index + 1]
    await ben.say(f"/assign {later.title} <@{DISCORD}>")
    assert "'s job" in ben.text
    for _ in range(index):
        await ben.say("/skip")
    for item in checklist.items[:-1]:
        await maya.press_payload(encode("tick", checklist.slug, item.key))
    await ben.press_payload(encode("tick", checklist.slug, checklist.items[-1].key))
    assert "done!" in ben.text


async def test_export_then_forget_leaves_nothing(database: Database) -> None:
    _coach, maya, user_id = await _rich_musician(database)
    assert await count(database, StatSample) >= 2  # maya's own answer and the band's sample
    before_other = await count(database, UserTaskProgress)

    replies = await maya.say("/export")
    [reply] = replies
    assert isinstance(reply, Document)
    assert reply.name.endswith(".json")
    exported = json.loads(reply.file)
    assert exported["user_id"] == str(user_id)
    assert set(exported["identities"]) == {
        f"console:{HANDLE}",
        "telegram:777000111",
        f"discord:{DISCORD}",
    }
    mine = exported["your_rows"]
    for table in (
        "users",
        "identities",
        "profiles",
        "conversation_state",
        "user_task_progress",
        "reminders",
        "deliveries",
        "band_members",
        "events",
    ):
        assert mine.get(table), f"{table} missing from the export"
    assert mine["profiles"][0]["artist_name"] == ARTIST
    # the chart drawn from her numbers is hers, but only named: the numbers are exported
    assert "stats_charts" not in mine
    assert exported["derived_left_out"] == ["stats_charts"]
    assert [b["text"] for b in mine["broadcasts"]] == [f"Hello from {ARTIST}!"]  # the draft
    mentions = exported["rows_that_mention_you"]
    assert {"audit_log", "stat_samples", "broadcasts"} <= set(mentions)
    assert any(a["target"] == f"user:{user_id}" for a in mentions["audit_log"])
    in_json = {
        (v["table"], v["column"], ".".join(v["path"][:-1]))
        for v in exported["values_that_mention_you"]
    }
    assert in_json == {
        ("user_task_progress", "task_data", "ticked_by"),
        ("conversation_state", "undo", "row.task_data.ticked_by"),
        ("events", "payload", ""),
    }
    assert {v["value"] for v in exported["values_that_mention_you"]} == {str(user_id)}
    assert ("privacy.export", "ok") in [(e.action, e.outcome) for e in await latest(database, 3)]

    # (user_id.hex: how a broadcast's delivery key would name them; none was sent to Maya)
    needles = [str(user_id), user_id.hex, HANDLE, ARTIST, "777000111", DISCORD]
    found = await _scan(database, needles)
    for needle in needles[:1] + needles[2:]:  # the scan finds each while they exist (the hex
        assert any(needle.casefold() in hit.casefold() for hit in found), needle
    for place in (  # ... inside JSON values too
        "user_task_progress.task_data$.ticked_by.",
        "conversation_state.undo$.row.task_data.ticked_by.",
        "events.payload$.assignee",
        "audit_log.details$.new_user",
        "broadcasts.text$",
    ):
        assert any(hit.startswith(place) for hit in found), place

    await maya.say("/forget")
    assert "Delete everything" in maya.text
    assert await count(database, User, User.id == user_id) == 1  # not before confirming
    await maya.press("Yes, delete")
    assert "everything I knew about you is deleted" in maya.text

    assert await _scan(database, needles) == []
    assert await count(database, User, User.id == user_id) == 0
    assert await count(database, StatsChart) == 0, "her chart went with her profile"
    assert await count(database, Event, Event.type == "task.assigned") == 1  # the band's, kept
    # the bystander and the band keep their data
    assert await count(database, UserTaskProgress) >= 1
    assert await count(database, UserTaskProgress) < before_other
    assert await count(database, Band) == 2
    assert await count(database, BandMember) == 2  # the bystander in one band, Ben in the other
    assert await count(database, StatSample, StatSample.recorded_by.is_(None)) == 1
    assert await count(database, Broadcast) == 1
    # the audit log keeps that it happened, under a pseudonym
    entries = await latest(database, 50)
    [forgot] = [e for e in entries if e.action == "privacy.forget"]
    assert forgot.actor.startswith("forgotten:")
    assert forgot.actor_user_id is None
    assert forgot.details["rows_deleted"] > 10
    assert any(e.action == "admin.stats" and e.actor == forgot.actor for e in entries)
    assert any(e.action == "admin.reset" and e.target == forgot.actor for e in entries)
    # the band keeps its ticks and its undo, credited to the same pseudonym (or to nobody)
    async with database.transaction() as session:
        ticks = [
            r.task_data["ticked_by"]
            for r in (await session.scalars(select(UserTaskProgress))).all()
            if r.task_data.get("ticked_by")
        ]
        undo = [s.undo for s in (await session.scalars(select(ConversationState))).all() if s.undo]
    [band_ticks] = [t for t in ticks if forgot.actor in t.values()]
    assert len(set(band_ticks.values()) - {forgot.actor}) == 1, "Ben's own tick is his"
    [band_undo] = [u for u in undo if u.get("row")]
    assert set(band_undo["row"]["task_data"]["ticked_by"].values()) == {forgot.actor}
    ben = GuildDriver(_coach, "4040", name="Ben", manager=True)
    await ben.say("/band progress")
    assert "Ben: 1 item(s) ticked, 1 task(s) finished" in ben.text
    await ben.say("/undo")  # the snapshot still restores
    assert "Undone" in ben.text

    # writing again starts fresh
    await maya.say("/start")
    assert "artist name" in maya.text


async def test_forget_asks_first_and_expires(database: Database) -> None:
    now = [utcnow()]
    coach = Coach(database, clock=lambda: now[0])
    maya = Driver(coach, "maya")
    await maya.say("/forget")
    assert "nothing to forget" in maya.text
    await maya.say("/start")
    await maya.say("Maya")
    await maya.say("/forget")
    await maya.press("Cancel")
    assert maya.text == "OK, nothing done."
    await maya.say("/forget")
    yes = maya.find("Yes, delete")
    now[0] += timedelta(minutes=11)
    await maya.press_payload(yes.payload)
    assert "expired" in maya.text
    assert await count(database, User) == 1
    # someone else pressing a copy of Maya's button forgets *themselves*, never Maya
    now[0] -= timedelta(minutes=11)
    eve = Driver(coach, "eve")
    await eve.say("/start")
    await eve.press_payload(yes.payload)
    assert await count(database, Identity, Identity.external_id == "maya") == 1
    assert await count(database, Identity, Identity.external_id == "eve") == 0


async def test_broadcast_opt_out(database: Database) -> None:
    coach = Coach(database)
    maya = Driver(coach, "maya", platform="telegram")
    await maya.say("/broadcasts off")
    assert "/start first" in maya.text
    await maya.say("/start")
    await maya.say("Maya")
    assert (await broadcast.audience(database)).recipients == 1
    await maya.say("/broadcasts off")
    assert "no more announcements" in maya.text
    who = await broadcast.audience(database)
    assert (who.recipients, who.opted_out) == (0, 1)
    await maya.say("/broadcasts")
    assert "/broadcasts off" in maya.text
    await maya.say("/broadcasts on")
    assert (await broadcast.audience(database)).recipients == 1


async def test_export_arrives_as_a_telegram_document(database: Database) -> None:
    coach = Coach(database)
    async with FakeTelegram() as fake:
        front = TelegramFrontEnd(coach, fake.token, api_base_url=fake.url)
        await front.start(poll_timeout=1)
        try:
            fake.user_message(4242, "/start")
            await fake.wait_for(lambda: len(fake.messages(4242)) == 1)
            fake.user_message(4242, "Maya <b>")
            await fake.wait_for(lambda: len(fake.messages(4242)) == 2)
            fake.user_message(4242, "/export")
            await fake.wait_for(lambda: fake.last(4242).document is not None)
        finally:
            await front.stop()
    message = fake.last(4242)
    assert message.document_name is not None
    assert message.document_name.endswith(".json")
    assert message.document is not None
    data: dict[str, Any] = json.loads(message.document)
    assert data["your_rows"]["profiles"][0]["artist_name"] == "Maya <b>"
    assert "everything I store about you" in message.plain_text


async def test_export_and_forget_only_in_private(database: Database) -> None:
    coach = Coach(database)
    maya = Driver(coach, "maya", platform="discord")
    await maya.say("/start")
    for command in ("/export", "/forget"):
        replies = await coach.handle(
            maya.inbound(kind="command", text=command, chat_type="guild", chat_id="chan-1")
        )
        [reply] = replies
        assert "in a private chat" in reply.text
        assert not isinstance(reply, Document)
        assert not reply.buttons


_BAND_STATE = (
    select(ConversationState)
    .join(Profile, Profile.id == ConversationState.profile_id)
    .where(Profile.band_id.is_not(None))
)


async def test_an_id_read_back_as_a_user_id_is_cleared_not_pseudonymised(
    database: Database,
) -> None:
    """The band's undo snapshot keeps ``completed_by`` as a user id, and ``/undo`` reads it back
    as one: forgetting its member must leave ``null`` there (the row's own ``completed_by``
    column is cleared the same way, by ``ON DELETE SET NULL``), never the pseudonym."""
    coach = await synced_coach(database)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await GuildDriver(coach, "1002", name="Maya").say("/band join")
    await ana.say("/start")
    await ana.press("Indie")
    await ana.say("/skip")  # the band's undo now holds a snapshot of that task
    async with database.transaction() as session:
        maya_id = (
            await session.execute(select(Identity.user_id).where(Identity.external_id == "1002"))
        ).scalar_one()
        state = (await session.scalars(_BAND_STATE)).one()
        # as history.snapshot() writes a row Maya had finished (no flow acts on a finished
        # task today, but the snapshot's format holds the field)
        state.undo = {
            **state.undo,
            "row": {
                "status": "completed",
                "task_data": {"ticked": ["a"], "ticked_by": {"a": str(maya_id)}},
                "completed_by": str(maya_id),
                "completed_at": "2026-11-26T12:00:00+00:00",
            },
        }
    maya = Driver(coach, "1002", platform="discord")
    await maya.say("/forget")
    await maya.press("Yes, delete")
    assert "deleted" in maya.text

    async with database.transaction() as session:
        undo = (await session.scalars(_BAND_STATE)).one().undo
    assert undo["row"]["completed_by"] is None
    assert undo["row"]["task_data"]["ticked_by"]["a"].startswith("forgotten:")
    await ana.say("/undo")
    assert "Undone" in ana.text
    async with database.transaction() as session:
        [row] = (await session.scalars(select(UserTaskProgress))).all()
    assert (row.status, row.completed_by) == ("completed", None)
