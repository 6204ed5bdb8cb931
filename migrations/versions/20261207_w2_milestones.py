"""Milestones from the events outbox (issue #14 §3b).

* ``milestones`` — one row per milestone a profile reached; ``UNIQUE(profile_id, key)`` is the
  celebration's idempotency key (the consumer inserts with ``ON CONFLICT DO NOTHING``).
* ``events.claimed_until`` — the consumer's lease on a profile's oldest unprocessed event, and
  the partial index ``ix_events_unprocessed`` (profile, created_at, id) over unprocessed events
  that the claim and each batch walk. Events written before this revision are marked processed
  (``processed_at = created_at``): milestones count from the upgrade on, and housekeeping may
  prune the old ones after ``RETENTION_EVENTS_DAYS``.
* ``bands.announce_milestones`` — the managers' choice to post the band's milestones in its
  updates channel (off by default).

Revision ID: w2_milestones
Revises: w1_streaks
Create Date: 2026-12-07 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "w2_milestones"
down_revision: str | Sequence[str] | None = "w1_streaks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``milestones``, the events' lease and index, the band's announce switch."""
    op.create_table(
        "milestones",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("profile_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.Column("celebrated", sa.String(length=16), nullable=False),
        sa.Column("announced", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_milestones_profile_id_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
        sa.UniqueConstraint("profile_id", "key", name=op.f("uq_milestones_profile_id_key")),
    )
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    # Milestones count from now: the events written so far are marked consumed (the
    # statistics keep reading them by created_at), else the first run would celebrate months
    # of history — "🎉 1 000 listeners!" for a number entered last spring.
    op.execute("UPDATE events SET processed_at = created_at WHERE processed_at IS NULL")
    op.create_index(
        "ix_events_unprocessed",
        "events",
        ["profile_id", "created_at", "id"],
        unique=False,
        postgresql_where=sa.text("processed_at IS NULL"),
        sqlite_where=sa.text("processed_at IS NULL"),
    )
    with op.batch_alter_table("bands") as batch:
        batch.add_column(
            sa.Column(
                "announce_milestones",
                sa.Boolean(),
                server_default=sa.text("false"),
                nullable=False,
            )
        )


def downgrade() -> None:
    """Back to ``c3_stats_charts``: milestones reached are forgotten (and would be celebrated
    again after an upgrade: only events not yet pruned are read again, and those are processed)."""
    with op.batch_alter_table("bands") as batch:
        batch.drop_column("announce_milestones")
    op.drop_index("ix_events_unprocessed", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("claimed_until")
    op.drop_table("milestones")
