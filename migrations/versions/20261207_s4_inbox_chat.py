"""The inbox remembers each update's chat, so webhook workers keep a chat's order between them.

Telegram sends a chat's next update only after the webhook answered the previous one, but the
answer comes once the update is written down, not handled: behind a load balancer that is not
sticky the next one may reach another worker while the first is still being handled. A worker
now waits until no older row of the same chat is left (``core/inbox.py`` ``Inbox.wait_turn``),
which needs the chat on the row and an index to find a chat's rows. The table only holds the
updates in flight (rows live for seconds), so the index is built in place.

Revision ID: s4_inbox_chat
Revises: t1_tg_bands
Create Date: 2026-12-07 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s4_inbox_chat"
down_revision: str | Sequence[str] | None = "t1_tg_bands"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_inbox_updates_chat"


def upgrade() -> None:
    """Add the column (nullable: rows written by older code have no chat) and its index."""
    with op.batch_alter_table("inbox_updates") as batch:
        batch.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
    op.create_index(NAME, "inbox_updates", ["platform", "chat_id", "update_id"])


def downgrade() -> None:
    """Drop them."""
    op.drop_index(NAME, table_name="inbox_updates")
    with op.batch_alter_table("inbox_updates") as batch:
        batch.drop_column("chat_id")
