"""Webhook mode: Telegram POSTs updates to us instead of being polled.

Meant for several workers behind a load balancer: every worker runs :class:`TelegramWebhook`,
Telegram delivers each update to one of them, and the database keeps all state (the core
de-duplicates by ``update_id``, so a redelivery after a timeout changes nothing).

Why not PTB's built-in webhook server: it refuses a wrong secret without telling us, and a
request that presents a wrong or no secret is a security event we audit. So this is a small
aiohttp server that checks the ``X-Telegram-Bot-Api-Secret-Token`` header in constant time,
audits refusals (the reason only, never the presented value), and puts good updates on the
application's ``update_queue``: it answers 200 at once and the update is processed
asynchronously by PTB and our :class:`~bot.telegram.app.PerChatOrder` processor.

Answers: 200 accepted; 400 body not a JSON object or not an update; 403 wrong or missing
secret; 405 not a POST; 413 body over :data:`MAX_BODY`; 503 not running (Telegram retries).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update

from bot.telegram.app import ALLOWED_UPDATES, TelegramFrontEnd, startup_errors
from core.admin.audit import record

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

    Raises:
        ValueError: A secret Telegram would refuse, a path without a leading slash, a port out
            of range, or a public URL that is not ``https://host[...]``.
    """

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
        self._runner: web.AppRunner | None = None
        self._bound_port: int | None = None

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
            await self._serve()
            if register and self.webhook_url is not None:
                await application.bot.set_webhook(
                    url=self.webhook_url,
                    secret_token=self._secret.decode(),
                    allowed_updates=list(ALLOWED_UPDATES),
                    drop_pending_updates=False,
                )
                logger.info("telegram webhook registered at %s", self.webhook_url)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop accepting requests, finish the queued updates, and shut the application down.

        The webhook stays registered with Telegram: other workers keep serving it.
        """
        runner, self._runner = self._runner, None
        self._bound_port = None
        if runner is not None:
            await runner.cleanup()
        application = self.front.application
        if application.running:
            await application.stop()  # processes what is already on the update queue
        await application.shutdown()
        await application.bot.shutdown()  # sessions of a start that failed half-way (else no-op)

    async def _serve(self) -> None:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._on_post)
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
        update = self._parse(body)
        if update is None:
            return web.Response(status=400, text="expected a Telegram update as a JSON object")
        await self.front.application.update_queue.put(update)
        return web.Response(status=200)

    def _parse(self, body: bytes) -> Update | None:
        try:
            data: Any = json.loads(body)
        except ValueError:  # UnicodeDecodeError and JSONDecodeError both are ValueErrors
            logger.warning("webhook body is not JSON (%d bytes)", len(body))
            return None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            logger.warning("webhook body is not an update object")
            return None
        try:
            return Update.de_json(data, self.front.application.bot)
        except Exception as exc:  # a malformed update must not be a 500 that Telegram retries
            logger.warning("webhook body is not a valid update: %s: %s", type(exc).__name__, exc)
            return None

    async def _deny(self, request: web.Request, reason: str) -> None:
        remote = request.remote or "unknown"
        if not self._budget.take():
            logger.debug("telegram webhook request from %s refused: %s secret", remote, reason)
            return
        details: dict[str, Any] = {"reason": reason}
        unaudited, self._budget.suppressed = self._budget.suppressed, 0
        if unaudited:
            details["unaudited_before"] = unaudited
        written, counted = False, False
        try:
            # record() also caps repeats per address (core/admin/audit.py: one row a minute)
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
