"""Reminders (issue #5): claim lease, inactivity stage, attempts, last send; a partial due index.

Revision ID: r5_reminders
Revises: a6_admin
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "r5_reminders"
down_revision: str | Sequence[str] | None = "a6_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = "NOT paused AND next_due_at IS NOT NULL"


def upgrade() -> None:
    """Add the tick's columns and replace the plain due index with a partial one."""
    with op.batch_alter_table("reminders") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("stage", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_index("ix_reminders_next_due_at")
    op.create_index(
        "ix_reminders_due",
        "reminders",
        ["next_due_at"],
        unique=False,
        postgresql_where=sa.text(_LIVE),
        sqlite_where=sa.text(_LIVE),
    )


def downgrade() -> None:
    """Back to the initial reminders table."""
    op.drop_index("ix_reminders_due", table_name="reminders")
    with op.batch_alter_table("reminders") as batch:
        batch.create_index("ix_reminders_next_due_at", ["next_due_at"], unique=False)
        batch.drop_column("last_sent_at")
        batch.drop_column("attempts")
        batch.drop_column("stage")
        batch.drop_column("claimed_by")
        batch.drop_column("claimed_until")
