"""The audit log: one row per security-relevant event, written in its own short transaction.

Rows record who (``actor``, and the user when known), did what (``action``), to what
(``target``) and how it ended (``outcome``, e.g. ``ok`` or ``denied``), with a small JSON
``details`` object. Every row is also logged at INFO under ``coach.audit``.

Secrets never belong here: callers describe a failure (``{"reason": "wrong"}``), never the value
that was presented. As a second line of defence, values under keys that name a secret (token,
secret, password, …) are replaced by ``[redacted]`` before they are stored or logged.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

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


async def record(
    db: Database,
    *,
    actor: str,
    action: str,
    outcome: str,
    target: str | None = None,
    actor_user_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Write one audit row in its own transaction and log it at INFO under ``coach.audit``.

    Strings are cut to the column sizes rather than failing: losing the tail of an actor name
    is better than losing the event. Database errors propagate; callers on a request path
    decide whether to answer anyway.

    Args:
        db: The database.
        actor: Who acted, e.g. ``"telegram:1001"`` or ``"telegram-webhook:203.0.113.7"``.
        action: What was attempted, dotted, e.g. ``"webhook.secret_mismatch"``.
        outcome: How it ended, e.g. ``"ok"``, ``"denied"``, ``"failed"``.
        target: What it was done to, if anything.
        actor_user_id: The acting user, when known.
        details: A small JSON object of facts. Never a secret or a presented credential.
    """
    row = AuditLog(
        actor=_cut(actor, MAX_ACTOR),
        action=_cut(action, MAX_ACTION),
        target=_cut(target, MAX_TARGET) if target is not None else None,
        outcome=_cut(outcome, MAX_OUTCOME),
        actor_user_id=actor_user_id,
        details=_clean(details or {}),
    )
    async with db.transaction() as session:
        session.add(row)
    logger.info(
        "audit %s %s by %s%s: %s",
        row.action,
        row.outcome,
        row.actor,
        f" on {row.target}" if row.target else "",
        row.details,
    )


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
