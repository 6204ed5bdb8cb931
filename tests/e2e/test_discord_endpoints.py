"""Contract tests for the private parts of discord.py that ``bot/discord/endpoints.py`` uses.

discord.py has no public setting for its REST base or its gateway; ``endpoints.py`` writes two
class attributes and calls the client's undocumented HTTP client. These tests fail, with a
message saying what changed, as soon as a discord.py release moves any of that — then
``endpoints.py`` needs another way, and ``pyproject.toml``'s bound on discord.py (the newest
minor version tested) is what kept it from arriving unnoticed.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import discord
import pytest
import yarl
from discordkit import front_end, world
from fakes.discord_api import FakeDiscord

from bot.discord import endpoints
from core.app.engine import Coach
from core.db.engine import Database


@pytest.fixture
def restored() -> Iterator[None]:
    """Put discord.py's process-wide addresses back as they were."""
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


@pytest.mark.usefixtures("restored")
def test_rest_urls_are_built_from_route_base() -> None:
    endpoints.point_at("http://127.0.0.1:9/api/v10/", "ws://127.0.0.1:9/gw")
    url = discord.http.Route("GET", "/channels/{channel_id}", channel_id=42).url
    assert url == "http://127.0.0.1:9/api/v10/channels/42", (
        "discord.py no longer builds REST URLs from Route.BASE: bot/discord/endpoints.py "
        "can't point it at another server"
    )
    assert discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY == yarl.URL("ws://127.0.0.1:9/gw")


@pytest.mark.usefixtures("restored")
def test_no_address_given_is_discords_own() -> None:
    endpoints.point_at(None, None)
    assert discord.http.Route("GET", "/gateway").url == "https://discord.com/api/v10/gateway"


def test_the_gateway_connection_falls_back_to_default_gateway() -> None:
    """A plain ``Client`` connects with ``DiscordWebSocket.from_client`` and no gateway of its
    own; ``from_client`` then takes the class's ``DEFAULT_GATEWAY`` (``endpoints.py`` sets it;
    the next test shows the connection going there)."""
    gateway = inspect.signature(discord.gateway.DiscordWebSocket.from_client).parameters.get(
        "gateway"
    )
    assert gateway is not None, "DiscordWebSocket.from_client takes no gateway any more"
    assert gateway.default is None
    assert isinstance(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY, yarl.URL)


@pytest.mark.usefixtures("restored")
async def test_the_gateway_is_learnt_from_rest_and_used(database: Database) -> None:
    """End to end on the fake: only the REST base given, the gateway is learnt from
    ``GET /gateway/bot`` (``Client.http.get_bot_gateway``) and the client connects there."""
    async with FakeDiscord() as fake:
        world(fake)
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL("ws://127.0.0.1:9/nowhere")
        front = front_end(fake, Coach(database))
        await front.start(ready_timeout=15)
        try:
            assert fake.requests_to("GET", r"/gateway/bot") == [200]
            assert discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY == yarl.URL(fake.gateway)
            assert fake.identifies == 1
        finally:
            await front.stop()
