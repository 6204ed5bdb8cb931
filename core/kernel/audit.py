"""The audit log: one row per security-relevant event, written in its own short transaction.

Rows record who (``actor``, and the user when known), did what (``action``), to what
(``target``) and how it ended (``outcome``, e.g. ``ok`` or ``denied``), with a small JSON
``details`` object. Every row is also logged at INFO under ``coach.audit``.

Secrets never belong here: callers describe a failure (``{"reason": "wrong"}``), never the value
that was presented. As a second line of defence, values under keys that name a secret (token,
secret, password, …) are replaced by ``[redacted]`` before they are stored or logged.

Repeated denials are capped (:class:`DenialThrottle`): the same actor refused the same action
is written at most once per minute per process; the repeats in between are counted and the
count goes into the next row written for them (``details["suppressed"]``). A person hammering a
button they may not press is one fact, not thousands of rows. The cap lives here, in
:func:`record`, so every denial site gets it without a special case of its own.

Action names come from a closed vocabulary (:data:`AuditAction`), checked by :func:`record`:
never from what a person typed. The cap keys on (actor, action), so an action built from user
text (``admin.<whatever they typed>``) would give every new word a fresh key — 40 made-up
subcommands were 40 rows. What the person typed goes into ``details``, cut to size.
"""

from __future__ import annotations

import logging
import math
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal, get_args

from sqlalchemy import select

from core.db.engine import Database
from core.db.models import AuditLog

logger = logging.getLogger("coach.audit")

#: The column sizes of ``audit_log`` (see :class:`core.db.models.AuditLog`).
MAX_ACTOR: Final = 120
MAX_ACTION: Final = 60
MAX_TARGET: Final = 120
MAX_OUTCOME: Final = 16
#: Strings inside ``details`` are cut to this length; the log is for facts, not payloads.
MAX_DETAIL: Final = 500
#: Nesting deeper than this in ``details`` is cut off.
MAX_DEPTH: Final = 4
REDACTED: Final = "[redacted]"
#: The outcome that :class:`DenialThrottle` caps.
DENIED: Final = "denied"
#: Seconds in which a repeated denial (same actor, same action) is written only once.
DENIAL_WINDOW: Final = 60.0
#: The ``details`` key carrying how many repeats were counted instead of written.
SUPPRESSED: Final = "suppressed"

#: Every action the audit log knows. A new kind of event adds its name here (mypy then checks
#: every call site; :func:`record` refuses anything else at run time).
AuditAction = Literal[
    # /admin (core/admin/desk.py); denials of each subcommand by core/admin/access.py
    "admin.help",
    "admin.stats",
    "admin.broadcast",
    "admin.broadcasts",
    "admin.broadcast_drop",
    "admin.roadmaps",
    "admin.roadmaps_reload",
    "admin.user",
    "admin.reset",
    "admin.audit",
    "admin.grant",
    "admin.revoke",
    "admin.unknown",  # a subcommand that does not exist (what was typed is in details)
    "role.grant",
    "role.revoke",
    # /export and /forget
    "privacy.export",
    "privacy.forget",
    # bands (core/bands/guild.py, core/bands/reminders.py)
    "band.access",
    "band.create",
    "band.join",
    "band.rename",
    "band.remove",
    "band.role",
    "band.channel",
    "band.milestones",
    "band.reset",
    "band.reminder",
    "band.streak",  # a member (not a manager) tried to freeze or unfreeze the band's streak
    "band.digest",  # a member (not a manager) tried to switch or move the band's weekly digest
    "band.invite",  # /band invite: issued, revoked, or refused (not a manager, the day's limit)
    "band.country",  # a member (not a manager) tried to set or change the band's country
    # /link and /unlink (core/accounts/linking.py)
    "account.link",
    "account.unlink",
    # someone else's nudge button (core/reminders/service.py)
    "reminder.foreign_button",
    # a Telegram webhook request without the right secret (bot/telegram/webhook.py)
    "webhook.secret_mismatch",
]
#: :data:`AuditAction` as a set, for the run-time check.
ACTIONS: Final[frozenset[str]] = frozenset(get_args(AuditAction))

