"""Milestone celebrations' delivery rows by a partial index, so housekeeping prunes them.

A celebration (``deliveries.kind = 'milestone'``) was kept for ever: about a dozen rows a
musician a year. Housekeeping now deletes those older than ``RETENTION_DELIVERIES_DAYS``
(core/housekeeping.py says why that is safe), walking this index like the nudges' one. Built
like ``s1_scale_indexes``: concurrently on PostgreSQL, after dropping an INVALID leftover.

Revision ID: s3_celebration_rows
Revises: s2_band_profiles
Create Date: 2026-12-07 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s3_celebration_rows"
down_revision: str | Sequence[str] | None = "s2_band_profiles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_deliveries_celebrations_created_at"
WHERE = "kind = 'milestone'"


def upgrade() -> None:
    """Build it: concurrently on PostgreSQL."""
    where = {"postgresql_where": sa.text(WHERE), "sqlite_where": sa.text(WHERE)}
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, "deliveries", ["created_at"], unique=False, **where)
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")  # an INVALID leftover
        op.create_index(NAME, "deliveries", ["created_at"], postgresql_concurrently=True, **where)


def downgrade() -> None:
    """Drop it (concurrently on PostgreSQL)."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(NAME, table_name="deliveries")
        return
    with op.get_context().autocommit_block():
        op.drop_index(NAME, table_name="deliveries", postgresql_concurrently=True)
