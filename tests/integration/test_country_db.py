"""The profile's country on a database (SQLite and PostgreSQL, issue #15 §2): kept in
``profiles.country`` (migration ``c1_country``), asked once before the bundled roadmap's
money-admin task and then showing that country's version, in ``/export`` and gone after
``/forget``; a band's country is the managers' — a member's button press or ``/country`` is
refused and audited.
"""

from __future__ import annotations

import json

from bandkit import GuildDriver, TelegramGroupDriver, night_owls
from coachkit import Driver, catalog_of, synced_coach
from sqlalchemy import select

from core.db.engine import Database
from core.db.executor import SQLAlchemyExecutor
from core.db.models import Band, Profile
from core.journey.questions import answers_for
from core.kernel.audit import latest
from core.kernel.payloads import encode
from core.kernel.types import Document

INDIE = "indie-singer-songwriter"


async def _countries(database: Database) -> list[str | None]:
    async with database.transaction() as session:
        return list((await session.scalars(select(Profile.country))).all())


async def _open_money_admin(database: Database, maya: Driver) -> None:
    """Open the indie roadmap's money-admin task the way its stage's ``/stage`` button does."""
    catalog = await catalog_of(database)
    task = catalog.tasks_by_slug["iss-money-admin"]
    roadmap = catalog.roadmap_by_slug(INDIE)
    assert roadmap is not None
    stage_index = next(i for i, s in enumerate(roadmap.stages) if s.id == task.stage_id)
    for stage in roadmap.stages[:stage_index]:  # skip the earlier stages' tasks
        for _task in stage.tasks:
            await maya.say("/skip")
    await maya.press_payload(encode("open", "iss-money-admin"))


async def test_asked_once_kept_exported_and_forgotten(database: Database) -> None:
    coach = await synced_coach(database)
    maya = Driver(coach, "maya", locale="en")
    await maya.onboard()
    assert await _countries(database) == [None], "nothing asked up front"
    await _open_money_admin(database, maya)
    assert "which country do you pay tax in?" in maya.text
    await maya.press("Ireland")
    assert await _countries(database) == ["IE"]
    assert "Got it: Ireland (IE)" in maya.text
    assert "Sort out tax and funding (Ireland)" in maya.text, "back to the task, Ireland's"
    await maya.press_payload(encode("open", "iss-money-admin-ie"))
    assert "Sort out tax and funding (Ireland)" in maya.text
    assert "Revenue" in maya.text
    await maya.press_payload(encode("open", "iss-money-admin"))  # an old button to the general
    assert "Sort out tax and funding (Ireland)" in maya.text, "opens Ireland's version"
    assert "which country" not in maya.text, "asked once"

    [export] = await maya.say("/export")
    assert isinstance(export, Document)
    assert json.loads(export.file)["your_rows"]["profiles"][0]["country"] == "IE"

    await maya.say("/forget")
    await maya.press("Yes, delete")
    assert await _countries(database) == []


async def test_a_region_in_the_locale_is_offered_first(database: Database) -> None:
    coach = await synced_coach(database)
    maya = Driver(coach, "maya", locale="en-AU")
    await maya.onboard()
    await _open_money_admin(database, maya)
    assert "which country" in maya.text
    assert await _countries(database) == [None], "a language setting settles nothing"
    await maya.press("Australia (your language setting)")
    assert "ABN" in maya.text, "Australia's version"
    assert await _countries(database) == ["AU"]


async def _band_country(database: Database) -> str | None:
    async with database.transaction() as session:
        return (
            await session.scalars(select(Profile.country).join(Band, Band.id == Profile.band_id))
        ).one()


async def test_only_a_manager_sets_the_bands_country(database: Database) -> None:
    coach = await synced_coach(database)
    ana, ben = await night_owls(coach, "Touring")

    await ben.press_payload(encode("country", "de"))  # the question's button, pressed by a member
    assert "Only server managers" in ben.text
    await ben.say("/country Germany")
    assert "Only server managers (Manage Server) can change the band's country" in ben.text
    assert await _band_country(database) is None
    await ben.say("/country")
    assert "The band's country isn't set yet" in ben.text

    await ana.press_payload(encode("country", "de"))
    assert "Got it: Germany (DE)" in ana.text
    assert await _band_country(database) == "DE"
    await ben.say("/country")
    assert "The band's country: Germany (DE)" in ben.text

    # both refusals are audited (the second within a minute is counted on the first's row)
    denied = [(e.action, e.outcome) for e in await latest(database) if e.action == "band.country"]
    assert denied == [("band.country", "denied")]


async def test_a_question_about_tax_finds_the_askers_countrys_version(database: Database) -> None:
    """The search reads the country a question names, else the profile's: each country's
    version of a task is a near-twin of the others, so the wrong one must never be shown."""
    coach = await synced_coach(database)
    catalog = await catalog_of(database)
    roadmap = catalog.roadmap_by_slug(INDIE)
    assert roadmap is not None
    question = "how do i register as self employed for my music income"

    async def top(text: str, country: str | None) -> list[str]:
        async with database.connection() as conn:
            ex = SQLAlchemyExecutor(conn)
            _query, found = await answers_for(ex, catalog, text, prefer=roadmap.id, country=country)
        return [t.slug for t in found]

    for country, expected in (("GB", "iss-money-admin-gb"), ("NL", "iss-money-admin-nl")):
        found = await top(question, country)
        assert expected in found, (country, found)
        suffix = f"-{country.lower()}"
        assert not [s for s in found if "money-admin-" in s and not s.endswith(suffix)], found
    general = await top(question, None)
    assert "iss-money-admin" in general, general
    assert not [s for s in general if "money-admin-" in s], "the general ones speak for all"
    assert not [s for s in await top(question, "ZZ") if "money-admin-" in s]
    # a country named in the question wins over the profile's
    assert "iss-money-admin-ca" in await top("grants for musicians in canada", "GB")
    assert coach is not None


async def test_a_manager_answers_the_bands_country_by_command_and_gets_the_task_back(
    database: Database,
) -> None:
    """``/country <name>`` answers the band's open country question as a button does: the
    band is taken back to the task it was asked before, in the country's version; a Telegram
    band's member is refused in Telegram's words (no "Manage Server" there)."""
    coach = await synced_coach(database)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create The Night Owls")
    await ana.say("/start")
    await ana.press("Indie")
    await _open_money_admin(database, ana)
    assert "which country does the band pay tax in?" in ana.text
    await ana.say("/country Germany")
    assert "Got it: Germany (DE)" in ana.text
    assert "Sort out tax and funding (Germany)" in ana.text

    group = -100_555
    admin = TelegramGroupDriver(coach, 2001, group, name="Cat", admin=True)
    member = TelegramGroupDriver(coach, 2002, group, name="Dan")
    await admin.say("/band create The Day Larks")
    await member.say("/band join")
    await member.say("/country Germany")
    assert "Only the band's managers (group admins) can change the band's country" in member.text
