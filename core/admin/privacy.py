"""A musician's own data: ``/export`` (all of it, as JSON), ``/forget`` (all of it, gone).

Which rows are "about" a musician is worked out from the schema, not from a hand-kept list, so
a table added later (a colleague's reminders, bands) is exported and forgotten without anyone
remembering to add it here. Walking ``Base.metadata.sorted_tables`` (parents before children):

* the ``users`` row is theirs;
* a row that points at one of *their* rows through a foreign key with ``ON DELETE CASCADE``
  is theirs too (identities, their profile, its progress, samples, state, events, reminders,
  deliveries, band memberships, …) — ownership flows down cascading keys;
* a row that points at them through a ``SET NULL`` key (a band's task they completed, an audit
  row they caused, a broadcast they wrote) *mentions* them: it is exported, and forgetting
  clears the pointer (the database does it when the user row goes) but keeps the row, which
  belongs to someone else;
* audit rows naming one of their identities (``telegram:123``) as actor or target mention them.

Forgetting deletes every row they own and rewrites the audit rows that mention them to a random
pseudonym (``forgotten:3f9a…``): the log keeps *that* something happened and when, not to whom.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from core.admin.access import label
from core.db import tables
from core.db.base import Base

_users = tables.users
_identities = tables.identities
_profiles = tables.profiles
_audit = tables.audit_log
_broadcasts = tables.broadcasts


@dataclass
class Footprint:
    """Every row about one musician: the rows they own, and rows elsewhere that mention them."""

    user_id: uuid.UUID
    labels: tuple[str, ...]
    names: tuple[str, ...]
    owned: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    mentioned: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def count(self) -> int:
        """How many rows in all."""
        return sum(len(r) for r in self.owned.values()) + sum(
            len(r) for r in self.mentioned.values()
        )


def _pk(table: Table) -> str | None:
    columns = list(table.primary_key.columns)
    return columns[0].name if len(columns) == 1 else None


async def footprint(session: AsyncSession, user_id: uuid.UUID) -> Footprint:
    """Find every row about ``user_id`` (see the module docstring for the rules)."""
    handles = (
        await session.execute(
            select(_identities.c.platform, _identities.c.external_id).where(
                _identities.c.user_id == user_id
            )
        )
    ).all()
    labels = tuple(label(h.platform, h.external_id) for h in handles)
    names_row = (
        await session.execute(
            select(_users.c.display_name, _profiles.c.artist_name)
            .outerjoin(_profiles, _profiles.c.user_id == _users.c.id)
            .where(_users.c.id == user_id)
        )
    ).first()
    names = tuple(n for n in (names_row or ()) if n)
    found = Footprint(user_id, labels, names)
    owned_keys: dict[str, set[Any]] = {"users": {user_id}}
    for table in Base.metadata.sorted_tables:
        owning: list[ColumnElement[bool]] = []
        mentioning: list[ColumnElement[bool]] = []
        if table is _users:
            owning.append(_users.c.id == user_id)
        for fk in table.foreign_keys:
            keys = owned_keys.get(fk.column.table.name)
            if not keys:
                continue
            condition = fk.parent.in_(sorted(keys, key=str))
            (owning if (fk.ondelete or "").upper() == "CASCADE" else mentioning).append(condition)
        if table is _audit and labels:
            mentioning += [_audit.c.actor.in_(labels), _audit.c.target.in_(labels)]
        if table is _audit:
            mentioning.append(_audit.c.target == str(user_id))
        if not owning and not mentioning:
            continue
        pk = _pk(table)
        if owning:
            rows = [
                dict(r._mapping) for r in await session.execute(select(table).where(or_(*owning)))
            ]
            if rows:
                found.owned[table.name] = rows
                if pk is not None:
                    owned_keys[table.name] = {r[pk] for r in rows}
        if mentioning:
            seen = {r[pk] for r in found.owned.get(table.name, [])} if pk else set()
            rows = [
                dict(r._mapping)
                for r in await session.execute(select(table).where(or_(*mentioning)))
            ]
            rows = [r for r in rows if pk is None or r[pk] not in seen]
            if rows:
                found.mentioned[table.name] = rows
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def export_json(found: Footprint, now: datetime) -> bytes:
    """The export file: every row, grouped by table, as pretty UTF-8 JSON."""
    document = {
        "what": "Everything Stardom Coach stores about you",
        "exported_at": now.isoformat(),
        "user_id": str(found.user_id),
        "identities": list(found.labels),
        "your_rows": {name: _jsonable(rows) for name, rows in found.owned.items()},
        "rows_that_mention_you": {name: _jsonable(rows) for name, rows in found.mentioned.items()},
    }
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False).encode()


def _scrub(value: Any, needles: Iterable[str], pseudonym: str) -> Any:
    if isinstance(value, str):
        for needle in needles:
            if needle:
                value = re.sub(re.escape(needle), pseudonym, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, dict):
        return {k: _scrub(v, needles, pseudonym) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, needles, pseudonym) for v in value]
    return value


def new_pseudonym() -> str:
    """A random name for a forgotten person (not derived from anything about them)."""
    return f"forgotten:{secrets.token_hex(6)}"


async def forget(session: AsyncSession, found: Footprint, pseudonym: str) -> int:
    """Delete every row ``found`` owns; pseudonymise the audit rows that mention them.

    Returns how many rows were deleted. Runs in the caller's transaction: all or nothing.
    """
    needles = sorted({*found.labels, str(found.user_id), *found.names}, key=len, reverse=True)
    for row in found.mentioned.get(_audit.name, []):
        await session.execute(
            update(_audit)
            .where(_audit.c.id == row["id"])
            .values(
                actor=_scrub(row["actor"], needles, pseudonym),
                target=_scrub(row["target"], needles, pseudonym),
                details=_scrub(row["details"], needles, pseudonym),
                actor_user_id=None,
            )
        )
    # A broadcast they wrote stays (others received it); where its reports went does not.
    await session.execute(
        update(_broadcasts)
        .where(_broadcasts.c.created_by == found.user_id)
        .values(report_platform=None, report_chat=None)
    )
    deleted = 0
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    for name in reversed([t.name for t in Base.metadata.sorted_tables]):
        rows = found.owned.get(name)
        table = tables[name]
        pk = _pk(table)
        if not rows:
            continue
        if pk is not None:
            result = await session.execute(
                delete(table).where(table.c[pk].in_([r[pk] for r in rows]))
            )
        else:  # composite keys (band_members): match every key column of each row
            result = None
            for r in rows:
                result = await session.execute(
                    delete(table).where(*(c == r[c.name] for c in table.primary_key.columns))
                )
                deleted += int(getattr(result, "rowcount", 0) or 0)
            continue
        deleted += int(getattr(result, "rowcount", 0) or 0)
    return deleted
