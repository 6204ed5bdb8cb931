"""The last ``/stats`` chart per profile, kept until what it shows changes (issue #13 §5).

``stats_charts`` holds one PNG per profile with a digest of what it shows (samples, goals,
title): ``/stats`` serves it while the digest matches instead of drawing again, and a new
number redraws it in the background. Deleted with its profile.

Revision ID: c3_stats_charts
Revises: c2_postponed
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3_stats_charts"
down_revision: str | Sequence[str] | None = "c2_postponed"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``stats_charts``."""
    op.create_table(
        "stats_charts",
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_stats_charts_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_stats_charts")),
    )


def downgrade() -> None:
    """Back to ``c2_postponed``: the stored charts are dropped (``/stats`` draws them again)."""
    op.drop_table("stats_charts")
