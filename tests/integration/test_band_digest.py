"""A band's weekly digest on SQLite and PostgreSQL (issue #14 §2): switched on by ``/band
channel``, shown to any member with ``/band digest``, set by managers only (a member's try is
refused and audited), delivered by the real tick to the band's channel exactly once per ISO
week with two claimers, crediting who did what and naming (and listing for pings) the
assignees, and backing off for a band silent for weeks.

Everything goes through ``Coach.handle()`` with guild events and the real tick (fake clock,
recording notifier)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bandkit import GuildDriver, first_checklist, night_owls
from coachkit import catalog_of, synced_coach
from reminderkit import FakeClock, RecordingNotifier, delivery_rows, reminder_rows

from core.app.engine import Coach
from core.coaching.review.week import week_of
from core.db.engine import Database
from core.kernel.audit import latest
from core.kernel.markup import to_plain
from core.kernel.types import Card, NoticeKind
from core.reminders.tick import ReminderTick
from core.roadmaps.catalog import TaskInfo

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday
INDIE = "indie-singer-songwriter"


async def _band(database: Database, clock: FakeClock) -> tuple[Coach, GuildDriver, GuildDriver]:
    """The Night Owls on the indie roadmap: Ana manages, Ben joined."""
    coach = await synced_coach(database, clock=clock)
    ana, ben = await night_owls(coach)
    return coach, ana, ben


async def _digest_rows(database: Database) -> list[object]:
    return [r for r in await reminder_rows(database) if r.kind == "digest"]


async def _finish_the_first_checklist(database: Database, member: GuildDriver) -> TaskInfo:
    """Skip to the band's first checklist and tick every item of it; the task."""
    index, checklist = first_checklist(await catalog_of(database), INDIE)
    for _ in range(index):
        await member.say("/skip")
    await member.say("/today")
    mine = f"v1:tk:{checklist.slug}:"
    for _ in range(12):
        ticks = [b.payload for b in member.buttons if b.payload.startswith(mine)]
        if not ticks:
            return checklist
        await member.press_payload(ticks[0])
    raise AssertionError("the checklist never completed")


async def test_channel_turns_it_on_members_see_it_only_managers_change_it(
    database: Database,
) -> None:
    clock = FakeClock(START)
    _coach, ana, ben = await _band(database, clock)
    assert await _digest_rows(database) == []  # no channel yet: no digest
    await ana.say("/band channel")
    assert "weekly digest too, Mondays at 10:00" in ana.text
    [row] = await _digest_rows(database)
    assert (row.band_id is not None, row.user_id, row.target_chat) == (True, None, "901")
    assert row.schedule == {"type": "weekly", "time": "10:00", "days": [0]}
    assert row.timezone == "UTC"  # Ana's, who never set hers
    due = row.next_due_at.replace(tzinfo=UTC)
    assert due.weekday() == 0
    assert (
        timedelta(hours=10) <= due - due.replace(hour=0, minute=0, second=0) < timedelta(hours=11)
    )

    # anyone in the band sees this week's now, pinging nobody
    replies = await ben.say("/band digest")
    [card] = replies
    assert isinstance(card, Card)
    assert card.form == "digest"
    assert card.mentions == ()
    assert "The Night Owls" in ben.text
    assert "Posted every Monday 10:00 (UTC)." in ben.text

    # a member can't change it: refused like the band's other settings, and audited
    for attempt in ("/band digest off", "/band digest friday 18:00"):
        replies = await ben.say(attempt)
        assert "Only the band's managers" in ben.text, attempt
        assert all(r.ephemeral for r in replies)
    [row] = await _digest_rows(database)
    assert not row.paused
    assert row.schedule["days"] == [0]
    denials = [e for e in await latest(database) if e.action == "band.digest"]
    assert denials
    assert all(e.outcome == "denied" and e.actor == "discord:1002" for e in denials)
    assert {e.target for e in denials} == {f"band:{row.band_id}"}

    # a manager switches it off; setting the channel again keeps it off
    await ana.say("/band digest off")
    assert "digest is off" in ana.text
    await ana.say("/band digest off")
    assert "already off" in ana.text
    ana.channel = "905"
    await ana.say("/band channel")
    assert "weekly digest" not in ana.text
    [row] = await _digest_rows(database)
    assert (row.paused, row.target_chat) == (True, "905")  # off, moved with the band's updates
    await ben.say("/band digest")
    assert "Managers: /band digest on posts this every week" in ben.text

    # ...and on at another time; bad input gets a clear answer and changes nothing
    await ana.say("/band digest someday")
    assert "I don't know the day “someday”" in ana.text
    assert "Usage: /band digest" in ana.text
    await ana.say("/band digest " + "friday " * 10)
    assert "too long for a day and a time" in ana.text
    await ana.say("/band digest 25:00")
    assert "isn't a time of day" in ana.text
    [row] = await _digest_rows(database)
    assert row.paused
    await ana.say("/band digest friday 18:00")
    assert "Friday 18:00" in ana.text
    assert "the band's updates channel" in ana.text
    [row] = await _digest_rows(database)
    assert not row.paused
    assert row.schedule == {"type": "weekly", "time": "18:00", "days": [4]}

    # the band's timezone and quiet hours are the digest's too
    await ana.say("/timezone Europe/Berlin")
    await ana.say("/quiet 22:00-08:00")
    [row] = await _digest_rows(database)
    assert (row.timezone, row.quiet_start, row.quiet_end) == ("Europe/Berlin", "22:00", "08:00")
    await ana.say("/timezone")  # no band reminder, so the card speaks of the digest
    assert "The band's weekly digest runs on Europe/Berlin" in ana.text


