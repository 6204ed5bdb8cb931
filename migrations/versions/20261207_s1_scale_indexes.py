"""Indexes for the work around the chat at 100 000 musicians (issue #18).

Found with ``benchmarks/scale.py`` and EXPLAIN (docs/operations.md has the figures):

* the ``ON DELETE SET NULL`` keys a person's rows are found by (``/export``, ``/forget``) and
  that deleting a user makes PostgreSQL search: ``user_task_progress.completed_by``,
  ``stat_samples.recorded_by``, ``events.user_id``, ``goals.set_by``,
  ``streak_freezes.created_by``, ``audit_log.actor_user_id`` — partial (``IS NOT NULL``), so
  rows without one cost nothing;
* the audit log by ``actor`` and ``target`` (handles, ``user:<id>``), and its ``account.unlink``
  rows (the only ones whose details name a user id);
* ``/admin stats``: users by ``last_active_at``, profiles by (roadmap, current stage) for the
  funnel, the week's completions in ``events`` (partial,
  with the type) and the week's nudges in ``deliveries`` (partial, with the status).

**Without blocking writes.** On PostgreSQL each index is built with ``CREATE INDEX
CONCURRENTLY``, which takes no lock that stops inserts, updates or deletes (it waits for the
transactions already running instead, and scans the table twice). It cannot run inside a
transaction, so it runs in Alembic's ``autocommit_block()`` — which commits whatever the upgrade
did before this revision. A concurrent build that fails (a deadlock, a cancelled statement)
leaves an INVALID index behind; each build therefore first drops an index of that name
(``DROP INDEX CONCURRENTLY IF EXISTS``), so running the upgrade again repairs it. On SQLite
plain ``CREATE INDEX`` (the whole database is one writer anyway).

Revision ID: s1_scale_indexes
Revises: w3_digest
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s1_scale_indexes"
down_revision: str | Sequence[str] | None = "w3_digest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: (name, table, columns, partial predicate or None) — as core/db/models.py declares them.
INDEXES: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("ix_users_last_active_at", "users", ("last_active_at",), None),
    ("ix_profiles_roadmap_stage", "profiles", ("roadmap_id", "current_stage_id"), None),
    (
        "ix_user_task_progress_completed_by",
        "user_task_progress",
        ("completed_by",),
        "completed_by IS NOT NULL",
    ),
    ("ix_stat_samples_recorded_by", "stat_samples", ("recorded_by",), "recorded_by IS NOT NULL"),
    ("ix_goals_set_by", "goals", ("set_by",), "set_by IS NOT NULL"),
    (
        "ix_streak_freezes_created_by",
        "streak_freezes",
        ("created_by",),
        "created_by IS NOT NULL",
    ),
    ("ix_events_user_id", "events", ("user_id",), "user_id IS NOT NULL"),
    (
        "ix_events_completions",
        "events",
        ("created_at", "type"),
        "type IN ('task.completed', 'stage.completed')",
    ),
    (
        "ix_deliveries_nudges_created_at",
        "deliveries",
        ("created_at", "status"),
        "reminder_id IS NOT NULL",
    ),
    ("ix_audit_log_actor", "audit_log", ("actor",), None),
    ("ix_audit_log_target", "audit_log", ("target",), "target IS NOT NULL"),
    (
        "ix_audit_log_actor_user_id",
        "audit_log",
        ("actor_user_id",),
        "actor_user_id IS NOT NULL",
    ),
    ("ix_audit_log_user_details", "audit_log", ("at",), "action IN ('account.unlink')"),
)


def _where(predicate: str | None) -> dict[str, sa.TextClause]:
    if predicate is None:
        return {}
    return {"postgresql_where": sa.text(predicate), "sqlite_where": sa.text(predicate)}


def upgrade() -> None:
    """Build the indexes: concurrently on PostgreSQL, one after the other."""
    if op.get_bind().dialect.name != "postgresql":
        for name, table, columns, predicate in INDEXES:
            op.create_index(name, table, list(columns), unique=False, **_where(predicate))
        return
    with op.get_context().autocommit_block():
        for name, table, columns, predicate in INDEXES:
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")  # an INVALID leftover
            op.create_index(
                name,
                table,
                list(columns),
                unique=False,
                postgresql_concurrently=True,
                **_where(predicate),
            )


def downgrade() -> None:
    """Drop them (concurrently on PostgreSQL)."""
    if op.get_bind().dialect.name != "postgresql":
        for name, table, _columns, _predicate in reversed(INDEXES):
            op.drop_index(name, table_name=table)
        return
    with op.get_context().autocommit_block():
        for name, table, _columns, _predicate in reversed(INDEXES):
            op.drop_index(name, table_name=table, postgresql_concurrently=True)
