"""Webhook mode: Telegram POSTs updates to us instead of being polled.

Meant for several workers behind a load balancer: every worker runs :class:`TelegramWebhook`,
Telegram delivers each update to one of them, and the database keeps all state (the core
de-duplicates by ``update_id``, so a redelivery after a timeout changes nothing).

Why not PTB's built-in webhook server: it refuses a wrong secret without telling us, and a
request that presents a wrong or no secret is a security event we audit. So this is a small
aiohttp server that checks the ``X-Telegram-Bot-Api-Secret-Token`` header in constant time,
audits refusals (the reason only, never the presented value), and hands good updates to the
intake (:mod:`bot.telegram.intake`): the update is written down in the inbox and committed
*before* the 200 goes out — if that fails, the answer is 503 and Telegram delivers it again —
and is then processed asynchronously by PTB and our :class:`~bot.telegram.app.PerChatOrder`.
A worker that dies after answering leaves the row in the inbox, leased to it: once the lease
(``TELEGRAM_INBOX_LEASE_SECONDS``) runs out, any worker's sweep (every half lease, and at start)
takes it over, so a restart of the same worker or any other one handles it.

Answers: 200 accepted (also an update PTB cannot read: logged and acknowledged, so Telegram does
not send it for ever); 400 body not a JSON object, not an update, or nested deeper than
:data:`MAX_DEPTH`; 403 wrong or missing secret; 405 not a POST; 413 body over
:data:`MAX_BODY`; 503 not running, or the update could not be written down (Telegram retries).

A chat's order across workers: Telegram sends a chat's next update only once the webhook
answered its previous one with a 2xx (the Bot API server keeps one queue per chat:
``WebhookActor`` in github.com/tdlib/telegram-bot-api). Our 2xx comes once the update is
written down, not handled, and the load balancer need not be sticky, so the next update may
reach another worker while the first is still being handled. Every update's row carries its
chat, and before a worker handles an update :class:`~bot.telegram.app.PerChatOrder` waits
(``Inbox.wait_turn``) until no older row of that chat is left in the inbox: the older update
has been handled, by whichever worker. Within one worker ``PerChatOrder`` keeps the order
itself. Telegram keeps button presses in a queue per *user*, not per chat, so a press and a
message sent at the same moment have no order to keep (with one worker neither).

The client address (audit rows and the denial cap) is the connection's peer, or — only when
that peer is one of ``trusted_proxies`` (``TELEGRAM_WEBHOOK_TRUSTED_PROXIES``) — the nearest
address in ``X-Forwarded-For`` that is not a trusted proxy. Anyone can send that header, so
without the setting it is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from bot.telegram.app import ALLOWED_UPDATES, PerChatOrder, TelegramFrontEnd, startup_errors
from bot.telegram.proxies import client_address, parse_networks
from core.kernel.audit import record
from core.kernel.notify import DeliveryResult
from core.kernel.types import Outbound

logger = logging.getLogger(__name__)

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
#: Telegram's rule for ``secret_token``: 1–256 characters of ``A-Z a-z 0-9 _ -``.
SECRET_RE: Final = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: Largest request body accepted (a Telegram update is a few kilobytes at most).
MAX_BODY: Final = 1024 * 1024
#: Audit rows written for refused requests per minute and process; the rest are only counted,
#: so a flood of bad requests cannot turn into a flood of database writes.
DENIAL_AUDITS_PER_MINUTE: Final = 60
#: How long stop() lets requests in flight finish.
SHUTDOWN_TIMEOUT: Final = 5.0
#: Deepest nesting of objects and arrays accepted in a body (a real update is under 15 deep).
MAX_DEPTH: Final = 32


def _too_deep(data: Any, limit: int) -> bool:
    """True when objects/arrays nest deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, dict | list))
    return False


