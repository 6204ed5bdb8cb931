"""A musician's first stage of every roadmap, through the terminal front end, on both databases."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from coachkit import catalog_of, synced_coach, valid_answer
from sqlalchemy import select

from bot.console.chat import ConsoleChat
from core.db.engine import Database
from core.db.models import Identity, Profile, UserTaskProgress
from core.roadmaps.loader import load_roadmaps

ROADMAP_SLUGS = [r.slug for r in load_roadmaps()]


@pytest.mark.parametrize("slug", ROADMAP_SLUGS)
async def test_stage_one_to_stage_two(database: Database, slug: str) -> None:
    coach = await synced_coach(database)
    catalog = await catalog_of(database)
    roadmap = catalog.roadmap_by_slug(slug)
    assert roadmap is not None
    number = [r.slug for r in catalog.roadmaps].index(slug) + 1
    out = io.StringIO()
    chat = ConsoleChat(coach, "maya", out)

    await chat.send("/start")
    assert "artist name" in out.getvalue()
    await chat.send("Maya Lune")
    assert "Nice to meet you, Maya Lune" in out.getvalue()
    await chat.send(str(number))  # presses the roadmap's numbered button
    assert f"You're on {roadmap.name}" in out.getvalue()

    stage1, stage2 = roadmap.stages[0], roadmap.stages[1]
    today = datetime.now(UTC).date()
    for task in stage1.tasks:
        before = len(out.getvalue())
        if task.is_checklist:
            for n in range(1, len(task.items) + 1):
                await chat.send(str(n))
            assert f"{task.title} — done!" in out.getvalue()[before:]
        else:
            await chat.send(valid_answer(catalog, task.slug, today))
            assert "Saved:" in out.getvalue()[before:], out.getvalue()[before:]

    transcript = out.getvalue()
    assert f"Stage 1 complete — {stage1.title}!" in transcript
    assert f"Stage 2 · {stage2.title}" in transcript

    async with database.transaction() as session:
        profile = (
            await session.scalars(
                select(Profile)
                .join(Identity, Identity.user_id == Profile.user_id)
                .where(Identity.platform == "console", Identity.external_id == "maya")
            )
        ).one()
        assert profile.artist_name == "Maya Lune"
        assert profile.current_stage_id == stage2.id
        result = await session.execute(
            select(UserTaskProgress.task_id, UserTaskProgress.status).where(
                UserTaskProgress.profile_id == profile.id
            )
        )
        statuses = {task_id: status for task_id, status in result}
    assert all(statuses.get(t.id) == "completed" for t in stage1.tasks)
