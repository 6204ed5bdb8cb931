"""Where a person's user id is written inside JSON columns: the one list of it.

Foreign keys tell the schema which *columns* point at a user, and :mod:`core.admin.privacy`
follows them without a list of its own. A value inside a JSON column carries no foreign key,
so the places where the code writes ``str(user_id)`` into JSON are listed here, once, next to
the schema: ``/export`` reports each of them and ``/forget`` rewrites each of them. A writer
that starts putting an id somewhere new adds a :class:`UserRef` here. The "nothing left" test
(``tests/integration/test_privacy.py``) walks every key and value of every JSON column of every
table after
``/forget``, so a place missing from this list is a failing test, not a silent leak.

Only a *band's* rows mention other people: a solo profile's rows name their owner alone, and
are deleted with them. So every reference here is looked up among band profiles' rows
(``in_bands``), through the ``profile_id`` indexes, instead of scanning whole tables.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Final, Literal

from sqlalchemy import ColumnElement, Table

from core.db.tables import events, progress, states

#: What ``/forget`` writes where their id was: the pseudonym of that forget (the credit stays,
#: naming nobody), or ``None`` where a reader turns the value back into a user id.
Forget = Literal["pseudonym", "null"]
#: A path pattern: the keys from the top of the column's value; ``*`` is every key of a mapping.
Pattern = tuple[str, ...]
ANY: Final = "*"


@dataclass(frozen=True, slots=True)
class UserRef:
    """One place inside a JSON column where ``str(user_id)`` is written."""

    table: Table
    column: str
    path: Pattern
    forget: Forget
    #: Who writes it (for the reader of this list).
    writer: str
    #: Only rows of band profiles can hold someone else's id (their ``profile_id``).
    in_bands: bool = True
    #: The only rows that can hold it, when a cheap column says so (an event's ``type``):
    #: ``/export`` and ``/forget`` then cast and search only those rows' JSON (issue #18).
    rows: ColumnElement[bool] | None = None


#: In lock order: /forget rewrites (and first locks) them in this order, and a band's turn
#: locks its conversation state before it writes progress, so the state comes first — the two
#: then queue up instead of deadlocking.
USER_REFS: Final[tuple[UserRef, ...]] = (
    UserRef(
        states,
        "undo",
        ("row", "task_data", "ticked_by", ANY),
        "pseudonym",
        "core/journey/history.py: the undo snapshot keeps the row as it was",
    ),
    UserRef(
        states,
        "undo",
        ("row", "completed_by"),
        "null",
        "core/journey/history.py: /undo turns it back into completed_by (a user id)",
    ),
    UserRef(
        progress,
        "task_data",
        ("ticked_by", ANY),
        "pseudonym",
        "core/journey/checklist.py: who ticked each item of a band's checklist",
    ),
    UserRef(
        events,
        "payload",
        ("assignee",),
        "pseudonym",
        "core/bands/flows.py: task.assigned names the member it was assigned to",
        rows=events.c.type == "task.assigned",
    ),
)


def find(value: Any, pattern: Pattern, needle: str) -> list[tuple[str, ...]]:
    """The concrete paths matching ``pattern`` in ``value`` whose value is ``needle``."""

    def walk(node: Any, rest: Pattern, at: tuple[str, ...]) -> list[tuple[str, ...]]:
        if not rest:
            return [at] if node == needle else []
        if not isinstance(node, dict):
            return []
        key, tail = rest[0], rest[1:]
        keys = list(node) if key == ANY else [key] if key in node else []
        return [hit for k in keys for hit in walk(node[k], tail, (*at, str(k)))]

    return walk(value, pattern, ())


def replaced(value: Any, path: tuple[str, ...], new: Any) -> Any:
    """A copy of ``value`` with the value at ``path`` (a path :func:`find` gave) set to ``new``."""
    out = copy.deepcopy(value)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new
    return out
