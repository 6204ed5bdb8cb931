"""Bringing a process's front ends up together, and down in reverse (``coach run``).

One loop for every platform: ``coach run`` builds the front ends its settings name
(:class:`~core.kernel.frontend.FrontEnd`) and enters :func:`running` with the list. Each is
started in turn:

* it starts: it serves;
* its platform can't be reached (:class:`~core.errors.PlatformUnreachable`): it is tried
  again in the background after 1, 2, 5, 10, 30 s, then every minute (never waiting longer
  than ``longest``), while the others serve — an outage of one platform must not keep the
  others from serving, nor put the whole process in a supervisor's crash loop. Meanwhile its
  notices fail and are retried like any failed send;
* its platform refuses the token (:class:`~core.errors.ConfigurationError`): that is a setting
  to fix, so it is raised at once, and what was already started is stopped. A refusal found
  by a background attempt only gives that front end up (the others already serve): logged,
  never raised.

At exit every front end is stopped, the last started first; a background attempt still going
is cancelled before its front end's stop. Waiting between attempts goes through ``sleep``, so
tests record the waits instead of sitting them out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from core.errors import ConfigurationError, PlatformUnreachable
from core.kernel.frontend import FrontEnd

logger = logging.getLogger(__name__)

#: Seconds between attempts to start a front end whose platform can't be reached (the last
#: one repeats).
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

#: Waits this many seconds (``asyncio.sleep`` in production).
Sleep = Callable[[float], Awaitable[None]]


@contextlib.asynccontextmanager
async def running(
    fronts: Sequence[FrontEnd],
    *,
    longest: float = RETRY_DELAYS[-1],
    sleep: Sleep = asyncio.sleep,
) -> AsyncIterator[None]:
    """Start ``fronts`` in order (see the module docstring), serve while inside, stop them in
    reverse order on the way out.

    Raises:
        ConfigurationError: A platform refused its token at the first attempt (the front ends
            started before it are stopped again).
    """
    async with contextlib.AsyncExitStack() as stack:
        for front in fronts:
            # pushed before the start: a start that fails half-way is cleaned up too
            stack.push_async_callback(front.stop)
            try:
                await front.start()
                continue
            except PlatformUnreachable as exc:
                logger.warning(
                    "%s: %s; trying again in the background, the rest keeps running",
                    front.platform,
                    exc,
                )
            retrying = asyncio.create_task(
                keep_starting(front, longest=longest, sleep=sleep),
                name=f"{front.platform}:starting",
            )
            stack.push_async_callback(_cancel, retrying)  # runs before ``front.stop``
        yield


async def keep_starting(
    front: FrontEnd, *, longest: float = RETRY_DELAYS[-1], sleep: Sleep = asyncio.sleep
) -> None:
    """Try ``front.start()`` again after 1, 2, 5, 10, 30 s, then every minute (no wait longer
    than ``longest``), until it works or the platform refuses for good."""
    name = front.platform
    for attempt in itertools.count():
        await sleep(min(RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)], longest))
        try:
            await front.start()
        except PlatformUnreachable as exc:
            logger.info("%s: %s; trying again", name, exc)
            continue
        except ConfigurationError as exc:  # e.g. the token refused once the platform answered
            logger.error("%s: %s The other front ends keep running.", name, exc)
        except Exception:
            logger.exception("%s: could not start; the other front ends keep running", name)
        return


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