class _DenialBudget:
    """A fixed one-minute window of audit rows for refused requests."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._window = -1
        self._used = 0
        self.suppressed = 0

    def take(self) -> bool:
        """True if this refusal may be written to the audit log."""
        window = int(time.monotonic() // 60)
        if window != self._window:
            self._window, self._used = window, 0
        if self._used >= self.per_minute:
            if self.suppressed == 0:
                logger.warning(
                    "more than %d refused webhook requests this minute: auditing paused",
                    self.per_minute,
                )
            self.suppressed += 1
            return False
        self._used += 1
        return True

    def refund(self) -> None:
        """A taken slot wrote nothing (a repeat the audit log only counted): give it back, so
        one address refused again and again can't use up the minute for everyone else."""
        self._used = max(0, self._used - 1)


class TelegramWebhook:
    """An aiohttp server that receives Telegram's webhook calls for one front end.

    It is the Telegram :class:`~core.kernel.frontend.FrontEnd` of a worker in webhook mode:
    :meth:`start` and :meth:`stop` run the listener around the front end's application, and
    notices go out through the front end it holds (:meth:`notify`), as in polling mode.

    Args:
        front: The Telegram front end (its ``application`` processes the updates).
        secret_token: The secret Telegram sends in ``X-Telegram-Bot-Api-Secret-Token``.
        listen: The local address to bind.
        port: The local port; 0 picks a free one (see :attr:`url`).
        path: The URL path Telegram POSTs to (the same behind the load balancer).
        public_url: The public ``https://`` base the load balancer serves; with it,
            :meth:`start` registers ``public_url + path`` with ``setWebhook``.
        denial_audits_per_minute: Cap on audit rows for refused requests (see
            :data:`DENIAL_AUDITS_PER_MINUTE`).
        trusted_proxies: Addresses or CIDR ranges of the proxies in front of the workers whose
            ``X-Forwarded-For`` is believed (none: the header is ignored).
        sweep_every: Seconds between looks for orphaned inbox rows (default: half the lease),
            slept on the front end's timer.
        extra_routes: Adds more routes to the listener (``coach run``'s health and metrics
            endpoints, when they have no port of their own).

    Raises:
        ValueError: A secret Telegram would refuse, a path without a leading slash, a port out
            of range, a public URL that is not ``https://host[...]``, or a trusted proxy that
            is not an address or network.
    """

    platform = "telegram"

    def __init__(
        self,
        front: TelegramFrontEnd,
        *,
        secret_token: str,
        listen: str = "127.0.0.1",
        port: int = 8443,
        path: str = "/telegram",
        public_url: str | None = None,
        denial_audits_per_minute: int = DENIAL_AUDITS_PER_MINUTE,
        trusted_proxies: Iterable[str] = (),
        sweep_every: float | None = None,
        extra_routes: Callable[[web.Application], None] | None = None,
    ) -> None:
        if not isinstance(secret_token, str) or not SECRET_RE.fullmatch(secret_token):
            raise ValueError(
                "the webhook secret token must be 1-256 characters, each a letter A-Z or a-z, "
                "a digit, '_' or '-' (Telegram's rule)"
            )
        if not path.startswith("/") or any(c in path for c in "?# "):
            raise ValueError(f"the webhook path must start with '/' and be a plain path: {path!r}")
        if not 0 <= port <= 65535:
            raise ValueError(f"the webhook port must be 0-65535, got {port}")
        if public_url is not None:
            parts = urlsplit(public_url)
            if parts.scheme != "https" or not parts.netloc or parts.query or parts.fragment:
                raise ValueError(
                    f"the public webhook URL must be https://host[:port][/prefix], "
                    f"got {public_url!r} (Telegram only calls HTTPS webhooks)"
                )
            public_url = public_url.rstrip("/")
        self.front = front
        self.listen = listen
        self.port = port
        self.path = path
        self.public_url = public_url
        self._secret = secret_token.encode()
        self._budget = _DenialBudget(denial_audits_per_minute)
        self.trusted_proxies = parse_networks(trusted_proxies)
        lease = front.inbox.lease.total_seconds()
        self.sweep_every = sweep_every if sweep_every is not None else max(1.0, lease / 2)
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._extra_routes = extra_routes
        processor = front.application.update_processor
        if isinstance(processor, PerChatOrder):  # a chat's order across workers
            processor.turn = self._turn

    async def _turn(self, update: Update, chat_id: int) -> bool:
        """Wait until the chat's older updates, wherever they are, are handled (see the
        module docstring, "A chat's order")."""
        return await self.front.inbox.wait_turn(
            update.update_id, chat_id, sleep=self.front.timer.sleep
        )

    async def notify(self, chat_id: str, replies: Sequence[Outbound]) -> DeliveryResult:
        """A notice, sent as in polling mode (the front end's rate limits and retries)."""
        return await self.front.notify(chat_id, replies)

    # ------------------------------------------------------------------ lifecycle

    @property
    def webhook_url(self) -> str | None:
        """The public URL registered with Telegram (``public_url + path``), if any."""
        return None if self.public_url is None else self.public_url + self.path

    @property
    def url(self) -> str:
        """The local ``http://listen:port/path`` actually bound (the real port when 0 was asked)."""
        if self._bound_port is None:
            raise RuntimeError("the webhook server is not running")
        host = f"[{self.listen}]" if ":" in self.listen else self.listen
        return f"http://{host}:{self._bound_port}{self.path}"

    async def start(self, *, register: bool = True) -> None:
        """Start the application and the server, then (optionally) register the webhook.

        The server is listening before ``setWebhook`` is called, so Telegram's first delivery
        finds it. With several workers, one registration is enough; the others may pass
        ``register=False`` (registering again with the same values is harmless).

        Raises:
            ConfigurationError: Telegram refused the token (said plainly, never quoting it).
            PlatformUnreachable: Telegram could not be reached; everything started is stopped
                again, so ``start()`` may be called again later.
        """
        with startup_errors():
            await self._start(register=register)

    async def _start(self, *, register: bool) -> None:
        application = self.front.application
        await application.initialize()
        try:
            await self.front.register_commands()
            await application.start()
            self.front.inbox.start()
            await self._serve()
            if self._sweeper is None:  # at once: what a dead worker left behind
                self._sweeper = asyncio.create_task(self._sweep(), name="telegram:inbox-sweep")
            if register and self.webhook_url is not None:
                await application.bot.set_webhook(
                    url=self.webhook_url,
                    secret_token=self._secret.decode(),
                    allowed_updates=list(ALLOWED_UPDATES),
                    drop_pending_updates=False,
                )
                logger.info("telegram webhook registered at %s", self.webhook_url)
        except BaseException:
            await self._take_down()
            raise

    def down_reason(self) -> str | None:
        """Why Telegram's calls are not being received now, or ``None``: ``/readyz``."""
        if not self.front.application.running:
            return "not started"
        if self._runner is None:
            return "webhook listener not running"
        return None

    async def stop(self) -> None:
        """Stop accepting requests, then stop the front end for good, as in polling mode: the
        queued updates are finished, parked sends given up (their chats are owed a note), the
        application shut down.

        The webhook stays registered with Telegram: other workers keep serving it.
        """
        await self._close_server()
        await self.front.stop()

    async def _take_down(self) -> None:
        """Undo a start that failed half-way, so that ``start()`` may be tried again: all of
        :meth:`stop` but closing the front end's sends (closed, they stay closed)."""
        await self._close_server()
        await self.front.menus.close()
        application = self.front.application
        if application.running:
            await application.stop()  # processes what is already on the update queue
        await application.shutdown()
        await self.front.inbox.stop()  # deletes the rows of what was handled
        await application.bot.shutdown()  # sessions of a start that failed half-way (else no-op)

    async def _close_server(self) -> None:
        """Stop accepting requests and looking for orphaned inbox rows."""
        runner, self._runner = self._runner, None
        self._bound_port = None
        if runner is not None:
            await runner.cleanup()
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

    async def _sweep(self) -> None:
        """Take over inbox rows whose lease ran out, now and every :attr:`sweep_every` s."""
        failing = False
        while True:
            try:
                await self.front.intake.resume(everything=False)
                failing = False
            except Exception as exc:
                (logger.debug if failing else logger.warning)(
                    "telegram: could not look for orphaned inbox rows (%s)", type(exc).__name__
                )
                failing = True
            await self.front.timer.sleep(self.sweep_every)

    async def _serve(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._on_post)
        if self._extra_routes is not None:  # /healthz, /readyz, /metrics (bot/watch.py)
            self._extra_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.listen, self.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._bound_port = int(runner.addresses[0][1])
        logger.info("telegram webhook listening on %s", self.url)

    # ------------------------------------------------------------------ requests

    async def _on_post(self, request: web.Request) -> web.Response:
        presented = request.headers.getall(SECRET_HEADER, [])
        reason: str | None = None
        if not presented or presented == [""]:
            reason = "missing"
        elif len(presented) != 1 or not hmac.compare_digest(
            presented[0].encode("utf-8", "backslashreplace"), self._secret
        ):
            reason = "wrong"
        if reason is not None:
            await self._deny(request, reason)
            return web.Response(status=403, text="forbidden")

        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413, text="request body too large")
        if not self.front.application.running:
            return web.Response(status=503, text="not running")  # Telegram will retry
        body = await request.read()  # raises HTTPRequestEntityTooLarge (413) past MAX_BODY
        data = self._load(body)
        if data is None:
            return web.Response(status=400, text="expected a Telegram update as a JSON object")
        try:
            # written down and committed before the 200 (unreadable ones only logged)
            await self.front.intake.accept([data])
        except Exception as exc:
            logger.error(
                "telegram webhook: update %s could not be written down (%s); answered 503, "
                "Telegram sends it again",
                data["update_id"],
                type(exc).__name__,
            )
            return web.Response(status=503, text="try again")
        return web.Response(status=200)

    @staticmethod
    def _load(body: bytes) -> dict[str, Any] | None:
        """The body as an update-shaped JSON object, or ``None`` (logged) for a 400."""
        try:
            data: Any = json.loads(body)
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the stack
            logger.warning("webhook body is not JSON (%d bytes)", len(body))
            return None
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            logger.warning("webhook body is not an update object")
            return None
        if _too_deep(data, MAX_DEPTH):
            logger.warning("webhook body nests deeper than %d levels", MAX_DEPTH)
            return None
        return data

    def client(self, request: web.Request) -> str:
        """The client's address (see the module docstring on ``X-Forwarded-For``)."""
        forwarded = request.headers.getall("X-Forwarded-For", [])
        return client_address(request.remote, forwarded, self.trusted_proxies)

    async def _deny(self, request: web.Request, reason: str) -> None:
        remote = self.client(request)
        if not self._budget.take():
            logger.debug("telegram webhook request from %s refused: %s secret", remote, reason)
            return
        details: dict[str, Any] = {"reason": reason}
        unaudited, self._budget.suppressed = self._budget.suppressed, 0
        if unaudited:
            details["unaudited_before"] = unaudited
        written, counted = False, False
        try:
            # record() also caps repeats per address (core/kernel/audit.py: one row a minute)
            written = await record(
                self.front.coach.db,
                actor=f"telegram-webhook:{remote}",
                action="webhook.secret_mismatch",
                outcome="denied",
                details=details,
            )
            counted = not written
        except Exception:
            logger.exception("could not write the audit row for a refused webhook request")
        if counted:  # a repeat from this address, counted there: the slot was not used
            self._budget.refund()
        if not written:  # the minute's count waits for the next row that is written
            self._budget.suppressed += unaudited
        log = logger.warning if written else logger.debug  # one line per audit row, not per hit
        log("telegram webhook request from %s refused: %s secret", remote, reason)
