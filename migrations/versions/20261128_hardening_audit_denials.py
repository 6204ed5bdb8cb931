"""Housekeeping prunes old audit denials: a partial index on ``audit_log.at`` of denied rows.

Refused attempts (``outcome = 'denied'``) are deleted after ``RETENTION_AUDIT_DENIALS_DAYS``;
every other row (admin actions, grants, broadcasts, forgets) is kept for ever. The batched
delete's inner SELECT walks this index, which holds only denials, so it never steps over the
kept rows at the old end of the table.

Revision ID: hardening_audit_denials
Revises: b8_broadcast_claim
Create Date: 2026-11-28 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "hardening_audit_denials"
down_revision: str | Sequence[str] | None = "b8_broadcast_claim"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DENIED = "outcome = 'denied'"


def upgrade() -> None:
    """Index denied audit rows by time."""
    op.create_index(
        "ix_audit_log_denied_at",
        "audit_log",
        ["at"],
        unique=False,
        postgresql_where=sa.text(_DENIED),
        sqlite_where=sa.text(_DENIED),
    )


def downgrade() -> None:
    """Back to ``b8_broadcast_claim``."""
    op.drop_index("ix_audit_log_denied_at", table_name="audit_log")
