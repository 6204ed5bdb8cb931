"""Band invites and the tracking tag people arrive with (issue #17 §2).

``band_invites``: a manager's ``/band invite`` (the code's HMAC only, its uses left, expiry,
revocation). ``users.start_tag``: the first ``/start src-<tag>`` a person came by, counted in
``/admin stats`` through a partial index of the tagged users — built like ``s1_scale_indexes``
(concurrently on PostgreSQL, after dropping an INVALID leftover), since ``users`` is large.
Adding a nullable column without a default is a catalog change on PostgreSQL (no rewrite).

Revision ID: i1_invites
Revises: s3_celebration_rows
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i1_invites"
down_revision: str | Sequence[str] | None = "s3_celebration_rows"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TAG_INDEX = "ix_users_start_tag"
TAG_WHERE = "start_tag IS NOT NULL"


def upgrade() -> None:
    """Create ``band_invites``, add ``users.start_tag`` and its partial index."""
    op.create_table(
        "band_invites",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("band_id", sa.Uuid(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("uses_left >= 0", name=op.f("ck_band_invites_uses_left_not_negative")),
        sa.ForeignKeyConstraint(
            ["band_id"],
            ["bands.id"],
            name=op.f("fk_band_invites_band_id_bands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_band_invites_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_band_invites")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_band_invites_code_hash")),
    )
    op.create_index(
        "ix_band_invites_band_created", "band_invites", ["band_id", "created_at"], unique=False
    )
    op.create_index(op.f("ix_band_invites_created_by"), "band_invites", ["created_by"])
    op.create_index(op.f("ix_band_invites_expires_at"), "band_invites", ["expires_at"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("start_tag", sa.String(length=32), nullable=True))
    where = {"postgresql_where": sa.text(TAG_WHERE), "sqlite_where": sa.text(TAG_WHERE)}
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(TAG_INDEX, "users", ["start_tag"], unique=False, **where)
        return
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {TAG_INDEX}")  # an INVALID leftover
        op.create_index(TAG_INDEX, "users", ["start_tag"], postgresql_concurrently=True, **where)


def downgrade() -> None:
    """Back to ``s3_celebration_rows``: invites and tags are dropped."""
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index(TAG_INDEX, table_name="users", postgresql_concurrently=True)
    else:
        op.drop_index(TAG_INDEX, table_name="users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("start_tag")
    op.drop_index(op.f("ix_band_invites_expires_at"), table_name="band_invites")
    op.drop_index(op.f("ix_band_invites_created_by"), table_name="band_invites")
    op.drop_index("ix_band_invites_band_created", table_name="band_invites")
    op.drop_table("band_invites")
