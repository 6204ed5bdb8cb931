"""Task status ``postponed``: "idk" to a question puts it off for a few days (issue #13).

A postponed question counts as dealt with for stage gating and comes back later
(``core.progress.service.postponed_due``); the status check admits the new value.

Revision ID: c2_postponed
Revises: c1_coaching
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c2_postponed"
down_revision: str | Sequence[str] | None = "c1_coaching"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAME = "ck_user_task_progress_valid_status"
_WITH = "status IN ('not_started', 'in_progress', 'completed', 'skipped', 'postponed')"
_WITHOUT = "status IN ('not_started', 'in_progress', 'completed', 'skipped')"


def upgrade() -> None:
    """Admit ``postponed`` in ``user_task_progress.status``."""
    with op.batch_alter_table("user_task_progress") as batch:
        batch.drop_constraint(op.f(_NAME), type_="check")
        batch.create_check_constraint(op.f(_NAME), _WITH)


def downgrade() -> None:
    """Back to ``c1_coaching``: postponed questions become open again (not started)."""
    op.execute("UPDATE user_task_progress SET status = 'not_started' WHERE status = 'postponed'")
    with op.batch_alter_table("user_task_progress") as batch:
        batch.drop_constraint(op.f(_NAME), type_="check")
        batch.create_check_constraint(op.f(_NAME), _WITHOUT)
