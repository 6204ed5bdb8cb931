"""Coaching: anchor dates on the profile and one goal per profile and metric.

``profiles.anchors`` holds the dates a plan is counted from (the release date); ``goals`` a
target per metric with its date, its baseline and when it was met (celebrated once).

Revision ID: c1_coaching
Revises: inbox_updates
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "c1_coaching"
down_revision: str | Sequence[str] | None = "inbox_updates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Add ``profiles.anchors`` and create ``goals``."""
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("anchors", JSON, server_default="{}", nullable=False))
    op.create_table(
        "goals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("target", sa.Numeric(20, 4), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("baseline", sa.Numeric(20, 4), nullable=True),
        sa.Column("set_by", sa.Uuid(), nullable=True),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_goals_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by"], ["users.id"], name=op.f("fk_goals_set_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
        sa.UniqueConstraint("profile_id", "metric", name=op.f("uq_goals_profile_id_metric")),
    )


def downgrade() -> None:
    """Back to ``inbox_updates`` (goals and anchor dates are dropped)."""
    op.drop_table("goals")
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("anchors")
