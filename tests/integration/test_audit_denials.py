"""Repeated denials are audited once a minute per person and action, with the repeats counted.

A member of another server pressing a band's button again and again, a stranger hammering
``/admin``, someone pressing another musician's nudge: every refusal is still answered, but
the audit log gets one row per (actor, action) per minute (``core.kernel.audit.DENIALS``),
and the next row of the same kind carries how many repeats were only counted.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import cast

import pytest
from bandkit import GuildDriver, first_checklist
from coachkit import Driver, catalog_of, synced_coach
from reminderkit import schedule_row

from core.admin.access import NOT_ALLOWED
from core.admin.ratelimit import RateLimit
from core.app.engine import Coach
from core.db.engine import Database
from core.kernel import audit
from core.kernel.audit import DENIED, DenialThrottle, latest
from core.kernel.payloads import encode

INDIE = "indie-singer-songwriter"


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The denial throttle's clock (seconds), moved by hand."""
    clock = [1000.0]
    monkeypatch.setattr(audit, "DENIALS", DenialThrottle(clock=lambda: clock[0]))
    return clock


async def _rows(database: Database, action: str) -> list[audit.AuditEntry]:
    """This action's audit rows, newest first."""
    return [e for e in await latest(database, 50) if e.action == action]


async def _band(coach: Coach) -> str:
    """Ana's band in server 900 on the indie roadmap; a payload of its first checklist."""
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await ana.press("Indie")
    _, checklist = first_checklist(await catalog_of(coach.db), INDIE)
    return encode("tick", checklist.slug, checklist.items[0].key)


async def test_fifty_denied_presses_are_one_row_then_the_count(
    database: Database, now: list[float]
) -> None:
    await synced_coach(database)
    coach = Coach(database, admins=["telegram:1"])
    tick = await _band(coach)
    cleo = GuildDriver(coach, "2001", name="Cleo")  # in the server, not in the band
    for _ in range(50):
        await cleo.press_payload(tick)
        assert "not in" in cleo.text, "every press is still answered"
    [first] = await _rows(database, "band.access")
    assert first.actor == "discord:2001"
    assert audit.SUPPRESSED not in first.details

    # another member, or another action of Cleo's, is audited at once
    dan = GuildDriver(coach, "2002", name="Dan")
    await dan.press_payload(tick)
    await cleo.say("/band rename Cleo's Owls")
    assert "Only server managers" in cleo.text
    assert [e.actor for e in await _rows(database, "band.access")] == [
        "discord:2002",
        "discord:2001",
    ]
    [rename] = await _rows(database, "band.rename")
    assert (rename.actor, rename.outcome) == ("discord:2001", "denied")

    now[0] += audit.DENIAL_WINDOW  # a minute later Cleo tries again
    await cleo.press_payload(tick)
    newest = (await _rows(database, "band.access"))[0]
    assert newest.actor == "discord:2001"
    assert newest.details[audit.SUPPRESSED] == 49
    assert newest.details["server"] == "900", "the site's own details are kept"
    assert len(await _rows(database, "band.access")) == 3

    admin = Driver(coach, "1", platform="telegram")
    await admin.say("/admin audit 10")
    assert "band.access denied by discord:2001 → band:" in admin.text
    assert "(+49 earlier repeats)" in admin.text


async def test_every_denial_site_shares_the_cap(database: Database, now: list[float]) -> None:
    """A stranger's /admin (written by core/admin/access.py) and a press of someone else's
    nudge (written inside the turn, core/reminders/service.py) are capped the same way."""
    coach = await synced_coach(database)
    stranger = Driver(coach, "666", platform="telegram")
    for _ in range(5):
        await stranger.say("/admin stats")
        assert "not allowed" in stranger.text
    assert len(await _rows(database, "admin.stats")) == 1

    maya = Driver(coach, "1001", platform="telegram")
    await maya.onboard("Maya")
    await maya.say("/remind daily 18:00")
    snooze = encode("nudge", "s", (await schedule_row(database)).id.hex)
    leo = Driver(coach, "1002", platform="telegram")
    await leo.onboard("Leo")
    for _ in range(5):
        await leo.press_payload(snooze)
        assert "isn't yours" in leo.text
    [first] = await _rows(database, "reminder.foreign_button")
    assert first.actor == "telegram:1002"
    now[0] += audit.DENIAL_WINDOW
    await leo.press_payload(snooze)
    await stranger.say("/admin stats")
    assert (await _rows(database, "reminder.foreign_button"))[0].details == {audit.SUPPRESSED: 4}
    assert (await _rows(database, "admin.stats"))[0].details == {audit.SUPPRESSED: 4}


