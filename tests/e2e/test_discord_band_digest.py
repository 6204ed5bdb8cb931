"""A band's weekly digest through the real Discord front end against the loopback fake.

``/band channel`` switches it on; the tick's digest arrives in the band channel through
``DiscordFrontEnd.notify`` as an embed, and its ``allowed_mentions`` let Discord ping exactly
the member a due task is assigned to — no one else, no role, never @everyone (the fake applies
Discord's rules: :meth:`FakeMessage.pinged`). ``/band digest`` shows it on request, pinging
nobody; a member's ``/band digest off`` is refused, only to them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from discordkit import ANA, BEN, CHANNEL, running
from reminderkit import FakeClock, reminder_rows

from core.db.engine import Database
from core.kernel.notify import by_platform
from core.reminders.tick import ReminderTick

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday


async def test_the_weekly_digest_is_an_embed_that_pings_only_the_assignee(
    database: Database,
) -> None:
    clock = FakeClock(START)
    async with running(database, clock=clock) as bench:
        await bench.command(ANA, "band", sub="create", name="Night Owls")
        await bench.command(BEN, "band", sub="join")
        start = await bench.command(ANA, "start")
        menu = next(m for m in start.messages() if any("Indie" in b for b, _ in m.buttons()))
        await bench.press(ANA, menu, "Indie")
        on = await bench.command(ANA, "band", sub="channel")
        assert any("weekly digest too" in m.text() for m in on.messages())
        catalog = await bench.coach.catalog.current(bench.coach.db)
        roadmap = catalog.roadmap_by_slug("indie-singer-songwriter")
        assert roadmap is not None
        task = roadmap.stages[-1].tasks[-1]
        assigned = await bench.command(ANA, "assign", task=task.title, member=("user", BEN))
        assert any("is now Ben's job" in m.text() for m in assigned.messages())

        # asked for: an embed for whoever asked, pinging nobody
        shown = await bench.command(BEN, "band", sub="digest")
        [answer] = [m for m in shown.messages() if m.embeds]
        assert "Night Owls" in answer.text()
        assert f"{task.title} — assigned → Ben" in answer.text()
        assert answer.pinged() == set()

        refused = await bench.command(BEN, "band", sub="digest", when="off")
        assert any("Only the band's managers" in m.text() for m in refused.messages())
        assert all(m.ephemeral for m in refused.messages())

        [row] = [r for r in await reminder_rows(database) if r.kind == "digest"]
        assert not row.paused
        before = len(bench.fake.messages(CHANNEL))
        tick = ReminderTick(database, by_platform(bench.front), clock=clock)
        clock.set(row.next_due_at.replace(tzinfo=UTC) + timedelta(seconds=1))
        assert (await tick.run()).sent == 1
        [digest] = bench.fake.messages(CHANNEL)[before:]
        assert digest.interaction_id is None  # a notice, not an answer
        [embed] = digest.embeds
        assert "Night Owls" in str(embed["description"])
        assert "Who did what" in str(embed["description"])
        assert f"{task.title} — assigned → Ben" in str(embed["description"])
        assert f"<@{BEN}>" in digest.content  # Discord pings from the content, not the embed
        assert digest.pinged() == {BEN}  # the assignee, and nobody else
        assert digest.allowed_mentions == {"parse": [], "users": [BEN]}  # no everyone, no role
        labels = [label for label, _ in digest.buttons()]
        assert labels
        assert all(label[:2] in {"1.", "2.", "3."} for label in labels)  # next week's focus
        assert (await tick.run()).sent == 0  # once a week
