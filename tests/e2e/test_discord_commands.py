"""Discord's slash commands, built from the core's registry: what ``sync-commands`` uploads
(typed options, choices, autocomplete, sub-commands, where each is offered and to whom), and
autocomplete answered by the core — the real discord.py client against the loopback fake.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import pytest
from coachkit import synced_coach
from discord import app_commands
from discordkit import ANA, BEN, CHANNEL, CLEO, GUILD, ROLE, Bench, front_end, running, world
from fakes.discord_api import FakeDiscord

from bot.discord import commands
from core.db.engine import Database
from core.kernel.registry import Feature, Option, Registry, Subcommand
from core.kernel.types import Outbound
from core.reminders.schedule import COMMON_ZONES

JSONDict = dict[str, Any]


def _synced(fake: FakeDiscord) -> dict[str, JSONDict]:
    return {c["name"]: c for c in fake.commands[None]}


def _options(command: JSONDict) -> dict[str, JSONDict]:
    return {o["name"]: o for o in command.get("options") or []}


async def _typed(bench: Bench, iid: int) -> list[JSONDict]:
    """The choices the bot offered to an autocomplete interaction."""
    inter = await bench.answered(iid)
    assert inter.callback_type == 8, inter.errors
    assert inter.choices is not None
    return inter.choices


async def _band_on_indie(bench: Bench) -> None:
    await bench.command(ANA, "band", sub="create", name="Night Owls")
    await bench.command(BEN, "band", sub="join")
    start = await bench.command(ANA, "start")
    menu = next(m for m in start.messages() if any("Indie" in b for b, _ in m.buttons()))
    await bench.press(ANA, menu, "Indie")


async def test_the_synced_commands_are_the_registrys(database: Database) -> None:
    async with running(database) as bench:
        synced = _synced(bench.fake)
        offered = commands.offers(bench.coach.registry)
        assert list(synced) == [o.name for o in offered]

        zone = _options(synced["timezone"])["zone"]
        assert (zone["type"], zone.get("autocomplete")) == (3, True), "a string the core suggests"
        assert synced["timezone"]["contexts"] == [0, 1], "in servers (the band's) and DMs"

        choice = _options(synced["broadcasts"])["choice"]
        assert [c["value"] for c in choice["choices"]] == ["off", "on"]

        assign = _options(synced["assign"])
        assert (assign["task"]["type"], assign["task"]["required"]) == (3, True)
        assert assign["task"].get("autocomplete") is True
        assert assign["member"]["type"] == 6, "Discord's member picker"
        assert synced["assign"]["contexts"] == [0]
        assert synced["assign"]["dm_permission"] is False

        band = synced["band"]
        assert band["contexts"] == [0]
        subs = _options(band)
        assert all(s["type"] == 1 for s in subs.values()), "sub-commands"
        assert {"create", "join", "leave", "progress", "members", "rename", "remove"} <= set(subs)
        assert {"role", "channel", "reset", "help"} <= set(subs)
        create = _options(subs["create"])
        assert [o["name"] for o in subs["create"]["options"]] == ["name", "role"], "required first"
        assert (create["name"]["required"], create["role"]["type"]) == (True, 8)
        assert _options(subs["remove"])["member"].get("autocomplete") is True
        assert _options(subs["role"])["role"].get("required") is False

        admin = synced["admin"]
        assert int(admin["default_member_permissions"]) == discord.Permissions.administrator.flag
        assert admin["contexts"] == [0], "no per-person menus in DMs: typed as a message there"
        assert synced["link"]["contexts"] == [1], "a private chat's: DMs only"
        assert synced["start"]["default_member_permissions"] is None
        assert synced["start"]["contexts"] == [0, 1]
        name = synced["name"]
        assert name["default_member_permissions"] is None, "everyone's in DMs"
        assert _options(name)["name"]["required"] is True


async def _nothing(*_args: object) -> list[Outbound]:
    return []


def _built(*features: Feature) -> dict[str, JSONDict]:
    """The payloads a tree built from these features would upload."""
    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    registry = Registry(features)
    commands.build(tree, SimpleNamespace(coach=SimpleNamespace(registry=registry)))
    return {c.name: c.to_dict(tree) for c in tree.get_commands()}


def test_kinds_places_and_audiences_become_discords() -> None:
    feature = Feature("test")
    band = frozenset({"band"})
    feature.command(
        "count", "a number", options=(Option("n", "how many", kind="integer", required=True),)
    )(_nothing)
    feature.command("tidy", "managers only", places=band, audience="managers")(_nothing)
    feature.command("solo", "Telegram groups and DMs", places=frozenset({"private", "group"}))(
        _nothing
    )
    feature.command("grouponly", "a Telegram group's", places=frozenset({"group"}))(_nothing)
    feature.command(
        "pick",
        "sub-commands",
        places=band,
        audience="managers",
        subcommands=(Subcommand("one", "first", options=(Option("who", "w", kind="member"),)),),
    )(_nothing)
    built = _built(feature)
    assert set(built) == {"count", "tidy", "solo", "pick"}, "nothing for Telegram groups only"
    assert built["count"]["options"][0]["type"] == 4
    assert built["count"]["options"][0]["required"] is True
    manage = discord.Permissions.manage_guild.flag
    assert built["tidy"]["default_member_permissions"] == manage
    assert built["tidy"]["contexts"] == [0]
    assert built["solo"]["contexts"] == [1]
    assert built["pick"]["default_member_permissions"] == manage
    assert built["pick"]["options"][0]["options"][0]["type"] == 6


async def test_timezone_autocomplete_offers_matching_zones(database: Database) -> None:
    async with running(database) as bench:
        fake = bench.fake
        choices = await _typed(
            bench, fake.user_types_option_in_dm(ANA, "timezone", focused="zone", typed="berl")
        )
        assert choices[0] == {"name": "Europe/Berlin", "value": "Europe/Berlin"}
        everything = await _typed(
            bench,
            fake.member_types_option(GUILD, CHANNEL, BEN, "timezone", focused="zone", typed=""),
        )
        assert [c["value"] for c in everything] == list(COMMON_ZONES)
        # the chosen value is what /timezone reads
        await bench.answered(fake.user_runs_command_in_dm(ANA, "start"))
        fake.dm_message(ANA, "Ana")
        await fake.wait_for(lambda: len(fake.dm_messages(ANA)) >= 2)
        await bench.settled()
        done = await bench.answered(
            fake.user_runs_command_in_dm(ANA, "timezone", zone=choices[0]["value"])
        )
        assert "Europe/Berlin" in done.texts()


async def test_assign_autocomplete_offers_the_bands_tasks_to_its_members_only(
    database: Database,
) -> None:
    async with running(database) as bench:
        fake = bench.fake
        await _band_on_indie(bench)
        tasks = await _typed(
            bench,
            fake.member_types_option(GUILD, CHANNEL, BEN, "assign", focused="task", typed="split"),
        )
        assert tasks == [{"name": "Sign a split sheet for the song", "value": "iss-split-sheet"}]
        stranger = await _typed(
            bench,
            fake.member_types_option(GUILD, CHANNEL, CLEO, "assign", focused="task", typed=""),
        )
        assert stranger == [], "Cleo is in the server, not in the band"
        assigned = await bench.command(ANA, "assign", task=tasks[0]["value"], member=("user", BEN))
        assert "Sign a split sheet for the song" in assigned.texts()
        assert "Ben's job" in assigned.texts()
        members = await _typed(
            bench,
            fake.member_types_option(
                GUILD, CHANNEL, ANA, "band", sub="remove", focused="member", typed="b"
            ),
        )
        assert members == [{"name": "Ben", "value": f"<@{BEN}>"}]
        removed = await bench.command(ANA, "band", sub="remove", member=members[0]["value"])
        assert "Removed from" in removed.texts()


async def test_band_subcommands_run_with_their_typed_options(database: Database) -> None:
    async with running(database) as bench:
        created = await bench.command(ANA, "band", sub="create", name="Owls", role=("role", ROLE))
        assert "everyone with the role is in" in created.texts()
        unbound = await bench.command(ANA, "band", sub="role")
        assert "no bound role now" in unbound.texts(), "the role left empty unbinds"
        renamed = await bench.command(ANA, "name", name="Night Owls")
        assert "Night Owls" in renamed.texts()
        off = await bench.answered(
            bench.fake.user_runs_command_in_dm(BEN, "broadcasts", choice="off")
        )
        assert off.texts()


async def test_the_fake_holds_invocations_to_the_synced_commands(database: Database) -> None:
    async with running(database) as bench:
        fake = bench.fake
        with pytest.raises(AssertionError, match="no option 'text'"):
            fake.member_runs_command(GUILD, CHANNEL, ANA, "remind", text="daily 18:00")
        with pytest.raises(AssertionError, match="choices"):
            fake.user_runs_command_in_dm(ANA, "broadcasts", choice="maybe")
        with pytest.raises(AssertionError, match="context"):
            fake.member_runs_command(GUILD, CHANNEL, ANA, "link")
        with pytest.raises(AssertionError, match="needs"):
            fake.member_runs_command(GUILD, CHANNEL, ANA, "assign", task="x")
        with pytest.raises(AssertionError, match="autocomplete"):
            fake.member_types_option(GUILD, CHANNEL, ANA, "remind", focused="when", typed="d")


@pytest.mark.parametrize(
    ("option", "why"),
    [
        ({"name": "x", "description": "", "type": 3}, "description"),
        ({"name": "X", "description": "d", "type": 3}, "name"),
        (
            {"name": "x", "description": "d", "type": 3, "autocomplete": True,
             "choices": [{"name": "a", "value": "a"}]},
            "autocomplete",
        ),
        ({"name": "x", "description": "d", "type": 6, "choices": [{"name": "a", "value": "a"}]},
         "choices"),
        ({"name": "x", "description": "d", "type": 4, "choices": [{"name": "a", "value": "a"}]},
         "value"),
    ],
)  # fmt: skip
async def test_the_fake_refuses_what_discord_refuses(option: JSONDict, why: str) -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as http:
        url = f"{fake.api_base}/applications/{fake.application_id}/commands"
        headers = {"Authorization": f"Bot {fake.token}"}
        good = {"name": "ok", "description": "fine", "options": [], "contexts": [0, 1]}
        async with http.put(url, json=[good], headers=headers) as answer:
            assert answer.status == 200
        bad = {**good, "options": [option]}
        async with http.put(url, json=[bad], headers=headers) as answer:
            assert answer.status == 400
            assert why in str(await answer.json())
        late = [
            {"name": "a", "description": "d", "type": 3},
            {"name": "b", "description": "d", "type": 3, "required": True},
        ]
        async with http.put(url, json=[{**good, "options": late}], headers=headers) as answer:
            assert answer.status == 400, "required options come first"
        assert [c["name"] for c in fake.commands[None]] == ["ok"]


async def test_a_bot_admin_types_admin_in_a_dm(database: Database) -> None:
    """/admin is not in the DM menu (Discord can't offer it to admins only there): typed as a
    message, it is read as the command."""
    async with FakeDiscord() as fake:
        world(fake)
        coach = await synced_coach(database, admins=[f"discord:{BEN}"])
        front = front_end(fake, coach)
        await front.start(ready_timeout=15)
        try:
            fake.dm_message(BEN, "/admin help")
            await fake.wait_for(lambda: bool(fake.dm_messages(BEN)))
            assert "/admin stats" in fake.dm_messages(BEN)[-1].text()
        finally:
            await front.stop()


async def test_numbers_commands_have_typed_options_and_run(database: Database) -> None:
    """/update, /goal and /stats come from the numbers feature's routes, with typed options, in
    servers (the band's numbers) and DMs alike."""
    async with running(database) as bench:
        synced = _synced(bench.fake)
        for name in ("update", "goal", "stats"):
            assert synced[name]["contexts"] == [0, 1], name
        update = _options(synced["update"])
        assert [o["name"] for o in synced["update"]["options"]] == ["metric", "value"]
        assert (update["metric"]["type"], update["value"]["type"]) == (3, 3)
        assert update["metric"].get("autocomplete") is True
        offered = await _typed(
            bench,
            bench.fake.user_types_option_in_dm(ANA, "update", focused="metric", typed="listen"),
        )
        assert offered[0] == {"name": "Monthly listeners", "value": "monthly listeners"}
        assert [o["name"] for o in synced["goal"]["options"]] == ["metric", "target"]
        await _band_on_indie(bench)
        saved = await bench.command(ANA, "update", metric="monthly listeners", value="1.4k")
        assert "Saved: **1,400 listeners**" in saved.texts()
        goal = await bench.command(
            ANA, "goal", metric="monthly listeners", target="2000 by in 10 weeks"
        )
        assert "Goal set: Monthly listeners **2,000**" in goal.texts()
        stats = await bench.command(ANA, "stats")
        assert "1,400" in stats.texts()
