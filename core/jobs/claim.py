"""Claiming due rows for one worker: a lease, not a lock held while working.

Several features keep a queue in a table — reminders due to be nudged, a broadcast's pending
deliveries — that any number of worker processes drain together. Each of them claims the same
way, so the way is written once, here:

1. **one statement** — ``UPDATE t SET <lease> WHERE key IN (SELECT key FROM t WHERE
   <claimable> ORDER BY … LIMIT :limit [FOR UPDATE SKIP LOCKED]) RETURNING …``, committed at
   once by the caller. On PostgreSQL ``SKIP LOCKED`` makes a worker pass over the rows another
   worker is claiming at this very moment instead of waiting for them — and, more important,
   instead of claiming them too: a blocked ``UPDATE`` would re-check only its own ``WHERE``
   after the other commits, and the chosen ids still match. SQLite has one writer at a time
   (the process's write lock, :class:`core.db.engine.Database`), so there the plain statement
   is already exclusive.
2. **a lease** — the claim writes, into the row, that it belongs to this worker until
   ``:until`` (= ``now + lease``); the row's ``claimable`` condition must be false until then.
   Nothing stays locked while the worker sends: a worker killed mid-batch leaves rows whose
   lease simply runs out, and the next claim after ``:until`` hands them to someone else
   (at-least-once for what was in flight, nothing lost).
3. **time from the clock** — ``now`` is the caller's injected clock, never the database's or
   the wall clock, so tests move it and a lease expires when the test says.

What each feature states (:class:`Claim`): the table, which rows are claimable at ``:now``
(due, and under no live lease), their order, what marks a row as leased until ``:until``, and
the columns to hand back. Where the lease lives differs — the reminder tick has its own
``claimed_by`` / ``claimed_until`` columns, a broadcast row moves its ``due_at`` forward and is
``sending`` — and the statements built here are the same ones the features wrote by hand
before (the reminders' claim compiles to the identical SQL).

The rows come back in no particular order (``RETURNING`` follows the update, not the
subquery); the order decides *which* rows a batch takes, oldest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Select, Table, Update, bindparam, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement, TextClause

from core.db.executor import Executor

#: The parameters every claim binds itself (a feature's own may not use these names).
BOUND: Final = frozenset({"now", "until", "limit"})


class Claim:
    """How due rows of one table are claimed; build it once, at import (statements are cached
    by identity on the asyncpg path, see :func:`core.db.executor.compiled_for_asyncpg`).

    Args:
        table: The queue's table.
        claimable: Conditions of a row that may be claimed at ``:now``: due, and not under a
            live lease. They may use the feature's own bound parameters.
        order_by: Which claimable rows a batch takes first.
        lease: The column values that make a row this worker's until ``:until`` — they must
            mention ``:until`` and make ``claimable`` false until then.

    Constants are written as SQL literals (``literal_column("'sending'")``), not Python values:
    the asyncpg executor binds only the parameters the caller passes.
        returning: What the claim hands back per row.
        key: The column the outer ``UPDATE`` finds the chosen rows by.
    """

    def __init__(
        self,
        table: Table,
        *,
        claimable: Sequence[ColumnElement[bool] | TextClause],
        order_by: Sequence[ColumnElement[Any]],
        lease: Mapping[str, Any],
        returning: Sequence[ColumnElement[Any]],
        key: str = "id",
    ) -> None:
        self.table = table
        chosen = (
            select(table.c[key]).where(*claimable).order_by(*order_by).limit(bindparam("limit"))
        )

        def claim(due: Any) -> Update:
            return (
                update(table)
                .where(table.c[key].in_(due.scalar_subquery()))
                .values(**lease)
                .returning(*returning)
            )

        self._choose = {"postgresql": chosen.with_for_update(skip_locked=True), "sqlite": chosen}
        #: PostgreSQL: rows another worker is claiming right now are skipped, not waited for.
        self.postgresql: Final = claim(self._choose["postgresql"])
        #: SQLite: one writer at a time anyway (the process-wide write lock), so a plain claim.
        self.sqlite: Final = claim(self._choose["sqlite"])
        binds = self.postgresql.compile(dialect=postgresql.dialect()).binds  # type: ignore[no-untyped-call]
        constants = sorted(name for name, param in binds.items() if not param.required)
        if constants:  # the asyncpg executor binds only what the caller passes
            raise ValueError(
                f"a claim of {table.name} binds constants {constants}: write them as "
                "literal_column(...) so the claim runs on either executor"
            )
        names = set(binds)
        missing = BOUND - names
        if missing:  # a claim that writes no lease hands the same rows to every worker
            raise ValueError(f"a claim of {table.name} must use {sorted(missing)}")
        #: The feature's own parameters, which every call must bind.
        self.parameters: Final = frozenset(names - BOUND)

    def statement(self, dialect: str) -> Update:
        """The claim for this dialect (``postgresql`` or ``sqlite``)."""
        return self.postgresql if dialect == "postgresql" else self.sqlite

    def choosing(self, dialect: str) -> Select[Any]:
        """The claim's inner ``SELECT``: which rows it would take (the part that walks an
        index; tests look at its plan)."""
        return self._choose["postgresql" if dialect == "postgresql" else "sqlite"]


async def claim(
    ex: Executor,
    what: Claim,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    params: Mapping[str, Any] | None = None,
) -> Sequence[Sequence[Any]]:
    """Lease up to ``limit`` rows that are claimable at ``now`` until ``now + lease``.

    Runs inside the caller's unit of work: commit it at once, before the slow part (sending),
    so the lease — not a lock — is what keeps other workers off the rows.
    """
    own = dict(params or {})
    if own.keys() != what.parameters:
        raise ValueError(
            f"a claim of {what.table.name} takes {sorted(what.parameters)}, got {sorted(own)}"
        )
    bound = {**own, "now": now, "until": now + lease, "limit": limit}
    return await ex.rows(what.statement(ex.dialect), bound)
