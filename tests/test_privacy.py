"""A musician's own data: /export gives all of it, /forget deletes all of it (after asking),
/broadcasts off opts out. "All of it" is checked against every table of the schema."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from coachkit import Driver, catalog_of, count, synced_coach, valid_answer
from fakes.telegram_api import FakeTelegram
from sqlalchemy import select

from bot.telegram.app import TelegramFrontEnd
from core.admin import broadcast
from core.admin.audit import latest, record
from core.conversation.engine import Coach
from core.conversation.payloads import encode
from core.db.base import Base, utcnow
from core.db.engine import Database
from core.db.models import (
    Band,
    BandMember,
    Broadcast,
    Delivery,
    Identity,
    Profile,
    Reminder,
    StatSample,
    User,
    UserTaskProgress,
)

ARTIST = "Zyxwvut Qoph"  # distinctive: any leftover shows up in a text scan
HANDLE = "maya-q7z"


async def _scan(db: Database, needles: list[str]) -> list[str]:
    """Every (table, column) of the whole schema whose value mentions one of ``needles``."""
    hits = []
    async with db.transaction() as session:
        for table in Base.metadata.sorted_tables:
            for row in await session.execute(select(table)):
                for column, value in row._mapping.items():
                    text = json.dumps(value, default=str) if value is not None else ""
                    for needle in needles:
                        if needle.casefold() in text.casefold():
                            hits.append(f"{table.name}.{column}: {text[:80]}")
    return hits


async def _rich_musician(database: Database) -> tuple[Coach, Driver, uuid.UUID]:
    """A musician with rows in as many tables as possible, and a bystander with rows too."""
    coach = await synced_coach(database)
    coach = Coach(database, admins=["console:boss"], catalog=coach.catalog)
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
    return coach, maya, user_id


async def test_export_then_forget_leaves_nothing(database: Database) -> None:
    _coach, maya, user_id = await _rich_musician(database)
    assert await count(database, StatSample) >= 2  # maya's own answer and the band's sample
    before_other = await count(database, UserTaskProgress)

    replies = await maya.say("/export")
    [reply] = replies
    assert reply.file is not None
    assert reply.file_name is not None
    assert reply.file_name.endswith(".json")
    exported = json.loads(reply.file)
    assert exported["user_id"] == str(user_id)
    assert set(exported["identities"]) == {f"console:{HANDLE}", "telegram:777000111"}
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
    mentions = exported["rows_that_mention_you"]
    assert {"audit_log", "stat_samples", "broadcasts"} <= set(mentions)
    assert ("privacy.export", "ok") in [(e.action, e.outcome) for e in await latest(database, 3)]

    needles = [str(user_id), user_id.hex, HANDLE, ARTIST, "777000111"]
    assert await _scan(database, needles)  # the scan does find them while they exist

    await maya.say("/forget")
    assert "Delete everything" in maya.text
    assert await count(database, User, User.id == user_id) == 1  # not before confirming
    await maya.press("Yes, delete")
    assert "everything I knew about you is deleted" in maya.text

    assert await _scan(database, needles) == []
    assert await count(database, User, User.id == user_id) == 0
    # the bystander and the band keep their data
    assert await count(database, UserTaskProgress) >= 1
    assert await count(database, UserTaskProgress) < before_other
    assert await count(database, Band) == 1
    assert await count(database, BandMember) == 1
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
        assert reply.file is None
        assert not reply.buttons