async def test_forty_made_up_subcommands_are_one_row_then_the_count(
    database: Database, now: list[float]
) -> None:
    """The cap keys on (actor, action): an action named after what a stranger typed
    (``admin.<word>``) gave each new word its own key — 40 words, 40 rows. Every unknown
    subcommand is ``admin.unknown`` now, what was typed only a (cut) detail."""
    coach = Coach(database, admins=["telegram:1"])
    stranger = Driver(coach, "666", platform="telegram")
    for n in range(40):
        await stranger.say(f"/admin x{n}-{'junk' * n}")
        assert stranger.text == NOT_ALLOWED, "every attempt is still answered"
    [row] = await latest(database, 50)
    assert (row.actor, row.action, row.outcome) == ("telegram:666", "admin.unknown", DENIED)
    assert row.details == {"subcommand": "x0-"}

    now[0] += audit.DENIAL_WINDOW
    await stranger.say("/admin " + "Y" * 500)
    newest, first = await latest(database, 50)
    assert first == row
    assert newest.action == "admin.unknown"
    assert newest.details == {"subcommand": "y" * 32, audit.SUPPRESSED: 39}
    admin = Driver(coach, "1", platform="telegram")
    await admin.say("/admin audit 5")
    assert "admin.unknown denied by telegram:666 (+39 earlier repeats)" in admin.text


async def test_rate_limited_events_are_not_counted_as_repeats(
    database: Database, now: list[float]
) -> None:
    """The per-person rate limit (20 events in 10 s) runs first: what it drops never reaches
    the core, so it is neither answered nor audited nor counted."""
    await synced_coach(database)
    coach = Coach(database, rate_limit=RateLimit(20, 10))
    assert coach.limiter is not None
    coach.limiter.clock = lambda: now[0]  # one clock for both limits
    tick = await _band(coach)
    cleo = GuildDriver(coach, "2001", name="Cleo")
    refused = 0
    for _ in range(50):
        await cleo.press_payload(tick)
        refused += "not in" in cleo.text
    assert refused == 20, "Cleo's first 20 presses are handled (and refused), then a pause"
    assert len(await _rows(database, "band.access")) == 1
    now[0] += audit.DENIAL_WINDOW
    await cleo.press_payload(tick)
    assert (await _rows(database, "band.access"))[0].details[audit.SUPPRESSED] == 19


async def test_other_outcomes_are_never_capped(database: Database, now: list[float]) -> None:
    for _ in range(3):
        assert await audit.record(database, actor="telegram:1", action="admin.stats", outcome="ok")
    assert len(await _rows(database, "admin.stats")) == 3


async def test_a_denial_that_could_not_be_written_is_not_lost(
    database: Database, now: list[float]
) -> None:
    """The database refusing the first row must not silence the key for a minute."""

    class Down:
        @contextlib.asynccontextmanager
        async def transaction(self) -> AsyncIterator[None]:
            raise OSError("the database is down")
            yield  # pragma: no cover - makes this a generator

    with pytest.raises(OSError, match="down"):
        await audit.record(
            cast(Database, Down()), actor="discord:7", action="band.role", outcome=DENIED
        )
    assert await audit.record(database, actor="discord:7", action="band.role", outcome=DENIED)
    [row] = await _rows(database, "band.role")
    assert row.details == {audit.SUPPRESSED: 1}, "the lost one is counted"
