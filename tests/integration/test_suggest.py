"""Suggestions while someone types (``Coach.suggest``): timezones, a band's tasks and members.

The values come from the feature that knows them, through the registry; a band's are offered
only to someone in that band, in its server. The front end's side (Discord's autocomplete) is
in tests/e2e/test_discord_commands.py.
"""

from __future__ import annotations

import logging

import pytest
from bandkit import GuildDriver, night_owls
from coachkit import catalog_of, synced_coach

from core.app.engine import Coach
from core.db.engine import Database
from core.kernel.registry import (
    MAX_SUGGESTIONS,
    Asked,
    Feature,
    Option,
    Registry,
    RegistryError,
    Subcommand,
    Suggestion,
)
from core.kernel.types import Inbound, Outbound
from core.reminders.schedule import COMMON_ZONES, parse_timezone

INDIE = "indie-singer-songwriter"


def _dm(user: str = "1003") -> Inbound:
    return Inbound(platform="discord", user_id=user, chat_id=user, kind="command")


async def _band(database: Database) -> tuple[Coach, GuildDriver, GuildDriver]:
    """The Night Owls on the indie roadmap: Ana manages the server, Ben joined."""
    coach = await synced_coach(database)
    ana, ben = await night_owls(coach)
    return coach, ana, ben


async def test_timezones_for_nothing_typed_are_the_common_ones(database: Database) -> None:
    coach = Coach(database)
    found = await coach.suggest("timezones", "", _dm())
    assert [s.value for s in found] == list(COMMON_ZONES)


@pytest.mark.parametrize(
    ("typed", "first"),
    [("berl", "Europe/Berlin"), ("new y", "America/New_York"), ("+2", "UTC+02:00")],
)
async def test_timezones_match_what_was_typed(database: Database, typed: str, first: str) -> None:
    found = await Coach(database).suggest("timezones", typed, _dm())
    assert found[0] == Suggestion(first, first)
    assert len(found) <= MAX_SUGGESTIONS
    assert all(parse_timezone(s.value) == s.value for s in found), "each one /timezone takes"


async def test_timezones_are_capped(database: Database) -> None:
    found = await Coach(database).suggest("timezones", "a", _dm())
    assert len(found) == MAX_SUGGESTIONS


async def test_a_band_member_gets_the_bands_tasks(database: Database) -> None:
    coach, _ana, ben = await _band(database)
    roadmap = (await catalog_of(database)).roadmap_by_slug(INDIE)
    assert roadmap is not None
    tasks = [t for stage in roadmap.stages for t in stage.tasks]
    found = await coach.suggest("band_tasks", "", ben.inbound(kind="command"))
    assert len(found) == MAX_SUGGESTIONS < len(tasks)
    assert found[0] == Suggestion(tasks[0].title, tasks[0].slug)
    single = await coach.suggest("band_tasks", "SPLIT sheet", ben.inbound(kind="command"))
    assert [s.label for s in single] == ["Sign a split sheet for the song"]
    # the value is what /assign reads back
    await ben.say(f"/assign {single[0].value} <@1002>")
    assert "Sign a split sheet for the song" in ben.text
    assert "Ben's job" in ben.text


async def test_strangers_and_dms_get_nothing_of_a_band(database: Database) -> None:
    coach, _ana, _ben = await _band(database)
    cleo = GuildDriver(coach, "1003", name="Cleo")  # in the server, not in the band
    elsewhere = GuildDriver(coach, "1002", name="Ben", server="700")  # a member, other server
    for inbound in (cleo.inbound(kind="command"), elsewhere.inbound(kind="command"), _dm("1002")):
        assert await coach.suggest("band_tasks", "", inbound) == []
        assert await coach.suggest("band_members", "", inbound) == []


async def test_a_role_holder_is_in_the_band(database: Database) -> None:
    coach = await synced_coach(database)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create Owls <@&555>")
    await ana.say("/start")
    await ana.press("Indie")
    dee = GuildDriver(coach, "1004", name="Dee", roles=("555",))
    assert await coach.suggest("band_tasks", "single", dee.inbound(kind="command"))
    stranger = GuildDriver(coach, "1005", name="Eve", roles=("666",))
    assert await coach.suggest("band_tasks", "single", stranger.inbound(kind="command")) == []


async def test_a_band_without_a_roadmap_has_no_tasks_yet(database: Database) -> None:
    coach = await synced_coach(database)
    ana = GuildDriver(coach, "1001", name="Ana", manager=True)
    await ana.say("/band create Owls")
    assert await coach.suggest("band_tasks", "", ana.inbound(kind="command")) == []


async def test_band_members_by_name_with_their_mention(database: Database) -> None:
    coach, ana, ben = await _band(database)
    everyone = await coach.suggest("band_members", "", ana.inbound(kind="command"))
    assert everyone == [Suggestion("Ana", "<@1001>"), Suggestion("Ben", "<@1002>")]
    assert await coach.suggest("band_members", "be", ana.inbound(kind="command")) == [
        Suggestion("Ben", "<@1002>")
    ]
    await ana.say(f"/band remove {everyone[1].value}")
    assert "Removed from" in ana.text
    assert await coach.suggest("band_tasks", "", ben.inbound(kind="command")) == []


async def test_a_failing_suggester_offers_nothing(
    database: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    coach = Coach(database)

    async def broken(_asked: Asked) -> list[Suggestion]:
        raise RuntimeError("boom")

    monkeypatch.setattr(coach.registry, "suggester", lambda _source: broken)
    with caplog.at_level(logging.ERROR):
        assert await coach.suggest("timezones", "ber", _dm()) == []
    assert "suggestions of timezones failed" in caplog.text


# ------------------------------------------------------------------ the registry's checks


async def _nothing(*_args: object) -> list[Outbound]:
    return []


def _feature(*options: Option, subcommands: tuple[Subcommand, ...] = ()) -> Feature:
    feature = Feature("test")
    feature.command("x", "a test command", options=options, subcommands=subcommands)(_nothing)
    return feature


def test_a_rest_of_line_option_comes_last() -> None:
    with pytest.raises(RegistryError, match="takes the rest"):
        Registry([_feature(Option("words", "w", rest=True), Option("n", "n", kind="integer"))])
    Registry([_feature(Option("n", "n", kind="integer"), Option("words", "w", rest=True))])


def test_every_suggested_source_has_a_feature_answering_it() -> None:
    with pytest.raises(RegistryError, match="nobody suggests band_tasks"):
        Registry([_feature(Option("task", "t", suggest="band_tasks"))])
    sub = Subcommand("s", "s", options=(Option("zone", "z", suggest="timezones"),))
    with pytest.raises(RegistryError, match="nobody suggests timezones"):
        Registry([_feature(subcommands=(sub,))])


def test_options_or_subcommands_not_both() -> None:
    with pytest.raises(RegistryError, match="not both"):
        Registry([_feature(Option("a", "a"), subcommands=(Subcommand("s", "s"),))])
