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
* audit rows naming one of their identities (``telegram:123``) as actor or target, their user
  id as a ``user:<id>`` target, or their id in the details of an action that writes one there
  (``{"new_user": …}`` of an unlink: ``core.db.models.USER_IDS_IN_DETAILS``), mention them —
  each found by an index;
* broadcasts they wrote that never went out (``draft``, ``expired``, ``cancelled``) are theirs
  alone: nobody received them;
* their user id *inside JSON values* of other rows (a band checklist's ``ticked_by``, an undo
  snapshot, an assignment event): where those live is schema knowledge kept in one list,
  :data:`core.db.json_refs.USER_REFS`; each value is exported with its place.

A table marked ``info={"derived": True}`` holds only what is computed from their other rows
(``stats_charts``: the ``/stats`` picture drawn from their samples): it is theirs like any
other — forgetting deletes it — but the export leaves its rows out (it names the table under
``derived_left_out``): the numbers it was drawn from are in the export already.

Forgetting deletes every row they own and rewrites the audit rows that mention them to a random
pseudonym (``forgotten:3f9a…``): the log keeps *that* something happened and when, not to whom.
Their id inside others' JSON becomes the same pseudonym (a band keeps the tick, credited to
nobody), or ``null`` where a reader would turn it back into a user id.
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

from sqlalchemy import Table, Text, and_, cast, delete, false, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from core.admin.access import label
from core.db import json_refs, tables
from core.db.base import Base
from core.db.models import USER_IDS_IN_DETAILS

_users = tables.users
_identities = tables.identities
_profiles = tables.profiles
_audit = tables.audit_log
_broadcasts = tables.broadcasts
#: Broadcast states in which nobody received it: the draft belongs to its author alone.
UNSENT: tuple[str, ...] = ("draft", "expired", "cancelled")
#: The tables whose rows a person owns by a rule of their own rather than through a cascading key
#: (see :func:`footprint`): deleting their owned rows deletes everything else they own.
_ROOTS = (_broadcasts, _users)
#: The computed column that tells a row they own from one that mentions them.
_OWNED = "_owned_by_them"
#: Band profiles: the only rows that can hold someone else's id in JSON (json_refs).
_BAND_PROFILES = select(_profiles.c.id).where(_profiles.c.band_id.is_not(None))


@dataclass(frozen=True)
class JsonMention:
    """Their user id inside a JSON value of someone else's row: where, and what forget writes."""

    table: str
    key: dict[str, Any]
    column: str
    path: tuple[str, ...]
    value: str
    forget: json_refs.Forget

    def as_dict(self) -> dict[str, Any]:
        """How the export shows it."""
        return {
            "table": self.table,
            "row": self.key,
            "column": self.column,
            "path": list(self.path),
            "value": self.value,
        }


@dataclass
class _JsonRow:
    """A row whose JSON column holds their id somewhere, with the places."""

    table: Table
    key: dict[str, Any]
    column: str
    value: Any
    mentions: list[JsonMention]


@dataclass
class Footprint:
    """Every row about one musician: the rows they own, and rows elsewhere that mention them."""

    user_id: uuid.UUID
    labels: tuple[str, ...]
    names: tuple[str, ...]
    owned: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    mentioned: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    in_json: list[JsonMention] = field(default_factory=list)

    def count(self) -> int:
        """How many records in all (a value inside someone else's row counts as one)."""
        return (
            sum(len(r) for r in self.owned.values())
            + sum(len(r) for r in self.mentioned.values())
            + len(self.in_json)
        )

    def owned_keys(self, table: Table) -> set[tuple[Any, ...]]:
        """The primary keys of the rows of ``table`` they own."""
        columns = [c.name for c in table.primary_key.columns]
        return {tuple(r[c] for c in columns) for r in self.owned.get(table.name, [])}


def _pk(table: Table) -> str | None:
    columns = list(table.primary_key.columns)
    return columns[0].name if len(columns) == 1 else None


async def footprint(session: AsyncSession, user_id: uuid.UUID) -> Footprint:
    """Find every row about ``user_id`` (see the module docstring for the rules)."""
    if session.bind.dialect.name == "postgresql":
        # Every statement here is a handful of index lookups. Over the band profiles
        # PostgreSQL would plan a parallel scan, and starting its workers took ~20 ms of a
        # 30 ms statement at 100 000 musicians (issue #18): not for this transaction.
        await session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
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
        if table is _broadcasts:  # never sent: nobody else has it
            owning.append(
                and_(_broadcasts.c.created_by == user_id, _broadcasts.c.status.in_(UNSENT))
            )
        for fk in table.foreign_keys:
            keys = owned_keys.get(fk.column.table.name)
            if not keys:
                continue
            condition = fk.parent.in_(sorted(keys, key=str))
            (owning if (fk.ondelete or "").upper() == "CASCADE" else mentioning).append(condition)
        if table is _audit:
            mentioning += _audit_mentions(user_id, labels)
        if not owning and not mentioning:
            continue
        pk = _pk(table)
        # One statement a table: the rows they own and the rows that mention them, told apart
        # by a computed column (a round trip per table is most of the cost of /export).
        owns = or_(*owning) if owning else false()
        stmt = select(table, owns.label(_OWNED)).where(or_(*owning, *mentioning))
        owned_rows: list[dict[str, Any]] = []
        mentioned_rows: list[dict[str, Any]] = []
        for r in await session.execute(stmt):
            row = dict(r._mapping)
            (owned_rows if row.pop(_OWNED) else mentioned_rows).append(row)
        if owned_rows:
            found.owned[table.name] = owned_rows
            if pk is not None:
                owned_keys[table.name] = {r[pk] for r in owned_rows}
        if mentioned_rows:
            found.mentioned[table.name] = mentioned_rows
    for json_row in await _json_rows(session, found, lock=False):
        found.in_json += json_row.mentions
    return found


