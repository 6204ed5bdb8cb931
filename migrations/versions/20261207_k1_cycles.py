"""Release cycles that repeat (issue #15 §2).

* ``cycle_tasks`` — the progress rows of a repeating stage's earlier cycles (release 1, 2 …),
  copied there when the musician starts the next one; ``user_task_progress`` keeps holding the
  current cycle only, so nothing that reads progress changes. ``UNIQUE(profile_id, task_id,
  cycle)``: a task has one row per closed cycle.

Revision ID: k1_cycles
Revises: q1_search
Create Date: 2026-12-07 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "k1_cycles"
down_revision: str | Sequence[str] | None = "q1_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``cycle_tasks``."""
    op.create_table(
        "cycle_tasks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "task_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_cycle_tasks_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["tasks.id"],
            name=op.f("fk_cycle_tasks_task_id_tasks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cycle_tasks")),
        sa.UniqueConstraint(
            "profile_id", "task_id", "cycle", name=op.f("uq_cycle_tasks_profile_id_task_id_cycle")
        ),
    )
    op.create_index(op.f("ix_cycle_tasks_task_id"), "cycle_tasks", ["task_id"], unique=False)


def downgrade() -> None:
    """Back to ``w3_digest``: the earlier cycles' rows are dropped (the current cycle's
    progress, the samples and so the charts are untouched)."""
    op.drop_index(op.f("ix_cycle_tasks_task_id"), table_name="cycle_tasks")
    op.drop_table("cycle_tasks")
