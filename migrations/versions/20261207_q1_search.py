"""The search index of the roadmap content (issue #15 §4: questions answered from it).

``task_search`` holds one row per live task, rebuilt from the tasks whenever the roadmaps sync
(``core/knowledge/index.py``) — derived data, so it is not one of the models and is a
different kind of table on each backend:

* PostgreSQL: ``(task_id, roadmap_id, slug, document tsvector)`` — the title weighted A, the
  explanation and checklist B — with the GIN index ``ix_task_search_document``;
* SQLite: an FTS5 virtual table ``(slug, roadmap_id, title, body)`` with the ``porter
  unicode61`` tokenizer (English stemming, accents folded), ranked by ``bm25``.

The index starts empty: the next ``coach roadmaps sync`` (or ``coach run``'s start-up sync) fills
it, because the sync rebuilds an index whose size differs from the live tasks'.

Revision ID: q1_search
Revises: s1_scale_indexes
Create Date: 2026-12-07 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "q1_search"
down_revision: str | Sequence[str] | None = "s1_scale_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the search index for this backend."""
    if op.get_bind().dialect.name == "postgresql":
        op.create_table(
            "task_search",
            sa.Column("task_id", sa.Uuid(), nullable=False),
            sa.Column("roadmap_id", sa.Uuid(), nullable=False),
            sa.Column("slug", sa.String(length=32), nullable=False),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
            sa.ForeignKeyConstraint(
                ["task_id"],
                ["tasks.id"],
                name=op.f("fk_task_search_task_id_tasks"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("task_id", name=op.f("pk_task_search")),
        )
        op.create_index(
            "ix_task_search_document", "task_search", ["document"], postgresql_using="gin"
        )
        return
    op.execute(
        "CREATE VIRTUAL TABLE task_search USING fts5("
        "slug UNINDEXED, roadmap_id UNINDEXED, title, body, "
        "tokenize = 'porter unicode61 remove_diacritics 2')"
    )


def downgrade() -> None:
    """Drop the search index."""
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_task_search_document", table_name="task_search")
    op.execute("DROP TABLE task_search")
