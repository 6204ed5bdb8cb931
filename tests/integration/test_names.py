"""Names without invisible characters: artist names, band names and display names.

Zero-width and bidi characters let two names look alike and differ (an impostor), show a name
backwards, or show nothing at all. One function (core/kernel/names.py) cleans every
name on every path that stores one; a name with nothing visible left is refused. Emoji keep
the zero-width joiners that make them (👩‍🎤 is 👩 U+200D 🎤), and flags stay whole.
"""

from __future__ import annotations

import pytest
from bandkit import GuildDriver
from coachkit import Driver, synced_coach
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from core.app.engine import Coach
from core.db.engine import Database
from core.db.models import Band, Identity, Profile, User
from core.journey.onboarding import INVISIBLE_NAME
from core.kernel.names import BIDI, ZERO_WIDTH, ZWJ, ZWNJ, clean_name, fit_name
from core.kernel.types import DISPLAY_NAME_MAX, Inbound

SINGER = "\U0001f469\u200d\U0001f3a4"  # 👩‍🎤: woman, ZWJ, microphone
SINGER_DARK = "\U0001f469\U0001f3fd\u200d\U0001f3a4"  # with a skin-tone modifier
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"  # 🏳️‍🌈: flag, VS16, ZWJ, rainbow
PIRATE_FLAG = "\U0001f3f4\u200d\u2620\ufe0f"  # 🏴‍☠️
GERMANY = "\U0001f1e9\U0001f1ea"  # 🇩🇪: two regional indicators
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"  # tags
#: Every character issue #11 names, one by one.
LISTED = sorted({*ZERO_WIDTH, *BIDI, *"\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"})


@pytest.mark.parametrize("invisible", LISTED, ids=lambda ch: f"U+{ord(ch):04X}")
def test_each_listed_character_goes(invisible: str) -> None:
    assert clean_name(f"Ma{invisible}ya") == "Maya"
    assert clean_name(f"{invisible}Maya{invisible}") == "Maya"
    assert clean_name(invisible * 3) == ""


@pytest.mark.parametrize(
    "emoji", [SINGER, SINGER_DARK, RAINBOW_FLAG, PIRATE_FLAG, GERMANY, SCOTLAND]
)
def test_emoji_and_flags_survive_whole(emoji: str) -> None:
    assert clean_name(f"{emoji} Maya") == f"{emoji} Maya"
    assert clean_name(f"Maya{emoji}") == f"Maya{emoji}"
    assert clean_name(emoji) == emoji


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Ma\u200dya", "Maya"),  # a ZWJ between letters joins nothing
        (f"\u200d{SINGER}\u200d", SINGER),  # nor at either end of an emoji
        (f"\U0001f469{ZWJ}{ZWJ}\U0001f3a4", SINGER),  # two joiners are one too many
        ("\U0001f469\u200b\u200d\U0001f3a4", SINGER),  # a ZWSP inside is dropped, the ZWJ kept
        ("\U0001f469\u200dM", "\U0001f469M"),  # an emoji joined to a letter is no sequence
        ("Ma\U000e0041ya", "Maya"),  # a tag outside a flag is hidden text
        ("\u202eayaM", "ayaM"),  # an override no longer turns the name around
        ("میرزا\u200cمحمد", "میرزا\u200cمحمد"),  # Persian: ZWNJ keeps two letters apart
        ("Ma\u200cya", "Maya"),  # ... but between Latin letters it is only invisible
        ("ക്\u200d", "ക്\u200d"),  # a Malayalam chillu: ZWJ after the virama
        ("\u3164", ""),  # the Hangul filler, a blank letter
        ("\u2800\u2800", ""),  # braille blanks
        ("Z\x00oë\n\t Q", "Zoë Q"),  # control characters go, whitespace collapses
        ("Zoe\u0308", "Zoë"),  # one form (NFC) for the same visible name
    ],
)
def test_what_goes_and_what_stays(raw: str, clean: str) -> None:
    assert clean_name(raw) == clean


