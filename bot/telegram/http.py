"""PTB's HTTP transport on aiohttp instead of httpx.

The Telegram benchmark showed the bot process saturating one core at ~85 updates/s, most of it
in PTB's default transport (httpx/httpcore): each request costs several hundred µs of Python,
and httpcore scans its whole connection pool per request. python-telegram-bot lets an
application bring its own transport (``BaseRequest``); this one speaks the same HTTP through
aiohttp's client, whose parser and connection pool are C-accelerated.

Behaviour is PTB's: the same parameters go out (as a JSON body, or multipart with files),
the status and body come back to PTB, which turns 4xx/5xx into its ``TelegramError`` tree.
Timeouts become ``TimedOut`` and connection failures ``NetworkError``, exactly as with httpx,
so retries and the rate limiter behave the same.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_JSON = {"Content-Type": "application/json"}
#: PTB's marker for a timeout the caller did not give (public: ``BaseRequest.DEFAULT_NONE``,
#: documented as "use ``if parameter is BaseRequest.DEFAULT_NONE``" to tell).
_NOT_GIVEN = BaseRequest.DEFAULT_NONE
#: A timeout as PTB passes it: seconds, ``None`` (no limit) or :data:`_NOT_GIVEN`. Spelled
#: ``object`` because PTB's own alias for it (``ODVInput``) lives in its private modules; a
#: wider parameter type is a valid override of ``BaseRequest.do_request``.
Timeout = object


def _seconds(value: Timeout, default: float | None) -> float | None:
    """A timeout PTB passed: ``default`` when not given, else its seconds (or ``None``)."""
    if value is _NOT_GIVEN:
        return default
    if value is None or isinstance(value, int | float):
        return value
    raise TypeError(f"a timeout is seconds or None, not {value!r}")


class AiohttpRequest(BaseRequest):
    """A PTB ``BaseRequest`` on an ``aiohttp.ClientSession`` with a bounded connection pool."""

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        connection_pool_size: int = 64,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (PTB adds the long-polling timeout on top for getUpdates)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (idempotent; PTB may call it more than once)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300),
                headers={"User-Agent": self.USER_AGENT},
                # Bodies are PTB's business: it reads the JSON of error answers too.
                raise_for_status=False,
            )

    async def shutdown(self) -> None:
        """Close the session and its connections (idempotent)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(
        self,
        read: Timeout,
        write: Timeout,
        connect: Timeout,
        pool: Timeout,
        *,
        files: bool,
    ) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts from PTB's four. aiohttp has no separate write timeout: the
        socket-read timeout starts once the request is written, so a stuck write is caught by
        the total, which is the sum of the parts (when they are all bounded)."""
        read_s = _seconds(read, self._read_timeout)
        connect_s = _seconds(connect, self._connect_timeout)
        pool_s = _seconds(pool, self._pool_timeout)
        write_s = _seconds(write, self._media_write_timeout if files else self._write_timeout)
        parts = (read_s, write_s, connect_s, pool_s)
        total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
        acquire = None if pool_s is None or connect_s is None else pool_s + connect_s
        return aiohttp.ClientTimeout(
            total=total, connect=acquire, sock_connect=connect_s, sock_read=read_s
        )

    async def do_request(  # noqa: PLR0917 - PTB's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = _NOT_GIVEN,
        write_timeout: Timeout = _NOT_GIVEN,
        connect_timeout: Timeout = _NOT_GIVEN,
        pool_timeout: Timeout = _NOT_GIVEN,
    ) -> tuple[int, bytes]:
        """Send one Bot API request; return its status and body for PTB to interpret."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = bool(request_data and request_data.contains_files)
        data: Any = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            if files:
                form = aiohttp.FormData(quote_fields=False)
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in request_data.multipart_data.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
            else:
                # A JSON body, which the Bot API takes as well as a form: aiohttp's form
                # encoding (urllib quoting every character) cost more CPU than the request.
                data = request_data.json_payload
                headers = _JSON
        timeout = self._timeout(
            read_timeout, write_timeout, connect_timeout, pool_timeout, files=files
        )
        try:
            async with self._session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as res:
                return res.status, await res.read()
        except TimeoutError as exc:  # asyncio.TimeoutError is TimeoutError on 3.11+
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
