"""What a process runs to serve one platform: a :class:`FrontEnd` starts, stops and carries notices.

``coach run`` serves every platform whose token is set. Each front end is built the same way
from the settings and brought up by one loop (``bot/lifecycle.py``): started in order, stopped
in reverse, one unreachable at start tried again in the background while the others serve. The
loop needs only this contract, so it never names a platform, and neither does the core.

The contract of the lifecycle, which the loop relies on:

* :meth:`FrontEnd.start` returns once the platform's updates are being received (polling,
  a webhook listening, a gateway READY). It raises
  :class:`~core.errors.PlatformUnreachable` when the platform can't be reached now — after
  cleaning up, so the *same* object may be started again later — and
  :class:`~core.errors.ConfigurationError` when the platform refuses the token (a setting to
  fix, not an outage to wait out; the message never quotes the token).
* :meth:`FrontEnd.stop` is final and safe in any state: after a start that failed, or never
  began, it closes what was opened; after a good start it lets what is in flight finish (a
  few seconds at most) and disconnects.
* :meth:`~core.kernel.notify.Notifier.notify` carries reminders and broadcasts; the process's
  job runner gets the front ends keyed by :attr:`~core.kernel.notify.Notifier.platform`
  (``by_platform``). Before a good start, a notice fails and is retried by its sender.

The name of a front end is its platform (``"telegram"``, ``"discord"``): one front end per
platform and process (``by_platform`` refuses two), and the name the logs use.
"""

from __future__ import annotations

from typing import Protocol

from core.kernel.notify import Notifier


class FrontEnd(Notifier, Protocol):
    """A platform's front end as ``coach run`` runs it (see the module docstring)."""

    async def start(self) -> None:
        """Begin receiving the platform's updates.

        Raises:
            PlatformUnreachable: Not reachable now; cleaned up, so ``start()`` may be tried
                again later.
            ConfigurationError: The platform refused the token.
        """
        ...

    async def stop(self) -> None:
        """Stop for good: finish what is in flight, disconnect (safe after a failed start)."""
        ...
