"""Money in any currency on a database (SQLite and PostgreSQL, issue #15 §3): the profile's
currency is settled by the first amount and kept in ``profiles.currency`` (migration
``m1_currency``); every amount is stored with its own currency (``stat_samples.unit``, the
answer's ``task_data``); an amount in another currency is kept as typed but not compared, not
measured against a goal and not drawn.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from coachkit import Driver, synced_coach
from reminderkit import FakeClock
from sqlalchemy import select, update

from core.db.engine import Database
from core.db.models import Profile, StatSample
from core.kernel.store import metric_samples, recent_samples

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


async def _profile(database: Database) -> Profile:
    async with database.transaction() as session:
        return (await session.scalars(select(Profile))).one()


async def _samples(database: Database) -> list[tuple[Decimal, str | None]]:
    async with database.transaction() as session:
        rows = await session.execute(
            select(StatSample.value, StatSample.unit).order_by(StatSample.recorded_at)
        )
        return [(value, unit) for value, unit in rows.all()]


async def test_the_first_amount_settles_the_currency_and_others_are_kept_as_typed(
    database: Database,
) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    maya = Driver(coach, "maya", locale="en-GB")
    await maya.onboard()
    assert (await _profile(database)).currency is None  # nothing asked before money comes up
    await maya.say("/update gig fee 150")
    assert "Saved: £150.00" in maya.text
    assert "I'll count your money in British pounds (GBP) — from your language setting" in (
        maya.text
    )
    assert (await _profile(database)).currency == "GBP"
    clock.advance(days=7)
    await maya.say("/update gig fee $200")
    assert "Saved: US$200.00" in maya.text  # how a British reader tells dollars apart
    assert "Kept in USD, as you typed it — I don't convert currencies" in maya.text
    assert "since last time" not in maya.text, "pounds and dollars were compared"
    assert "I'll count your money" not in maya.text, "the currency was announced twice"
    clock.advance(days=7)
    await maya.say("/update gig fee £180")
    assert "Saved: £180.00" in maya.text
    assert "+30 since last time (was £150.00" in maya.text  # compared with the last pounds
    profile = await _profile(database)
    assert profile.currency == "GBP"
    assert profile.current_stats["gig_fee"]["unit"] == "GBP"
    assert await _samples(database) == [
        (Decimal(150), "GBP"),
        (Decimal(200), "USD"),
        (Decimal(180), "GBP"),
    ]
    async with database.unit_of_work() as ex:
        drawn = await recent_samples(ex, profile.id, 10, currency="GBP")
        projected = await metric_samples(ex, profile.id, "gig_fee", 10, currency="GBP")
        everything = await recent_samples(ex, profile.id, 10)
    assert [value for _, value, _ in drawn] == [Decimal(180), Decimal(150)]
    assert [value for _, value in projected] == [Decimal(150), Decimal(180)]
    assert len(everything) == 3  # kept: only the figures leave it out


async def test_a_first_amount_that_names_a_currency_settles_it(database: Database) -> None:
    coach = await synced_coach(database, clock=FakeClock(START))
    kai = Driver(coach, "kai", locale=None)  # the platform said nothing
    await kai.onboard(name="Kai")
    await kai.say("/update gig fee 200 USD")
    assert "Saved: $200.00" in kai.text
    assert "US dollars (USD) — from your first amount" in kai.text
    assert (await _profile(database)).currency == "USD"
    await kai.say("/update gig fee 250")  # no symbol: the profile's dollars
    assert "Saved: $250.00" in kai.text
    assert await _samples(database) == [(Decimal(200), "USD"), (Decimal(250), "USD")]


async def test_a_german_musician_writes_amounts_the_german_way(database: Database) -> None:
    coach = await synced_coach(database, clock=FakeClock(START))
    lena = Driver(coach, "lena", locale="de")
    await lena.onboard(name="Lena")
    await lena.say("/update gig fee 1.500 €")
    assert "Saved: 1.500,00\xa0€" in lena.text
    assert await _samples(database) == [(Decimal(1500), "EUR")]
    await lena.say("/update gig fee 1,500 €")  # German decimal comma before three digits: ask
    assert "I'd rather ask than guess" in lena.text
    assert len(await _samples(database)) == 1


async def test_currency_command_shows_sets_and_refuses(database: Database) -> None:
    coach = await synced_coach(database, clock=FakeClock(START))
    ana = Driver(coach, "ana", locale="pt-BR")
    await ana.onboard(name="Ana")
    await ana.say("/currency")
    assert "isn't set yet" in ana.text
    assert "suggests BRL" in ana.text
    await ana.say("/currency dogecoin")
    assert "I don't know the currency “dogecoin”" in ana.text
    assert (await _profile(database)).currency is None
    await ana.say("/currency eur")
    assert "From now on I count your money in euros (EUR)" in ana.text
    assert (await _profile(database)).currency == "EUR"
    await ana.say("/currency")
    assert "Your money is counted in euros (EUR)" in ana.text
    await ana.say("/update gig fee 300")
    assert "Saved: €\xa0300,00" in ana.text  # Brazilian Portuguese writes euros like this
    assert "I'll count your money" not in ana.text  # chosen already: nothing to announce


async def test_a_goal_is_in_the_profiles_currency(database: Database) -> None:
    clock = FakeClock(START)
    coach = await synced_coach(database, clock=clock)
    sam = Driver(coach, "sam", locale="en-GB")
    await sam.onboard(name="Sam")
    await sam.say("/update gig fee 300")
    await sam.say("/goal gig fee $500 by 31 March")
    assert "A goal is in your currency (GBP)" in sam.text
    await sam.say("/goal gig fee 500 by 31 March")
    assert "Goal set" in sam.text
    clock.advance(days=3)
    await sam.say("/update gig fee $900")  # more than the goal, but in dollars
    assert "Goal reached" not in sam.text
    clock.advance(days=3)
    await sam.say("/update gig fee £520")
    assert "Goal reached" in sam.text


async def test_existing_profiles_get_their_currency_on_their_next_money_answer(
    database: Database,
) -> None:
    """A profile from before the migration (currency NULL, a stored EUR sample) is settled by
    its next amount like a new one; its old amounts keep their currency."""
    coach = await synced_coach(database, clock=FakeClock(START))
    old = Driver(coach, "old", locale=None)
    await old.onboard(name="Old")
    await old.say("/update gig fee 100")
    async with database.transaction() as session:
        await session.execute(update(Profile).values(currency=None))
    await old.say("/update gig fee 120")
    assert "Saved: €120.00" in old.text
    assert "+20 since last time" in old.text
    assert (await _profile(database)).currency == "EUR"


async def test_an_approximate_update_says_it_is_an_estimate(database: Database) -> None:
    coach = await synced_coach(database, clock=FakeClock(START))
    jo = Driver(coach, "jo", locale="en")
    await jo.onboard(name="Jo")
    await jo.say("/update monthly listeners 80 or so")
    assert "Saved: about 80 listeners — Monthly listeners (noted as an estimate)." in jo.text
    await jo.say("/update monthly listeners 1")
    assert "Saved: 1 listener — Monthly listeners." in jo.text
    assert "-79 since last time" in jo.text


async def test_an_event_without_a_locale_reads_the_one_kept_at_sign_up(database: Database) -> None:
    """A Discord DM carries no locale: the one stored at sign-up (``users.locale``) stands in,
    for the currency guessed and for where the reply says it came from."""
    coach = await synced_coach(database, clock=FakeClock(START))
    await Driver(coach, "kai", locale="en-GB").onboard()
    kai = Driver(coach, "kai")  # the same musician, an event that names no language
    await kai.say("/currency")
    assert "your language setting suggests GBP" in kai.text
    await kai.say("/update gig fee 150")
    assert "Saved: £150.00" in kai.text
    assert "British pounds (GBP) — from your language setting" in kai.text
