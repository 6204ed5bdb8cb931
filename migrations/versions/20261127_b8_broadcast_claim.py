"""A partial index for the broadcast sender's claim of open delivery rows.

The sender polls every few seconds for ``kind = 'broadcast'`` rows still ``pending`` or
``sending``, in due order. Without an index that poll read every delivery row, sent nudges
included, whose number only grows between housekeeping passes.

Revision ID: b8_broadcast_claim
Revises: h7_housekeeping
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b8_broadcast_claim"
down_revision: str | Sequence[str] | None = "h7_housekeeping"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = "kind = 'broadcast' AND status IN ('pending', 'sending')"


def upgrade() -> None:
    """Index open broadcast rows by due time."""
    op.create_index(
        "ix_deliveries_open_broadcast",
        "deliveries",
        ["due_at"],
        unique=False,
        postgresql_where=sa.text(_OPEN),
        sqlite_where=sa.text(_OPEN),
    )


def downgrade() -> None:
    """Back to ``h7_housekeeping``."""
    op.drop_index("ix_deliveries_open_broadcast", table_name="deliveries")