async def test_the_tick_posts_each_weeks_digest_once_with_two_claimers(
    database: Database,
) -> None:
    clock = FakeClock(START)
    _coach, ana, ben = await _band(database, clock)
    await ana.say("/band channel")
    done = await _finish_the_first_checklist(database, ana)  # credited to Ana
    await ben.say("/update listeners 1200")  # a number, credited to Ben
    roadmap = (await catalog_of(database)).roadmap_by_slug(INDIE)
    assert roadmap is not None
    task = roadmap.stages[-1].tasks[-1].title  # undated, open: Ben's job
    await ana.say(f"/assign {task} <@1002>")
    assert "is now Ben's job" in ana.text
    [row] = await _digest_rows(database)

    notifier = RecordingNotifier(platform="discord")
    ticks = [
        ReminderTick(database, {"discord": notifier}, clock=clock, worker=f"w{n}") for n in range(2)
    ]
    assert [(await t.run()).sent for t in ticks] == [0, 0]  # not Monday yet

    clock.set(row.next_due_at.replace(tzinfo=UTC) + timedelta(seconds=1))
    reports = await asyncio.gather(*(t.run() for t in ticks))
    assert sum(r.sent for r in reports) == 1
    [(chat, [card])] = notifier.sent
    assert chat == "901"
    assert isinstance(card, Card)
    assert (card.form, card.notice) == ("digest", NoticeKind.DIGEST)
    text = to_plain(card.text)
    assert "The Night Owls — the week · " in text  # on Monday: the week just finished
    assert f"Ana: ✅ {done.title}" in text
    assert "Ben: 📈 1 number" in text
    assert f"{task} — assigned → Ben" in text
    assert card.mentions == ("1002",)  # only the assignee may be pinged
    assert "Next week's focus" in text
    [delivery] = await delivery_rows(database, "digest")
    year, week, _ = clock().date().isocalendar()
    assert delivery.idempotency_key == f"{row.id.hex}:{year}-W{week:02d}:digest"
    assert delivery.target_chat == "901"

    again = await asyncio.gather(*(t.run() for t in ticks))
    assert sum(r.sent for r in again) == 0  # never twice in a week
    clock.advance(days=3)
    assert sum([(await t.run()).sent for t in ticks]) == 0

    # next week's comes, once, under next week's key
    await ben.say("/today")  # the band is active: no back-off
    [row] = await _digest_rows(database)
    clock.set(row.next_due_at.replace(tzinfo=UTC) + timedelta(seconds=1))
    reports = await asyncio.gather(*(t.run() for t in ticks))
    assert sum(r.sent for r in reports) == 1
    keys = [d.idempotency_key for d in await delivery_rows(database, "digest")]
    nxt = week_of(clock().date(), UTC).label
    assert keys[-1].endswith(f":{nxt}:digest")
    assert len(set(keys)) == 2


async def test_a_silent_band_gets_it_every_other_week_until_someone_acts(
    database: Database,
) -> None:
    clock = FakeClock(START)
    _coach, ana, _ben = await _band(database, clock)
    await ana.say("/band channel")
    notifier = RecordingNotifier(platform="discord")
    tick = ReminderTick(database, {"discord": notifier}, clock=clock)
    sent: list[int] = []
    for _week in range(6):  # nobody does anything for six weeks
        [row] = await _digest_rows(database)
        clock.set(row.next_due_at.replace(tzinfo=UTC) + timedelta(seconds=1))
        sent.append((await tick.run()).sent)
    # weekly while the band was active lately; after 3 silent weeks every 2nd week
    assert sent == [1, 1, 1, 0, 1, 0]
    await ana.say("/today")  # someone acts: weekly again
    [row] = await _digest_rows(database)
    clock.set(row.next_due_at.replace(tzinfo=UTC) + timedelta(seconds=1))
    assert (await tick.run()).sent == 1
    assert all(
        to_plain(replies[0].text).startswith("🌱 A quiet week") for _c, replies in notifier.sent
    )
