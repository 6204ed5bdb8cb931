"""A release date that breaks the content's rules, in a Discord DM (issue #13 §2): the reason,
the nearest good Fridays as buttons and "Keep … anyway", through the real discord.py client
against the fake.

Telegram and the terminal drove this (``test_plan_frontends``); on Discord only a good date was
typed, so the suggested-date buttons were never rendered or pressed there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from discordkit import ANA, running
from reminderkit import FakeClock
from sqlalchemy import select
from support.memory import bundled_roadmaps
from support.plankit import good_friday, plan_roadmap

from core.db.engine import Database
from core.db.models import Profile
from core.progress.timeline import show_date
from core.roadmaps.sync import sync_roadmaps


async def _anchors(database: Database) -> dict[str, str]:
    async with database.transaction() as session:
        profile = (await session.scalars(select(Profile))).one()
        return dict(profile.anchors or {})


async def test_a_thursday_gets_the_nearest_fridays_as_buttons_in_a_dm(database: Database) -> None:
    clock = FakeClock(datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0))
    friday = good_friday(clock().date())
    thursday = friday - timedelta(days=1)
    async with running(database, clock=clock) as bench:
        async with database.transaction() as session:
            await sync_roadmaps(session, [*bundled_roadmaps(), plan_roadmap()])
        bench.coach.catalog.invalidate()
        fake = bench.fake
        await bench.answered(fake.user_runs_command_in_dm(ANA, "start"))
        await bench.dm(ANA, "Ana")
        menu = next(m for m in fake.dm_messages(ANA) if "Plan test" in str(m.buttons()))
        await bench.press(ANA, menu, "Plan test")
        await bench.answered(fake.user_runs_command_in_dm(ANA, "skip"))
        assert "What is your release date?" in fake.dm_messages(ANA)[-1].text()

        ruled = await bench.dm(ANA, thursday.isoformat())
        card = next(m for m in ruled if m.buttons())
        assert "That's a Thursday — it should be a Friday." in card.text()
        labels = [label for label, _ in card.buttons()]
        assert labels[0] == show_date(friday)
        assert labels[-1] == f"Keep {show_date(thursday)} anyway"
        assert await _anchors(database) == {}, "nothing saved while the buttons show"

        picked = await bench.press(ANA, card, show_date(friday))
        saved = picked.texts() + "\n".join(m.text() for m in fake.dm_messages(ANA)[-2:])
        assert f"Saved: **{show_date(friday)}**" in saved
        assert await _anchors(database) == {"release": friday.isoformat()}

        again = await bench.press(ANA, card, f"Keep {show_date(thursday)}")
        assert "expired" in again.texts(), "the question is answered: its buttons are stale"
        assert await _anchors(database) == {"release": friday.isoformat()}
