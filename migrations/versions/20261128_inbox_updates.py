"""The durable inbox: platform updates written down before the platform is told they arrived.

One row per update not yet handled (``core/inbox.py``): the raw update, who holds it and until
when. Rows live for the seconds an update is in flight; no index beyond the primary key.

Revision ID: inbox_updates
Revises: hardening_audit_denials
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "inbox_updates"
down_revision: str | Sequence[str] | None = "hardening_audit_denials"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``inbox_updates``."""
    op.create_table(
        "inbox_updates",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("platform", "update_id", name=op.f("pk_inbox_updates")),
    )


def downgrade() -> None:
    """Back to ``hardening_audit_denials`` (updates still in the inbox are dropped with it)."""
    op.drop_table("inbox_updates")
