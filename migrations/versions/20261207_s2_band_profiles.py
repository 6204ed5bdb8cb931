"""Band profiles by a partial index: /export and /forget look through band profiles' rows.

Issue #18: only a band's rows can hold someone else's user id in JSON (core/db/json_refs.py),
so ``/export`` and ``/forget`` search those rows among band profiles only. Finding the band
profiles as ``band_id IS NOT NULL`` made PostgreSQL scan all 100 000 profiles in parallel for
each of the three JSON searches — two thirds of ``/export`` at 100 000 musicians. A partial
index of the few band profiles' ids makes it a read of a few hundred index entries.

Built like ``s1_scale_indexes``: ``CREATE INDEX CONCURRENTLY`` outside a transaction on
PostgreSQL (writers go on), after dropping an INVALID leftover of a failed build; plain on
SQLite.

Revision ID: s2_band_profiles
Revises: m1_currency
Create Date: 2026-12-07 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s2_band_profiles"
down_revision: str | Sequence[str] | None = "m1_currency"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_profiles_band_profiles"
WHERE = "band_id IS NOT NULL"


def upgrade() -> None:
    """Build it: concurrently on PostgreSQL."""
    where = {"postgresql_where": sa.text(WHERE), "sqlite_where": sa.text(WHERE)}
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, "profiles", ["id"], unique=False, **where)
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")  # an INVALID leftover
        op.create_index(NAME, "profiles", ["id"], postgresql_concurrently=True, **where)


def downgrade() -> None:
    """Drop it (concurrently on PostgreSQL)."""
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(NAME, table_name="profiles")
        return
    with op.get_context().autocommit_block():
        op.drop_index(NAME, table_name="profiles", postgresql_concurrently=True)