_SECRET_KEY: Final = re.compile(
    r"secret|token|passw|api[_-]?key|authori[sz]ation|cookie|credential", re.IGNORECASE
)


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log, as read back."""

    id: uuid.UUID
    at: datetime
    actor: str
    action: str
    outcome: str
    target: str | None = None
    actor_user_id: uuid.UUID | None = None
    details: dict[str, Any] = field(default_factory=dict)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clean(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of ``value``: long strings cut, secret-named keys redacted."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # NaN and infinities are not JSON (PostgreSQL's jsonb refuses them)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return _cut(value, MAX_DETAIL)
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        return {
            _cut(str(k), MAX_DETAIL): REDACTED
            if _SECRET_KEY.search(str(k))
            else _clean(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v, depth + 1) for v in value]
    return _cut(str(value), MAX_DETAIL)


@dataclass(slots=True)
class _Window:
    opened: float
    suppressed: int = 0


class DenialThrottle:
    """At most one audit row per ``(actor, action)`` denial per ``window`` seconds.

    The first denial of a key is written and opens its window; repeats inside the window are
    only counted; the first repeat after the window is written again, carrying the count.
    In memory and per process, like the inbound rate limit (core/admin/ratelimit.py): with N
    processes a key gets at most N rows per window. The count of repeats after the last written
    row stays in memory until that person is refused the same thing again (or the process
    ends): the row that *is* written already says who was refused what, and when.
    At most ``max_keys`` keys are kept, the least recently refused forgotten first.
    """

    def __init__(
        self,
        window: float = DENIAL_WINDOW,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._windows: OrderedDict[tuple[str, AuditAction], _Window] = OrderedDict()

    def admit(self, actor: str, action: AuditAction) -> int | None:
        """Count one denial. ``None``: only counted, write nothing. A number: write the row;
        the number is how many repeats were counted since the last row of this key."""
        now, key = self.clock(), (actor, action)
        found = self._windows.get(key)
        if found is not None:
            self._windows.move_to_end(key)
            if now - found.opened < self.window:
                found.suppressed += 1
                if found.suppressed == 1:
                    logger.info(
                        "audit %s denied by %s again: repeats are counted, written at most "
                        "once per %.0f s",
                        action,
                        actor,
                        self.window,
                    )
                return None
        self._windows[key] = _Window(now)
        self._windows.move_to_end(key)
        if len(self._windows) > self.max_keys:
            self._windows.popitem(last=False)
        return found.suppressed if found is not None else 0

    def undo(self, actor: str, action: AuditAction, carried: int) -> None:
        """The admitted row could not be written: the next denial of the key is written, with
        this row's repeats (``carried``) plus the one that failed."""
        self._windows[(actor, action)] = _Window(-math.inf, carried + 1)

    def reset(self) -> None:
        """Forget every key (tests; a fresh process starts like this)."""
        self._windows.clear()


#: The process's throttle, used by :func:`record` and by denials written inside a transaction
#: (core/reminders/service.py).
DENIALS = DenialThrottle()


async def record(
    db: Database,
    *,
    actor: str,
    action: AuditAction,
    outcome: str,
    target: str | None = None,
    actor_user_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> bool:
    """Write one audit row in its own transaction and log it at INFO under ``coach.audit``.

    Strings are cut to the column sizes rather than failing: losing the tail of an actor name
    is better than losing the event. Database errors propagate; callers on a request path
    decide whether to answer anyway. A ``denied`` row goes through :data:`DENIALS` first: a
    repeat inside its window is only counted, and ``False`` is returned (nothing written).

    Args:
        db: The database.
        actor: Who acted, e.g. ``"telegram:1001"`` or ``"telegram-webhook:203.0.113.7"``.
        action: What was attempted, one of :data:`AuditAction`, e.g.
            ``"webhook.secret_mismatch"``; never built from what a person typed.
        outcome: How it ended, e.g. ``"ok"``, ``"denied"``, ``"failed"``.
        target: What it was done to, if anything.
        actor_user_id: The acting user, when known.
        details: A small JSON object of facts. Never a secret or a presented credential.

    Returns:
        True when the row was written.

    Raises:
        ValueError: ``action`` is not in the vocabulary (a bug at the call site, caught before
            anything is written or counted).
    """
    if action not in ACTIONS:
        raise ValueError(f"audit action {action[:MAX_ACTION]!r} is not in the vocabulary")
    actor = _cut(actor, MAX_ACTOR)
    facts = dict(details or {})
    carried: int | None = None
    if outcome == DENIED:
        carried = DENIALS.admit(actor, action)
        if carried is None:
            return False
        if carried:
            facts[SUPPRESSED] = carried
    row = AuditLog(
        actor=actor,
        action=action,
        target=_cut(target, MAX_TARGET) if target is not None else None,
        outcome=_cut(outcome, MAX_OUTCOME),
        actor_user_id=actor_user_id,
        details=_clean(facts),
    )
    try:
        async with db.transaction() as session:
            session.add(row)
    except BaseException:
        if carried is not None:
            DENIALS.undo(actor, action, carried)
        raise
    logger.info(
        "audit %s %s by %s%s: %s",
        row.action,
        row.outcome,
        row.actor,
        f" on {row.target}" if row.target else "",
        row.details,
    )
    return True


async def latest(db: Database, limit: int = 20) -> list[AuditEntry]:
    """The newest ``limit`` audit rows, newest first."""
    async with db.transaction() as session:
        rows = (
            await session.scalars(
                select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
            )
        ).all()
    return [
        AuditEntry(
            id=row.id,
            at=row.at,
            actor=row.actor,
            action=row.action,
            outcome=row.outcome,
            target=row.target,
            actor_user_id=row.actor_user_id,
            details=dict(row.details or {}),
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class AuditNote:
    """An audit row to write once the event's transaction is over (the audit log has its own
    transaction; on SQLite a second writer inside the first would wait for ever)."""

    actor: str
    action: AuditAction
    outcome: str
    target: str | None = None
    actor_user_id: Any = None
    details: dict[str, Any] = field(default_factory=dict)
