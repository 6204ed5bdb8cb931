"""A country per profile (issue #15 §2, "taxes, grants and funding bodies per country"):

* ``profiles.country`` — the ISO 3166-1 alpha-2 code (``GB``, ``DE``) whose tax and funding
  advice the profile sees; ``ZZ`` (CLDR's "unknown region") when the musician said "Other", who
  then sees the general advice. ``NULL`` until settled: by a platform locale that names a
  region (``en-GB``), else by the one question asked the first time a task that differs by
  country comes up (core/journey/country.py); ``/country`` changes it. Existing profiles stay
  ``NULL`` and are settled the same way; nothing is rewritten.

Revision ID: c1_country
Revises: i1_invites
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c1_country"
down_revision: str | Sequence[str] | None = "i1_invites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``profiles.country`` (a nullable column: no table rewrite on PostgreSQL)."""
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("country", sa.String(length=2), nullable=True))


def downgrade() -> None:
    """Drop ``profiles.country``."""
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("country")
