"""The aiohttp transport under PTB: what goes on the wire, and how failures come back.

A small aiohttp server on 127.0.0.1 plays the network: it echoes what it received, sleeps past
the read timeout, or drops the connection mid-request.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.request import BaseRequest

from bot.telegram.http import AiohttpRequest

TOKEN = "1:fake"


async def _echo(request: web.Request) -> web.Response:
    if request.content_type.startswith("multipart/"):
        parts: dict[str, object] = {}
        reader = await request.multipart()
        async for part in reader:
            body = await part.read()  # type: ignore[union-attr]
            parts[part.name or ""] = {  # type: ignore[union-attr]
                "filename": part.filename,  # type: ignore[union-attr]
                "size": len(body),
                "text": body.decode(errors="replace") if len(body) < 100 else None,
            }
        return web.json_response({"ok": True, "result": {"multipart": parts}})
    return web.json_response(
        {
            "ok": True,
            "result": {
                "type": request.content_type,
                "body": await request.json(),
                "agent": request.headers.get("User-Agent", ""),
            },
        }
    )


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.json_response({"ok": True, "result": True})


async def _drop(request: web.Request) -> web.Response:
    transport = request.transport
    assert transport is not None
    transport.abort()  # the connection dies before any answer
    await asyncio.sleep(1)
    return web.json_response({"ok": True, "result": True})


async def _refuse(request: web.Request) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, status=400
    )


async def _flood(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
        status=429,
    )


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    for name, handler in {
        "echo": _echo,
        "slow": _slow,
        "drop": _drop,
        "refuse": _refuse,
        "flood": _flood,
    }.items():
        app.router.add_post(f"/bot{TOKEN}/{name}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def request_() -> AsyncIterator[AiohttpRequest]:
    transport = AiohttpRequest(read_timeout=0.5, connect_timeout=0.5, pool_timeout=0.5)
    await transport.initialize()
    try:
        yield transport
    finally:
        await transport.shutdown()


async def _call(server: str, transport: BaseRequest, method: str, **values: object) -> object:
    """One Bot API call through PTB's public ``Bot.do_api_request`` over ``transport``: PTB
    builds the request data (JSON-encoded values, files as multipart) as for any method."""
    bot = Bot(TOKEN, base_url=f"{server}/bot", request=transport, get_updates_request=transport)
    return await bot.do_api_request(method, api_kwargs=values)


async def test_parameters_go_out_as_a_json_body(server: str, request_: AiohttpRequest) -> None:
    """JSON, which the Bot API accepts beside a form: nested values arrive JSON-serialised, as
    PTB's own ``json_payload`` has them, and text keeps its characters."""
    body = await _call(
        server, request_, "echo", chat_id=42, text="héllo <b> 🎸", reply_markup={"a": [1]}
    )
    assert isinstance(body, dict)
    assert body["type"] == "application/json"
    assert body["body"] == {"chat_id": "42", "text": "héllo <b> 🎸", "reply_markup": '{"a": [1]}'}
    assert "python-telegram-bot" in str(body["agent"])


async def test_files_go_out_as_multipart(server: str, request_: AiohttpRequest) -> None:
    picture = InputFile(b"\x89PNG" + bytes(500), filename="chart.png", attach=False)
    body = await _call(server, request_, "echo", chat_id=7, photo=picture)
    assert isinstance(body, dict)
    parts = body["multipart"]
    assert parts["chat_id"]["text"] == "7"
    assert parts["photo"] == {"filename": "chart.png", "size": 504, "text": None}


async def test_a_slow_answer_is_a_timeout(server: str, request_: AiohttpRequest) -> None:
    with pytest.raises(TimedOut):
        await _call(server, request_, "slow", chat_id=1)


async def test_a_dropped_connection_is_a_network_error(
    server: str, request_: AiohttpRequest
) -> None:
    with pytest.raises(NetworkError) as caught:
        await _call(server, request_, "drop", chat_id=1)
    assert not isinstance(caught.value, TimedOut)


async def test_nobody_listening_is_a_network_error(request_: AiohttpRequest) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(NetworkError):
        await _call(f"http://127.0.0.1:{port}", request_, "x", chat_id=1)


async def test_telegram_refusals_become_ptb_errors(server: str, request_: AiohttpRequest) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await _call(server, request_, "refuse", chat_id=1)
    with pytest.raises(RetryAfter) as flood:
        await _call(server, request_, "flood", chat_id=1)
    assert flood.value.retry_after.total_seconds() == 3  # type: ignore[union-attr]


async def test_initialize_and_shutdown_are_idempotent(server: str) -> None:
    """PTB initialises the same transport from the bot and the updater; both must be harmless,
    and a request after shutdown is refused instead of hanging."""
    transport = AiohttpRequest()
    await transport.initialize()
    await transport.initialize()
    body = await _call(server, transport, "echo", chat_id=5)
    assert isinstance(body, dict)
    assert body["body"] == {"chat_id": "5"}
    await transport.shutdown()
    await transport.shutdown()
    with pytest.raises(NetworkError, match="not initialized"):
        await _call(server, transport, "echo", chat_id=1)


def test_timeouts_not_given_are_the_transports_own() -> None:
    """PTB marks a timeout its caller did not give with ``BaseRequest.DEFAULT_NONE`` (its
    public marker); then the transport's own applies, and a given one (or ``None``, no limit)
    wins. aiohttp's total is the sum of the four, the media write timeout for uploads."""
    transport = AiohttpRequest(
        read_timeout=1, write_timeout=2, connect_timeout=3, pool_timeout=4, media_write_timeout=20
    )
    unset = BaseRequest.DEFAULT_NONE
    plain = transport._timeout(unset, unset, unset, unset, files=False)
    assert (plain.sock_read, plain.sock_connect, plain.connect, plain.total) == (1, 3, 7, 10)
    upload = transport._timeout(unset, unset, unset, unset, files=True)
    assert upload.total == 1 + 20 + 3 + 4
    given = transport._timeout(9, unset, unset, None, files=False)
    assert (given.sock_read, given.connect, given.total) == (9, None, None)
    with pytest.raises(TypeError, match="seconds or None"):
        transport._timeout("soon", unset, unset, unset, files=False)