def test_a_cut_never_leaves_half_an_emoji_joiner() -> None:
    assert fit_name("x" * 5 + SINGER, 7) == "xxxxx\U0001f469"
    assert len(fit_name("y" * 500, DISPLAY_NAME_MAX)) == DISPLAY_NAME_MAX


def test_display_names_are_cleaned_where_they_enter() -> None:
    def inbound(name: str) -> Inbound:
        return Inbound(
            platform="telegram", user_id="1", chat_id="1", kind="text", display_name=name
        )

    assert inbound("\u202eAna\u200b").display_name == "Ana"
    assert inbound(f"Ana {SINGER}").display_name == f"Ana {SINGER}"
    assert inbound("\u200b\u2066\u2069").display_name is None, "nothing visible is no name"


async def _artist_name(database: Database, external_id: str) -> str | None:
    async with database.transaction() as session:
        return (
            await session.execute(
                select(Profile.artist_name)
                .join(Identity, Identity.user_id == Profile.user_id)
                .where(Identity.external_id == external_id)
            )
        ).scalar_one()


async def test_artist_names_are_cleaned_and_an_invisible_one_refused(database: Database) -> None:
    coach = await synced_coach(database)
    maya = Driver(coach, "maya")
    await maya.say("/start")
    await maya.say("\u200b\u200d\u2060")
    assert maya.text == INVISIBLE_NAME
    assert await _artist_name(database, "maya") is None, "nothing stored"
    await maya.say(f"\u202e{SINGER} Maya {GERMANY}\u200b")
    assert f"Nice to meet you, {SINGER} Maya {GERMANY}!" in maya.text
    assert await _artist_name(database, "maya") == f"{SINGER} Maya {GERMANY}"

    await maya.say("/name \u2066\u200b\u2069")
    assert maya.text == INVISIBLE_NAME
    assert await _artist_name(database, "maya") == f"{SINGER} Maya {GERMANY}", "kept"
    await maya.say(f"/name Ma\u200bya {RAINBOW_FLAG}")
    assert await _artist_name(database, "maya") == f"Maya {RAINBOW_FLAG}"

    # the admin finds her by the name as it looks
    boss = Driver(Coach(database, admins=["console:boss"], catalog=coach.catalog), "boss")
    await boss.say(f"/admin user maya {RAINBOW_FLAG}")
    assert "console:maya" in boss.text


async def test_band_and_member_names_are_cleaned(database: Database) -> None:
    coach = await synced_coach(database)
    ana = GuildDriver(coach, "1001", name="\u202eAna\u200b", manager=True)
    await ana.say("/band create \u200b\u200d")
    assert "only invisible characters" in ana.text
    await ana.say(f"/band create \u2067The Night Owls{ZWJ} {SCOTLAND}")
    await ana.say(f"/band rename \u200b{PIRATE_FLAG} Owls\u202c")
    await ana.say("/band rename \u2060\u2060")
    assert "only invisible characters" in ana.text
    async with database.transaction() as session:
        [band] = (await session.scalars(select(Band))).all()
        user = (
            await session.scalars(select(User).join(Identity, Identity.user_id == User.id))
        ).one()
    assert band.name == f"{PIRATE_FLAG} Owls"
    assert user.display_name == "Ana"


@given(st.text(max_size=40))
def test_no_bidi_control_survives_and_cleaning_twice_changes_nothing(raw: str) -> None:
    """Whatever comes in: no bidi control and no zero-width space, word joiner or BOM goes
    out, the only joiners left sit inside a sequence, and a clean name stays as it is."""
    name = clean_name(raw)
    assert not BIDI.intersection(name)
    assert not set("\u200b\u2060\ufeff").intersection(name)
    assert name == name.strip()
    assert not name.startswith((ZWJ, ZWNJ))
    assert clean_name(name) == name
