"""The band's weekly digest (issue #14 §2): on for bands that already have an updates channel.

No schema change: a digest is a ``reminders`` row of kind ``digest`` owned by the band. From
this revision on, ``/band channel`` switches a band's digest on (Monday 10:00 in the band's
timezone, docs/coaching.md); a band that set its channel before gets the same here, so "on
once a channel is set" holds for every band. Its timezone and quiet hours are those of the
band's reminder when it has one, else UTC; it is due "now", which the tick reads as "plan from
the next slot" (a slot before the row is never sent), so nobody gets a digest at upgrade time.

Downgrade deletes the digest rows and their deliveries: an older tick does not know the kind.

Revision ID: w3_digest
Revises: w2_milestones
Create Date: 2026-12-07 15:00:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "w3_digest"
down_revision: str | Sequence[str] | None = "w2_milestones"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_bands = sa.table(
    "bands",
    sa.column("id", sa.Uuid()),
    sa.column("platform", sa.String()),
    sa.column("channel_id", sa.String()),
)
_reminders = sa.table(
    "reminders",
    sa.column("id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
    sa.column("band_id", sa.Uuid()),
    sa.column("kind", sa.String()),
    sa.column("schedule", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("timezone", sa.String()),
    sa.column("quiet_start", sa.String()),
    sa.column("quiet_end", sa.String()),
    sa.column("platform", sa.String()),
    sa.column("target_chat", sa.String()),
    sa.column("next_due_at", sa.DateTime(timezone=True)),
    sa.column("paused", sa.Boolean()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("stage", sa.Integer()),
    sa.column("attempts", sa.Integer()),
)
_deliveries = sa.table("deliveries", sa.column("kind", sa.String()))
#: Monday 10:00 (core/coaching/review/week.py ``Slot().to_json()``).
_DEFAULT_SLOT = {"type": "weekly", "time": "10:00", "days": [0]}


def upgrade() -> None:
    """A digest row, on, for every band with an updates channel and no digest yet."""
    conn = op.get_bind()
    bands = conn.execute(
        sa.select(_bands.c.id, _bands.c.platform, _bands.c.channel_id).where(
            _bands.c.channel_id.is_not(None)
        )
    ).all()
    if not bands:
        return
    kinds = conn.execute(
        sa.select(
            _reminders.c.band_id,
            _reminders.c.kind,
            _reminders.c.timezone,
            _reminders.c.quiet_start,
            _reminders.c.quiet_end,
        ).where(_reminders.c.band_id.is_not(None))
    ).all()
    has_digest = {band for band, kind, *_ in kinds if kind == "digest"}
    own = {band: (tz, start, end) for band, kind, tz, start, end in kinds if kind == "schedule"}
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "user_id": None,
            "band_id": band,
            "kind": "digest",
            "schedule": _DEFAULT_SLOT,
            "timezone": own.get(band, ("UTC", None, None))[0] or "UTC",
            "quiet_start": own.get(band, ("UTC", None, None))[1],
            "quiet_end": own.get(band, ("UTC", None, None))[2],
            "platform": platform,
            "target_chat": channel,
            "next_due_at": now,
            "paused": False,
            "created_at": now,
            "stage": 0,
            "attempts": 0,
        }
        for band, platform, channel in bands
        if band not in has_digest
    ]
    if rows:
        conn.execute(sa.insert(_reminders), rows)


def downgrade() -> None:
    """Back to ``w2_milestones``: the digest rows go (an older tick does not know them)."""
    op.execute(sa.delete(_deliveries).where(_deliveries.c.kind == "digest"))
    op.execute(sa.delete(_reminders).where(_reminders.c.kind == "digest"))
