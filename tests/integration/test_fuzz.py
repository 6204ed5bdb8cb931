"""Random text, commands and button payloads at the core: never an unhandled exception.

``Coach.handle`` catches everything and answers with an apology (``SORRY``) and an ERROR log
record, so "no crash" is checked as: the apology never appears and nothing is logged at ERROR.
Runs 2 000 examples on SQLite (fast) and 200 on PostgreSQL; ``FUZZ_EXAMPLES=20000`` runs
more (a tenth of that on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pgserver import truncate_all
from support.memory import bundled_roadmaps

from core.admin.commands import USAGE
from core.app.engine import SORRY, Coach
from core.app.features import FEATURES
from core.db.engine import Database
from core.kernel.payloads import declared
from core.kernel.types import Inbound
from core.roadmaps.sync import sync_roadmaps

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "2000"))
USERS = ("boss", "maya", "ana", "😀", "x" * 64)
SLUGS = ("indie-singer-songwriter", "fdn-artist-name", "no-such-task", "1", "a-b-c", "y", "n")


class Rig:
    """The coach on a SQLite copy, driven from a private event loop (hypothesis is sync)."""

    def __init__(self, runner: asyncio.Runner, coach: Coach) -> None:
        self.runner = runner
        self.coach = coach
        self.errors: list[logging.LogRecord] = []


def _rig(db: Database, prepare: Callable[[], Awaitable[None]]) -> Iterator[Rig]:
    async def make() -> Coach:
        await prepare()
        async with db.transaction() as session:
            await sync_roadmaps(session, list(bundled_roadmaps()))
        return Coach(db, admins=["console:boss", "telegram:boss"], roadmaps_dir=Path("/none"))

    runner = asyncio.Runner()
    coach = runner.run(make())
    rig = Rig(runner, coach)

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            rig.errors.append(record)

    handler = Collect(level=logging.ERROR)
    logging.getLogger().addHandler(handler)
    try:
        yield rig
    finally:
        logging.getLogger().removeHandler(handler)
        runner.run(db.dispose())
        runner.close()


@pytest.fixture
def rig(sqlite_template: Path, tmp_path: Path) -> Iterator[Rig]:
    path = tmp_path / "fuzz.db"
    shutil.copyfile(sqlite_template, path)

    async def nothing() -> None:
        return None

    yield from _rig(Database(f"sqlite+aiosqlite:///{path}"), nothing)


@pytest.fixture
def pg_rig(pg_url: str) -> Iterator[Rig]:
    db = Database(pg_url)
    yield from _rig(db, lambda: truncate_all(db))


def _payloads() -> st.SearchStrategy[str]:
    args = st.one_of(
        st.sampled_from(SLUGS), st.from_regex(r"[a-z0-9][a-z0-9-]{0,12}", fullmatch=True)
    )
    codes = sorted(a.code for a in declared())
    valid_looking = st.sampled_from(codes).flatmap(
        lambda code: st.lists(args, min_size=0, max_size=3).map(
            lambda parts: ":".join(["v1", code, *parts])
        )
    )
    exact = st.sampled_from(sorted(declared(), key=lambda a: a.code)).flatmap(
        lambda action: st.lists(args, min_size=action.arity, max_size=action.arity).map(
            lambda parts: ":".join(["v1", action.code, *parts])
        )
    )
    return st.one_of(valid_looking, exact, st.text(max_size=80), st.just("v2:tk:a:b"))


def _commands() -> st.SearchStrategy[str]:
    known = sorted({c.name for feature in FEATURES for c in feature.commands} | {"help"})
    admin = [f"admin {sub}" for sub in (*USAGE, "help", "nonsense")]
    name = st.one_of(st.sampled_from(known + admin), st.text(min_size=1, max_size=40))
    arg = st.one_of(
        st.just(""),
        st.text(max_size=60),
        st.sampled_from(["console:maya", "maya", "off", "on", "reload", "5", "999", "*_`\\"]),
    )
    return st.builds(
        lambda n, a, bot: f"/{n}{'@CoachBot' if bot else ''} {a}", name, arg, st.booleans()
    )


@st.composite
def inbound(draw: st.DrawFn) -> Inbound:
    kind = draw(st.sampled_from(["text", "command", "button"]))
    text, payload = "", None
    if kind == "button":
        payload = draw(_payloads())
    elif kind == "command":
        text = draw(_commands())
    else:
        text = draw(st.one_of(st.text(max_size=300), st.just("x" * 4001), st.sampled_from(
            ["yes", "no", "1", "2", "done 1", "12.5k", "€300", "15%", "tomorrow", "skip", "hi"]
        )))  # fmt: skip
    user = draw(st.sampled_from(USERS))
    return Inbound(
        platform=draw(st.sampled_from(["console", "telegram", "discord"])),
        user_id=user,
        chat_id=user,
        chat_type=draw(st.sampled_from(["private", "group", "guild"])),
        kind=kind,
        text=text,
        payload=payload,
        message_id=draw(st.one_of(st.none(), st.just("1"))),
        display_name=draw(st.one_of(st.none(), st.text(max_size=200))),
        locale=draw(st.one_of(st.none(), st.text(max_size=40))),
        server_id=draw(st.one_of(st.none(), st.just("guild-1"))),
        manages_server=draw(st.booleans()),
    )


def _check(rig: Rig, event: Inbound) -> None:
    replies = rig.runner.run(rig.coach.handle(event))
    assert all(r.text != SORRY for r in replies), (event, rig.errors[-1:])
    assert rig.errors == []
    for reply in replies:
        assert len(reply.text) <= 4096 * 4
        for button in reply.all_buttons():
            assert len(button.payload.encode()) <= 64


_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "database": None,
}


@pytest.mark.slow
@settings(max_examples=EXAMPLES, **_SETTINGS)  # type: ignore[arg-type]
@given(event=inbound())
def test_random_events_never_crash_the_core(rig: Rig, event: Inbound) -> None:
    _check(rig, event)


@settings(max_examples=max(EXAMPLES // 10, 1), **_SETTINGS)  # type: ignore[arg-type]
@given(event=inbound())
def test_random_events_never_crash_on_postgres(pg_rig: Rig, event: Inbound) -> None:
    """Fewer examples, for what only PostgreSQL refuses (NUL bytes, column lengths)."""
    _check(pg_rig, event)


async def test_digits_that_are_not_numbers(database: Database) -> None:
    """Found by the fuzz test: superscripts are ``isdigit()`` but ``int()`` refuses them."""
    from coachkit import Driver, synced_coach  # noqa: PLC0415 - only this test drives one

    coach = Coach(database, admins=["console:boss"], catalog=(await synced_coach(database)).catalog)
    maya = Driver(coach, "maya")
    await maya.say("/start")
    await maya.say("Maya")
    await maya.say("¹")  # while choosing a roadmap
    assert SORRY not in maya.text
    assert "Tap one of the roadmaps" in maya.text
    boss = Driver(coach, "boss")
    await boss.say("/admin audit ²")
    assert "Usage: /admin audit" in boss.text
