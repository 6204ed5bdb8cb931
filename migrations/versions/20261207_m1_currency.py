"""Money in any currency (issue #15 §3): the currency a profile counts its money in.

* ``profiles.currency`` — the ISO 4217 code (``EUR``, ``USD``) a musician's (or band's) money
  answers are in when they name no currency. ``NULL`` until settled: by the first amount that
  names one, else by the platform's locale, else the question's own currency (the coach says
  which, once; ``/currency`` changes it). Existing profiles stay ``NULL`` and are settled the
  same way on their next money answer; their stored amounts already carry their currency
  (``stat_samples.unit`` and the answer's ``task_data``), so nothing is rewritten.

Revision ID: m1_currency
Revises: k1_cycles
Create Date: 2026-12-07 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m1_currency"
down_revision: str | Sequence[str] | None = "k1_cycles"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``profiles.currency``."""
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("currency", sa.String(length=3), nullable=True))


def downgrade() -> None:
    """Drop ``profiles.currency``."""
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("currency")
