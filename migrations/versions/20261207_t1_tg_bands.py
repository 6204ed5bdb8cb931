"""A band's chat may be out of reach: ``bands.unreachable`` (issue #17 §1).

A Telegram group that removed the bot, or was deleted, keeps its band; the band is marked
unreachable, so its reminder and digest are skipped instead of tried and failed, until the
bot is added back. A small table (one row per band): a plain column with a server default,
no index needed.

Revision ID: t1_tg_bands
Revises: c1_country
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "t1_tg_bands"
down_revision: str | Sequence[str] | None = "c1_country"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column, false for every band there is."""
    with op.batch_alter_table("bands") as batch:
        batch.add_column(
            sa.Column("unreachable", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("bands") as batch:
        batch.drop_column("unreachable")
