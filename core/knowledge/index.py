"""The search index of the roadmap content: one row per live task, on either backend.

The table ``task_search`` (migration ``q1_search``) is derived data, rebuilt from the tasks
whenever the roadmaps sync (:func:`core.roadmaps.sync.sync_roadmaps`), so a new task or career
in the YAML is searchable after the next sync with nothing else to do:

* on PostgreSQL a ``tsvector`` per task — the title weighted ``A``, the explanation and the
  checklist (or the question and its help) ``B`` — with a GIN index, English stemming;
* on SQLite an FTS5 virtual table (``porter unicode61``: English stemming, accents folded),
  the title and the body as two columns that ``bm25`` weighs.

The table is not one of the models (``Base.metadata``): it is a different kind of table on
each backend, and Alembic's comparison leaves it out (``migrations/env.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import text

from core.db.executor import Executor

TABLE = "task_search"
#: The tables FTS5 keeps behind a virtual table (``task_search_data``, ``_idx``, …).
_FTS5_SHADOWS = frozenset({"data", "idx", "content", "docsize", "config"})


def is_index_table(name: str | None) -> bool:
    """Whether a table is the search index or one of its FTS5 shadow tables: not a model, so
    Alembic's comparison and the schema checks leave it out."""
    if name is None:
        return False
    if name == TABLE:
        return True
    head, _, tail = name.rpartition("_")
    return head == TABLE and tail in _FTS5_SHADOWS


@dataclass(frozen=True, slots=True)
class Document:
    """One task as the index sees it: who it is (slug, roadmap) and its words."""

    task_id: uuid.UUID
    roadmap_id: uuid.UUID
    slug: str
    title: str
    body: str


def body_of(description: str, parts: Iterable[str | None]) -> str:
    """A task's searchable body: its explanation, then its checklist items (or its question,
    help and choices), one per line."""
    return "\n".join([description, *(p for p in parts if p)])


_CLEAR = text("DELETE FROM task_search")
_PG_INSERT = text(
    "INSERT INTO task_search (task_id, roadmap_id, slug, document) VALUES "
    "(:task_id, :roadmap_id, :slug, "
    "setweight(to_tsvector('english', :title), 'A') || "
    "setweight(to_tsvector('english', :body), 'B'))"
)
_SQLITE_INSERT = text(
    "INSERT INTO task_search (slug, roadmap_id, title, body) "
    "VALUES (:slug, :roadmap_id, :title, :body)"
)
_COUNT = text("SELECT count(*) FROM task_search")


def roadmap_key(ex: Executor, roadmap_id: uuid.UUID | None) -> uuid.UUID | str | None:
    """How a roadmap id is stored in the index: a ``uuid`` on PostgreSQL, 32 hex digits in
    the FTS5 table (the way SQLAlchemy's ``Uuid`` stores ids on SQLite)."""
    if roadmap_id is None or ex.dialect == "postgresql":
        return roadmap_id
    return roadmap_id.hex


async def rebuild(ex: Executor, documents: Sequence[Document]) -> None:
    """Replace the whole index with ``documents`` (in the caller's transaction: a search in
    another transaction sees the old index or the new one, never half of it)."""
    await ex.run(_CLEAR, {})
    if ex.dialect == "postgresql":
        rows = [
            {
                "task_id": d.task_id,
                "roadmap_id": d.roadmap_id,
                "slug": d.slug,
                "title": d.title,
                "body": d.body,
            }
            for d in documents
        ]
        if rows:
            await ex.run_many(_PG_INSERT, rows)
        return
    rows = [
        {"slug": d.slug, "roadmap_id": d.roadmap_id.hex, "title": d.title, "body": d.body}
        for d in documents
    ]
    if rows:
        await ex.run_many(_SQLITE_INSERT, rows)


async def size(ex: Executor) -> int:
    """How many tasks the index holds."""
    rows = await ex.rows(_COUNT, {})
    return int(rows[0][0])
