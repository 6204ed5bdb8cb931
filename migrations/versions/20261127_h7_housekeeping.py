"""Housekeeping: what deleting old bookkeeping rows needs.

* ``broadcasts.sent`` / ``skipped`` / ``failed``: a finished broadcast's final counts, so its
  report survives the deletion of its delivery rows (backfilled for finished broadcasts);
* ``deliveries.broadcast_id`` (backfilled from the ``broadcast:<id>:<user>`` key) with a partial
  index: a broadcast's rows are found without a pattern match over the whole table;
* indexes on ``deliveries.created_at`` and ``link_codes.expires_at``: the batched deletes walk
  an index instead of scanning the table.

Revision ID: h7_housekeeping
Revises: d4_discord_bands
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h7_housekeeping"
down_revision: str | Sequence[str] | None = "d4_discord_bands"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HAS_BROADCAST = "broadcast_id IS NOT NULL"

# The key is ``broadcast:<32 hex digits>:<user hex>``. PostgreSQL stores a uuid (its text has
# dashes), SQLite the 32 hex digits; a key naming no broadcast keeps NULL.
_BACKFILL_PG = (
    "UPDATE deliveries SET broadcast_id = b.id FROM broadcasts AS b "
    "WHERE deliveries.kind = 'broadcast' "
    "AND split_part(deliveries.idempotency_key, ':', 2) = replace(b.id::text, '-', '')"
)
_BACKFILL_SQLITE = (
    "UPDATE deliveries SET broadcast_id = (SELECT b.id FROM broadcasts AS b "
    "WHERE b.id = substr(deliveries.idempotency_key, 11, 32)) "
    "WHERE kind = 'broadcast'"
)


# A finished broadcast's counts, from its delivery rows (still all there before this revision).
_FREEZE_COUNTS = (
    "UPDATE broadcasts SET "
    "sent = (SELECT count(*) FROM deliveries AS d "
    "WHERE d.broadcast_id = broadcasts.id AND d.status = 'sent'), "
    "skipped = (SELECT count(*) FROM deliveries AS d "
    "WHERE d.broadcast_id = broadcasts.id AND d.status = 'skipped'), "
    "failed = (SELECT count(*) FROM deliveries AS d "
    "WHERE d.broadcast_id = broadcasts.id AND d.status = 'failed') "
    "WHERE status = 'done'"
)


def upgrade() -> None:
    """Add the columns and indexes, then fill them in for the rows already there."""
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("sent", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("skipped", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("failed", sa.Integer(), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("broadcast_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_deliveries_broadcast_id_broadcasts"),
            "broadcasts",
            ["broadcast_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.create_index(
        "ix_deliveries_broadcast_id",
        "deliveries",
        ["broadcast_id"],
        unique=False,
        postgresql_where=sa.text(_HAS_BROADCAST),
        sqlite_where=sa.text(_HAS_BROADCAST),
    )
    op.create_index(op.f("ix_deliveries_created_at"), "deliveries", ["created_at"], unique=False)
    op.create_index(op.f("ix_link_codes_expires_at"), "link_codes", ["expires_at"], unique=False)
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute(_BACKFILL_PG if postgres else _BACKFILL_SQLITE)
    op.execute(_FREEZE_COUNTS)


def downgrade() -> None:
    """Back to ``d4_discord_bands`` (the stored counts and broadcast ids are dropped)."""
    op.drop_index(op.f("ix_link_codes_expires_at"), table_name="link_codes")
    op.drop_index(op.f("ix_deliveries_created_at"), table_name="deliveries")
    op.drop_index("ix_deliveries_broadcast_id", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f("fk_deliveries_broadcast_id_broadcasts"), type_="foreignkey")
        batch.drop_column("broadcast_id")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("failed")
        batch.drop_column("skipped")
        batch.drop_column("sent")
