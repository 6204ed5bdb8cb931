"""A loopback round-robin HTTP proxy: the load balancer in front of several webhook workers.

Deliberately *not* sticky: request n goes to backend ``n mod len(backends)`` whatever it
carries, so one chat's updates land on different workers (what the scale-out tests need to
show the order is kept anyway). A backend that refuses the connection or fails is answered
``502`` — Telegram then sends the update again, and the next try goes to the next backend.
Every request is recorded as ``(backend index, update_id or None, status)`` in :attr:`log`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Self

import aiohttp
from aiohttp import web

#: Headers not passed on (hop-by-hop, or recomputed by the client).
_DROP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class RoundRobinProxy:
    """Forwards every request to the next of ``backends`` (base URLs, ``http://127.0.0.1:p``).

    Use as ``async with RoundRobinProxy([...]) as proxy``; :attr:`url` is its address. Swap a
    backend with :meth:`replace` (a restarted worker on another port).
    """

    def __init__(self, backends: Sequence[str]) -> None:
        if not backends:
            raise ValueError("a proxy needs at least one backend")
        self.backends = [b.rstrip("/") for b in backends]
        self.log: list[tuple[int, int | None, int]] = []
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    def replace(self, index: int, backend: str) -> None:
        """Backend ``index`` is now at ``backend``."""
        self.backends[index] = backend.rstrip("/")

    async def __aenter__(self) -> Self:
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30),
            connector=aiohttp.TCPConnector(limit=0),
        )
        app = web.Application(client_max_size=2**21)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = int(self._runner.addresses[0][1])
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        index = next(self._turn) % len(self.backends)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROP}
        headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
        status, payload = 502, b"bad gateway"
        try:
            async with self._http.request(
                request.method,
                self.backends[index] + request.path_qs,
                data=body,
                headers=headers,
            ) as response:
                payload = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            pass
        self.log.append((index, _update_id(body), status))
        return web.Response(status=status, body=payload)


def _update_id(body: bytes) -> int | None:
    try:
        value = json.loads(body).get("update_id")
    except (ValueError, AttributeError):
        return None
    return value if type(value) is int else None