def _audit_mentions(user_id: uuid.UUID, labels: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """Audit rows naming them (besides ``actor_user_id``, a foreign key the walk finds): a
    handle of theirs as actor or target, ``user:<id>`` as target, their id in the details of the
    actions that write one there (:data:`~core.db.models.USER_IDS_IN_DETAILS`).

    Each condition is an index's (``ix_audit_log_actor``, ``ix_audit_log_target``, the partial
    ``ix_audit_log_user_details``): the log only grows, and a ``LIKE '%<id>%'`` over all of it
    was the slowest part of ``/export`` and ``/forget`` (issue #18).
    """
    found: list[ColumnElement[bool]] = [_audit.c.target.in_([*labels, f"user:{user_id}"])]
    if labels:
        found.append(_audit.c.actor.in_(labels))
    found.append(
        and_(text(USER_IDS_IN_DETAILS), cast(_audit.c.details, Text).contains(str(user_id)))
    )
    return found


async def _json_rows(session: AsyncSession, found: Footprint, *, lock: bool) -> list[_JsonRow]:
    """Rows of others whose JSON holds their id at a place :data:`json_refs.USER_REFS` lists.

    A text match on the JSON narrows the rows (band profiles' rows only, see json_refs); the
    walk of each value then keeps only the listed places where the value *is* their id.
    ``lock``: ``FOR UPDATE`` (PostgreSQL), for :func:`forget`, which rewrites them.
    """
    needle = str(found.user_id)
    by_column: dict[tuple[str, str], list[json_refs.UserRef]] = {}
    for ref in json_refs.USER_REFS:
        by_column.setdefault((ref.table.name, ref.column), []).append(ref)
    result: list[_JsonRow] = []
    for refs in by_column.values():
        table, column = refs[0].table, refs[0].column
        keys = list(table.primary_key.columns)
        stmt = select(*keys, table.c[column]).where(cast(table.c[column], Text).contains(needle))
        if all(ref.in_bands for ref in refs):
            stmt = stmt.where(table.c.profile_id.in_(_BAND_PROFILES))
        if lock:
            stmt = stmt.with_for_update()
        owned = found.owned_keys(table)
        for row in await session.execute(stmt):
            values = row._mapping
            key = {c.name: values[c.name] for c in keys}
            if tuple(key.values()) in owned:
                continue  # deleted with them
            value = values[column]
            mentions = [
                JsonMention(table.name, key, column, path, needle, ref.forget)
                for ref in refs
                for path in json_refs.find(value, ref.path, needle)
            ]
            if mentions:
                result.append(_JsonRow(table, key, column, value, mentions))
    return result


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


def _derived(name: str) -> bool:
    table = Base.metadata.tables.get(name)
    return table is not None and bool(table.info.get("derived"))


def export_json(found: Footprint, now: datetime) -> bytes:
    """The export file: every row, grouped by table, as pretty UTF-8 JSON (the rows of
    derived tables left out, see the module docstring)."""
    document = {
        "what": "Everything Stardom Coach stores about you",
        "exported_at": now.isoformat(),
        "user_id": str(found.user_id),
        "identities": list(found.labels),
        "your_rows": {
            name: _jsonable(rows) for name, rows in found.owned.items() if not _derived(name)
        },
        "derived_left_out": sorted(name for name in found.owned if _derived(name)),
        "rows_that_mention_you": {name: _jsonable(rows) for name, rows in found.mentioned.items()},
        "values_that_mention_you": [_jsonable(m.as_dict()) for m in found.in_json],
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

    Returns how many rows were deleted (the owned rows found). Runs in the caller's
    transaction: all or nothing.
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
    # Their id inside others' JSON: the pseudonym, or null where it would be read as a user id.
    for json_row in await _json_rows(session, found, lock=True):
        value = json_row.value
        for mention in json_row.mentions:
            value = json_refs.replaced(
                value, mention.path, pseudonym if mention.forget == "pseudonym" else None
            )
        table = json_row.table
        await session.execute(
            update(table)
            .where(*(table.c[name] == v for name, v in json_row.key.items()))
            .values({json_row.column: value})
        )
    # A broadcast they wrote and sent stays (others received it); where its reports went does
    # not. One that never went out is theirs, and deleted below.
    await session.execute(
        update(_broadcasts)
        .where(_broadcasts.c.created_by == found.user_id)
        .values(report_platform=None, report_chat=None)
    )
    # The roots of what they own: their user row, and broadcasts they wrote that never went out.
    # Every other row they own was found *because* a cascading key leads to it from one of
    # these, so the database deletes it with them (ON DELETE CASCADE, SQLite's foreign keys
    # are on): one statement per root instead of one per table.
    for root in _ROOTS:
        rows = found.owned.get(root.name)
        if rows:
            await session.execute(delete(root).where(root.c.id.in_([r["id"] for r in rows])))
    return sum(len(rows) for rows in found.owned.values())
