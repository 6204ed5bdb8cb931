"""Long polling that confirms an update to Telegram only once it is written down.

Telegram forgets every update before the ``offset`` of a ``getUpdates`` call. PTB's own
``Updater`` moves that offset past a batch as soon as it has queued the batch in memory, so a
crash before the handlers committed lost the updates for good. This loop writes each batch to
the inbox first (:meth:`bot.telegram.intake.Intake.accept`: one statement, one commit) and only
then asks for the next batch with the new offset; a database that can't be written is waited
for, never skipped. Before its first ``getUpdates`` it queues what the inbox still holds
(:meth:`~bot.telegram.intake.Intake.resume`), waiting for the database the same way, so a
chat's older updates come first and a database down at start does not stop the start.

Why our own ``getUpdates`` call and not PTB's public ``Bot.get_updates``: that method turns the
whole batch into ``Update`` objects or raises, so one update PTB cannot read would fail every
retry of its batch (PTB's ``Updater`` loops on it for ever), and the inbox needs each update's
JSON as Telegram sent it, not a re-serialisation of PTB's objects. The call is one POST with a
JSON body on an aiohttp session of its own (the Bot API's URL from PTB's public
``Bot.base_url``); answers are read as the Bot API documents them: ``ok``/``result``, or
``error_code``, ``description`` and ``parameters.retry_after``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import aiohttp

from bot.telegram.intake import Intake, update_id_of

logger = logging.getLogger(__name__)

#: Extra seconds past the long-poll timeout before a ``getUpdates`` call counts as hung.
READ_SLACK: Final = 10.0
#: Seconds before a connection attempt counts as failed.
CONNECT_TIMEOUT: Final = 5.0
#: Back-off after a failed call: the first wait, the factor, the longest wait (as PTB's).
FIRST_DELAY: Final = 1.0
GROWTH: Final = 1.5
LONGEST_DELAY: Final = 30.0
#: The inbox's back-off when it can't be read or written: the first wait, doubling up to this.
FIRST_WRITE_DELAY: Final = 0.5
LONGEST_WRITE_DELAY: Final = 10.0
#: Added to Telegram's ``retry_after`` before polling again after flood control.
FLOOD_MARGIN: Final = 0.5


class _Failed(Exception):
    """A ``getUpdates`` call that did not work; tried again after a pause."""


class _Refused(Exception):
    """Telegram refused the token (401/404): polling stops."""


class _Wait(Exception):
    """Flood control: try again after ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class Poller:
    """The ``getUpdates`` loop of one bot (see the module docstring).

    Args:
        api_url: The bot's Bot API base, ``…/bot<token>`` (PTB's ``Bot.base_url``).
        intake: Writes each batch down and queues it for the handlers.
        timeout: Long-polling timeout in seconds.
        interval: Pause after each successful call (0: none).
        allowed_updates: The update types asked for.
        refused: Said in the log when Telegram refuses the token (never the token).
        sleep: Every wait of the loop (back-off, flood control, the inbox's retries, the
            interval); the front end's timer, which tests move by hand.
    """

    def __init__(
        self,
        api_url: str,
        intake: Intake,
        *,
        timeout: int,
        interval: float,
        allowed_updates: Sequence[str],
        refused: str,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._url = f"{api_url}/getUpdates"
        self.intake = intake
        self.timeout = timeout
        self.interval = interval
        self.allowed_updates = list(allowed_updates)
        self.refused = refused
        self._sleep = sleep
        #: The next ``offset``: one past the newest update written down.
        self.offset: int | None = None
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._writing: asyncio.Task[None] | None = None
        #: True while ``getUpdates`` keeps failing (the loop backs off): ``/readyz`` says so.
        self.failing = False

    @property
    def running(self) -> bool:
        """True while the loop runs."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Open the HTTP session and start the loop in the background."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=1), raise_for_status=False
            )
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="telegram:polling")

    async def stop(self) -> None:
        """Stop the loop; a batch being written down is finished first and then confirmed."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        writing, self._writing = self._writing, None
        if writing is not None:
            with contextlib.suppress(Exception):
                await writing
        if self._session is not None:
            # Confirm what is written down, so it is not sent again after a restart (it is
            # handled from the inbox either way); limit 1 and no waiting: only the offset counts.
            if self.offset is not None:
                with contextlib.suppress(_Failed, _Refused, _Wait):
                    await self._get_updates(wait=0, limit=1)
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        await self._take_leftovers()
        delay, failing = FIRST_DELAY, False
        while True:
            try:
                raws = await self._get_updates(wait=self.timeout)
            except _Refused:
                logger.error("%s Polling stopped.", self.refused)
                return
            except _Wait as wait:
                logger.warning("telegram asked to wait %s s before polling again", wait.seconds)
                await self._sleep(wait.seconds + FLOOD_MARGIN)
                continue
            except _Failed as exc:
                (logger.debug if failing else logger.warning)(
                    "telegram: getUpdates failed (%s); trying again in %.1f s", exc, delay
                )
                failing = True
                self.failing = True
                await self._sleep(delay)
                delay = min(LONGEST_DELAY, delay * GROWTH)
                continue
            if failing:
                logger.info("telegram: polling works again")
            delay, failing = FIRST_DELAY, False
            self.failing = False
            if raws:
                await self._write_down(raws)
            if self.interval:
                await self._sleep(self.interval)

    async def _take_leftovers(self) -> None:
        """Queue what the inbox holds (the polling worker takes it all), before any poll."""
        delay, failing = FIRST_WRITE_DELAY, False
        while True:
            try:
                await self.intake.resume(everything=True)
            except Exception as exc:
                (logger.debug if failing else logger.error)(
                    "telegram: the inbox could not be read (%s); polling waits for it",
                    type(exc).__name__,
                )
                failing = True
                await self._sleep(delay)
                delay = min(LONGEST_WRITE_DELAY, delay * 2)
                continue
            if failing:
                logger.info("telegram: the inbox is read; polling starts")
            return

    async def _write_down(self, raws: list[Any]) -> None:
        """Write the batch down (again and again until the database takes it), then move the
        offset past it. The write runs as a task of its own that a stop waits for: a stop in
        the middle neither cuts the transaction off nor loses the batch."""
        ids = [i for i in map(update_id_of, raws) if i is not None]
        delay, failing = FIRST_WRITE_DELAY, False
        while True:
            self._writing = asyncio.create_task(self.intake.accept(raws))
            try:
                await asyncio.shield(self._writing)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                (logger.debug if failing else logger.error)(
                    "telegram: a batch of %d updates could not be written down (%s); not "
                    "confirmed, trying again",
                    len(raws),
                    type(exc).__name__,
                )
                failing = True
                await self._sleep(delay)
                delay = min(LONGEST_WRITE_DELAY, delay * 2)
            finally:
                if self._writing is not None and self._writing.done():
                    self._writing = None
        if failing:
            logger.info("telegram: the batch is written down; polling on")
        if ids:
            self.offset = max(ids) + 1

    async def _get_updates(self, *, wait: int, limit: int = 100) -> list[Any]:
        """One ``getUpdates`` call with the current offset, long-polling up to ``wait`` s."""
        session = self._session
        if session is None:  # pragma: no cover - start() opens it first
            raise _Failed("not started")
        body: dict[str, Any] = {
            "timeout": wait,
            "limit": limit,
            "allowed_updates": self.allowed_updates,
        }
        if self.offset is not None:
            body["offset"] = self.offset
        waiting = aiohttp.ClientTimeout(
            total=wait + READ_SLACK + CONNECT_TIMEOUT, sock_connect=CONNECT_TIMEOUT
        )
        try:
            async with session.post(self._url, json=body, timeout=waiting) as response:
                status, payload = response.status, await response.read()
        except TimeoutError:
            raise _Failed("timed out") from None
        except aiohttp.ClientError as exc:  # the URL holds the token: say only what failed
            raise _Failed(type(exc).__name__) from None
        try:
            answer = json.loads(payload)
        except ValueError:
            raise _Failed(f"HTTP {status}, not JSON") from None
        if not isinstance(answer, dict):
            raise _Failed(f"HTTP {status}, not a Bot API answer")
        result = answer.get("result")
        if status == 200 and answer.get("ok") is True and isinstance(result, list):
            return result
        parameters = answer.get("parameters")
        retry_after = parameters.get("retry_after") if isinstance(parameters, dict) else None
        if isinstance(retry_after, int | float) and retry_after > 0:
            raise _Wait(float(retry_after))
        if status in {401, 404}:
            raise _Refused
        description = str(answer.get("description") or "")[:200]
        raise _Failed(f"HTTP {status} {description}".strip())
