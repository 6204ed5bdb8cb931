"""Where discord.py connects: Discord itself, or a server speaking its API (the tests' fake).

discord.py 2 has no public setting for either address. The REST base is the class attribute
``discord.http.Route.BASE``, read whenever a ``Route`` is built; the gateway is the class
attribute ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``, which a plain ``Client`` uses
to connect (and again after Discord invalidates a session). The gateway's address is learnt
from ``GET /gateway/bot`` through the client's HTTP client (``Client.http``, undocumented).

This module is the one place in the project that touches these private parts of discord.py,
so a release that changes them breaks here and nowhere else: ``tests/e2e/test_discord_endpoints.py``
checks each of them as used below, and ``pyproject.toml`` keeps discord.py to the minor
versions tested. Being class attributes, the addresses are process-wide: one Discord client
per process (which is also how shards are deployed).
"""

from __future__ import annotations

import discord
import yarl

#: Discord's own REST API (v10, the version discord.py 2 speaks).
DISCORD_API = "https://discord.com/api/v10"


def point_at(api_base_url: str | None, gateway_url: str | None) -> None:
    """Send discord.py's REST calls to ``api_base_url`` (Discord's when ``None``) and, if
    given, connect to the gateway at ``gateway_url`` (else :func:`learn_gateway` finds it)."""
    discord.http.Route.BASE = (api_base_url or DISCORD_API).rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


async def learn_gateway(client: discord.Client) -> None:
    """Ask the REST API where its gateway is (``GET /gateway/bot``, after login) and connect
    there: Discord names its own, a fake its loopback address."""
    _shards, url, _limits = await client.http.get_bot_gateway()
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
