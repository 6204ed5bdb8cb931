"""Streak freezes (issue #14 §3a): the days a tour or a holiday keeps a streak without a step.

``streak_freezes`` holds one row per freeze of a profile (both days included), deleted with
the profile; who asked for it is kept until that person is forgotten.

Revision ID: w1_streaks
Revises: c3_stats_charts
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "w1_streaks"
down_revision: str | Sequence[str] | None = "c3_stats_charts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``streak_freezes``."""
    op.create_table(
        "streak_freezes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_streak_freezes_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_streak_freezes_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_streak_freezes")),
    )
    op.create_index(
        op.f("ix_streak_freezes_profile_id"), "streak_freezes", ["profile_id"], unique=False
    )


def downgrade() -> None:
    """Back to ``c3_stats_charts``: the freezes are dropped (streaks count without them)."""
    op.drop_index(op.f("ix_streak_freezes_profile_id"), table_name="streak_freezes")
    op.drop_table("streak_freezes")
