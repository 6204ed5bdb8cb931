"""The tables. The seed design's names are kept (users, profiles, roadmaps, roadmap_stages, tasks,
user_task_progress); the rest support chat: identities, bands, conversation state, reminders,
deliveries, the event outbox, the audit log and processed platform update ids.

Every lookup the code makes has an index: identity by (platform, external_id), progress by
(profile, task), reminders by ``next_due_at``, samples by (profile, metric, time).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, JSONType, new_id, utcnow


def partial_index(name: str, *columns: Any, where: str) -> Index:
    """An index of the rows matching ``where`` only, on both backends alike (PostgreSQL and
    SQLite each take the predicate under their own keyword; stating it once keeps them equal).
    ``where`` is a literal SQL predicate so the planner can prove a query's filter implies it."""
    return Index(name, *columns, postgresql_where=text(where), sqlite_where=text(where))


class User(Base):
    """One person, whichever platforms they use."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    display_name: Mapped[str | None] = mapped_column(String(120))
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    broadcasts_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_active_at: Mapped[datetime | None] = mapped_column()
    #: The tracking tag of the first ``/start src-<tag>`` link this person came by (set once,
    #: never overwritten: where they came from, not where they last clicked); ``/admin stats``
    #: counts people per tag (core/app/start_payloads.py).
    start_tag: Mapped[str | None] = mapped_column(String(32))


# /admin stats counts the musicians active in the last 7 and 30 days: a range of this index
# (written at most once a minute per person: core.kernel.turn.ACTIVITY_RESOLUTION).
Index("ix_users_last_active_at", User.last_active_at)
#: /admin stats counts people per tracking tag: the few tagged users, read by this index alone.
partial_index(
    "ix_users_start_tag",
    User.start_tag,
    where="start_tag IS NOT NULL",
)


class Identity(Base):
    """(platform, external id) -> user. Linking Telegram and Discord gives one user two rows."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    username: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Band(Base):
    """A band bound to a Discord guild or a Telegram group (``external_id``: the guild's or
    the group's id; a group upgraded to a supergroup is re-keyed to its new id)."""

    __tablename__ = "bands"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    role_id: Mapped[str | None] = mapped_column(String(64))
    channel_id: Mapped[str | None] = mapped_column(String(64))
    #: Managers' choice (``/band milestones on``): the band's milestones are announced in its
    #: updates channel (:mod:`core.coaching.milestones`).
    announce_milestones: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    #: The band's chat can't be reached (a Telegram group that removed the bot, or was
    #: deleted): its reminder and digest are skipped, not tried, until the bot is back
    #: (:mod:`core.bands.presence`).
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BandMember(Base):
    """Membership of a user in a band, with their role in it (``manager`` or ``member``)."""

    __tablename__ = "band_members"

    band_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bands.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), default="member")
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class Roadmap(Base):
    """A roadmap template, synced from ``roadmaps/*.yaml`` by slug."""

    __tablename__ = "roadmaps"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    pitch: Mapped[str] = mapped_column(String(140))
    description: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(8), default="any")
    position: Mapped[int] = mapped_column(Integer, default=0)
    content_hash: Mapped[str] = mapped_column(String(64))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoadmapStage(Base):
    """An ordered stage of a roadmap."""

    __tablename__ = "roadmap_stages"
    __table_args__ = (UniqueConstraint("roadmap_id", "slug"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    roadmap_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("roadmaps.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    intro: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class Task(Base):
    """A task of a stage. ``slug`` is unique across all roadmaps (it names the task in buttons)."""

    __tablename__ = "tasks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    stage_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("roadmap_stages.id", ondelete="CASCADE"), index=True
    )
    roadmap_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("roadmaps.id", ondelete="CASCADE"), index=True
    )
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)
    task_type: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    optional: Mapped[bool] = mapped_column(Boolean, default=False)
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class Profile(Base):
    """An artist profile, owned by one user (solo) or one band, never both."""

    __tablename__ = "profiles"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (band_id IS NULL)", name="owned_by_user_or_band"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    band_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bands.id", ondelete="CASCADE"), unique=True
    )
    artist_name: Mapped[str | None] = mapped_column(String(80))
    current_stats: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: Anchor dates by name (``{"release": "2027-03-05"}``), set by date answers; the plan and
    #: the dated tasks are counted from them.
    anchors: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, server_default="{}")
    #: The ISO 4217 code money answers are counted in when they name no currency (issue #15
    #: §3); ``None`` until the first money answer settles it (core/journey/currency.py).
    currency: Mapped[str | None] = mapped_column(String(3))
    #: The ISO 3166-1 alpha-2 country whose tax and funding advice the profile sees (issue #15;
    #: ``ZZ``: elsewhere, the general advice); ``None`` until settled (core/journey/country.py).
    country: Mapped[str | None] = mapped_column(String(2))
    roadmap_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("roadmaps.id", ondelete="SET NULL")
    )
    current_stage_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("roadmap_stages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime | None] = mapped_column()


# /admin stats' funnel counts profiles per roadmap and current stage from this index alone
# (both columns change only when a musician picks a roadmap or finishes a stage).
Index("ix_profiles_roadmap_stage", Profile.roadmap_id, Profile.current_stage_id)
# Band profiles' ids: /export and /forget search only their rows' JSON for someone else's id
# (core/db/json_refs.py); without it "band_id IS NOT NULL" scanned every profile (issue #18).
partial_index(
    "ix_profiles_band_profiles",
    Profile.id,
    where="band_id IS NOT NULL",
)


class UserTaskProgress(Base):
    """Where one profile stands on one task: status, checklist ticks / answer, who, when."""

    __tablename__ = "user_task_progress"
    __table_args__ = (
        UniqueConstraint("profile_id", "task_id"),
        CheckConstraint(
            "status IN ('not_started', 'in_progress', 'completed', 'skipped', 'postponed')",
            name="valid_status",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    task_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="not_started")
    task_data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    completed_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    completed_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# Who completed a task (an ON DELETE SET NULL key): /export and /forget find a person's rows by
# it, and deleting a user makes PostgreSQL look for them. Only set on completed rows.
partial_index(
    "ix_user_task_progress_completed_by",
    UserTaskProgress.completed_by,
    where="completed_by IS NOT NULL",
)


class CycleTask(Base):
    """A task's progress row of an earlier, closed cycle of a repeating stage (issue #15 §2).

    ``user_task_progress`` always holds the *current* cycle, so every reader of progress
    (``/today``, reminders, the review, bands, admin counts) keeps working unchanged; when the
    musician starts the next release, the cycle's rows are copied here with their cycle number
    and the live rows start fresh. What this keeps: ``/progress``'s history of earlier
    releases, the previous cycle's answer as the next one's baseline, and the streak's steps
    (they are read from here too). Who ticked what (``ticked_by``) is not copied: it names
    users, and the past needs only what and when.
    """

    __tablename__ = "cycle_tasks"
    __table_args__ = (UniqueConstraint("profile_id", "task_id", "cycle"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    task_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    #: 1 for the first release, 2 for the next …
    cycle: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    task_data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    completed_at: Mapped[datetime | None] = mapped_column()
    #: When the musician started the next cycle (this one's end).
    closed_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatSample(Base):
    """One data-input answer as a point of a metric's time series (for charts and trends)."""

    __tablename__ = "stat_samples"
    __table_args__ = (Index(None, "profile_id", "metric", "recorded_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    metric: Mapped[str] = mapped_column(String(40))
    value: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    unit: Mapped[str | None] = mapped_column(String(24))
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


# Who recorded a sample (SET NULL): as for progress' completed_by.
partial_index(
    "ix_stat_samples_recorded_by",
    StatSample.recorded_by,
    where="recorded_by IS NOT NULL",
)


class Goal(Base):
    """A musician's (or band's) target for one metric by a date; one per profile and metric.

    ``met_at`` is set once, the first time a sample reaches the target: the celebration is sent
    then and never again for this goal (setting a new goal clears it).
    """

    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("profile_id", "metric"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(40))
    target: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    due_on: Mapped[date] = mapped_column(Date)
    #: The metric's value when the goal was set: the start of the line to the target.
    baseline: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    set_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)
    met_at: Mapped[datetime | None] = mapped_column()


# Who set a goal (SET NULL): as for progress' completed_by.
partial_index(
    "ix_goals_set_by",
    Goal.set_by,
    where="set_by IS NOT NULL",
)


class StatsChart(Base):
    """The last ``/stats`` chart drawn for a profile, kept until what it shows changes.

    Drawing is the whole cost of ``/stats`` (25–90 ms of matplotlib); the picture depends only
    on what it shows — the samples, the goals with their pace, the title — so it is drawn once
    per change (right after a new number, in the background) and served from here until the
    next. ``digest`` is a hash of what it shows (:attr:`core.progress.charts.Chart.key`):
    ``/stats`` serves ``png`` when the digest of what it would draw matches, and draws anew
    otherwise. Derived data: deleted with the profile (``/forget``), left out of ``/export``
    (``info["derived"]``: it holds nothing the samples don't).
    """

    __tablename__ = "stats_charts"
    __table_args__ = {"info": {"derived": True}}  # noqa: RUF012 - SQLAlchemy's own shape

    profile_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    digest: Mapped[str] = mapped_column(String(32))
    png: Mapped[bytes] = mapped_column(LargeBinary)
    drawn_at: Mapped[datetime] = mapped_column()


class StreakFreeze(Base):
    """A freeze of a profile's streak: the days (both included) a tour or a holiday keeps the
    streak without a step (issue #14 §3a, :mod:`core.progress.streaks`).

    Limited per calendar quarter by the quarter a freeze starts in; ending one early moves
    ``ends_on`` back (it still counts), unfreezing one that has not started deletes it.
    """

    __tablename__ = "streak_freezes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    profile_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


# Who froze a streak (SET NULL): as for progress' completed_by.
partial_index(
    "ix_streak_freezes_created_by",
    StreakFreeze.created_by,
    where="created_by IS NOT NULL",
)


class ConversationState(Base):
    """What the coach waits for from a profile, plus the one-step undo record.

    Kept in the database so a restarted process (or another worker) continues mid-question.
    """

    __tablename__ = "conversation_state"

    profile_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True
    )
    awaiting: Mapped[str | None] = mapped_column(String(24))
    task_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    undo: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reminder(Base):
    """A nudge schedule for a user or band; the tick claims rows by ``next_due_at``."""

    __tablename__ = "reminders"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (band_id IS NULL)", name="owned_by_user_or_band"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    band_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("bands.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    schedule: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    platform: Mapped[str] = mapped_column(String(16))
    target_chat: Mapped[str] = mapped_column(String(64))
    next_due_at: Mapped[datetime | None] = mapped_column()
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Issue #5: the tick's lease on a row (a crashed worker's claim simply expires), the
    # inactivity back-off step, the failed attempts at the current due time, the last send.
    claimed_until: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_sent_at: Mapped[datetime | None] = mapped_column()


# The tick's claim reads due rows in due order: only live rows are in the index.
partial_index(
    "ix_reminders_due",
    Reminder.next_due_at,
    where="NOT paused AND next_due_at IS NOT NULL",
)


class Delivery(Base):
    """One nudge or broadcast message sent (or attempted); the key makes sends idempotent.

    A nudge's row has ``reminder_id``, a broadcast recipient's row ``broadcast_id``.
    ``created_at`` is indexed for housekeeping, which deletes old rows in batches by it
    (:mod:`core.housekeeping`).
    """

    __tablename__ = "deliveries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    reminder_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("reminders.id", ondelete="CASCADE"), index=True
    )
    broadcast_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    platform: Mapped[str] = mapped_column(String(16))
    target_chat: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


#: Delivery rows a broadcast sender may still claim. The sender's claim states this very
#: predicate (with literals, not parameters), so PostgreSQL and SQLite can prove the partial
#: index below applies and never scan sent rows, whose number only grows.
OPEN_BROADCAST_ROWS: Final = "kind = 'broadcast' AND status IN ('pending', 'sending')"

# The broadcast sender polls every few seconds for open rows in due order.
partial_index(
    "ix_deliveries_open_broadcast",
    Delivery.due_at,
    where=OPEN_BROADCAST_ROWS,
)

# A broadcast's rows (its report, housekeeping); nudge rows have no broadcast and stay out.
partial_index(
    "ix_deliveries_broadcast_id",
    Delivery.broadcast_id,
    where="broadcast_id IS NOT NULL",
)


#: The nudges /admin stats counts (a week of them, by status): only nudge rows are in the index
#: below, and it holds the status, so the count reads the index alone. Stated as a literal, like
#: the other partial indexes' predicates.
NUDGE_ROWS: Final = "reminder_id IS NOT NULL"

partial_index(
    "ix_deliveries_nudges_created_at",
    Delivery.created_at,
    Delivery.status,
    where=NUDGE_ROWS,
)

#: A milestone's celebration (and a band channel's announcement of it): housekeeping prunes old
#: ones through this partial index (core/housekeeping.py).
CELEBRATION_ROWS: Final = "kind = 'milestone'"

partial_index(
    "ix_deliveries_celebrations_created_at",
    Delivery.created_at,
    where=CELEBRATION_ROWS,
)


class Event(Base):
    """Transactional outbox (``task.completed``, ``stage.completed``, …): the statistics, and
    the milestone consumer's queue (:mod:`core.coaching.milestones`).

    ``claimed_until`` is the consumer's lease, set on a profile's *oldest* unprocessed event
    only (its "head"): whoever holds the head holds the profile's whole queue, so a profile's
    events are handled in order and by one worker at a time. ``processed_at`` is set once
    consumed; housekeeping deletes processed rows after ``RETENTION_EVENTS_DAYS``.
    """

    __tablename__ = "events"
    __table_args__ = (Index(None, "processed_at", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(String(40))
    profile_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("profiles.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column()
    claimed_until: Mapped[datetime | None] = mapped_column()


#: Events the milestone consumer has still to handle, per profile in order: the claim finds a
#: profile's head and the batch reads its queue by this partial index (processed rows, whose
#: number only grows until housekeeping prunes them, are not in it).
partial_index(
    "ix_events_unprocessed",
    Event.profile_id,
    Event.created_at,
    Event.id,
    where="processed_at IS NULL",
)


#: Who caused an event (SET NULL): /export and /forget, and the user row's deletion.
partial_index(
    "ix_events_user_id",
    Event.user_id,
    where="user_id IS NOT NULL",
)

#: The events /admin stats counts (the last week's completions, by type). A literal predicate
#: (as ``DENIED_ROWS``) so both backends prove the partial index applies; the type is in the
#: index, so the count reads the index alone.
COMPLETIONS: Final = "type IN ('task.completed', 'stage.completed')"

partial_index(
    "ix_events_completions",
    Event.created_at,
    Event.type,
    where=COMPLETIONS,
)

#: The outbox event types a milestone can come from: :func:`core.coaching.milestones.detect.detect`
#: reads these and no others (tests/unit/test_milestones_detect.py holds it to that). Any other
#: unprocessed event is irrelevant to the consumer, and housekeeping prunes it like a processed
#: one (:mod:`core.housekeeping`).
MILESTONE_EVENTS: Final = (
    "stats.updated",
    "goal.met",
    "stage.completed",
    "roadmap.completed",
    "release.day",
)


class Milestone(Base):
    """A milestone a profile reached (``metric:monthly_listeners:1000``, ``stage:<slug>`` …).

    ``UNIQUE(profile_id, key)`` is the idempotency key of the celebration: the consumer inserts
    with ``ON CONFLICT DO NOTHING`` and only the insert that wrote the row celebrates it
    (:mod:`core.coaching.milestones`). ``celebrated``: how the musician heard of it — ``sent``
    (the consumer's notice), ``inline`` (the reply to their answer already did), ``skipped``
    (no inbox this process reaches) or ``lower`` (a bigger one reached by the same number).
    ``announced``: it was posted in the band's updates channel.
    """

    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("profile_id", "key"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(120))
    reached_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The outbox event it came from (no foreign key: processed events are pruned).
    event_id: Mapped[uuid.UUID | None] = mapped_column()
    celebrated: Mapped[str] = mapped_column(String(16), default="inline")
    announced: Mapped[bool] = mapped_column(Boolean, default=False)


class AuditLog(Base):
    """Security-relevant events: admin actions, denials, role changes, exports, deletions."""

    __tablename__ = "audit_log"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(120))
    outcome: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


#: Audit rows housekeeping may prune (refused attempts). Written as a literal, not a
#: parameter, so PostgreSQL and SQLite can prove the partial index below applies.
DENIED_ROWS: Final = "outcome = 'denied'"

# Housekeeping deletes old denials in batches (core/housekeeping.py): only denials are in the
# index, so the batches never walk the admin actions they keep, whose number only grows.
partial_index(
    "ix_audit_log_denied_at",
    AuditLog.at,
    where=DENIED_ROWS,
)


# /export and /forget look a person up in the log by the handle (``telegram:123``) that acted or
# was acted on, by their user id as actor (a SET NULL key) and as a ``user:<id>`` target.
Index("ix_audit_log_actor", AuditLog.actor)
partial_index(
    "ix_audit_log_target",
    AuditLog.target,
    where="target IS NOT NULL",
)
partial_index(
    "ix_audit_log_actor_user_id",
    AuditLog.actor_user_id,
    where="actor_user_id IS NOT NULL",
)

#: Audit rows whose ``details`` may name a user by id (``account.unlink``: ``new_user``). Only
#: these rows are searched for a person's id in the details (:mod:`core.admin.privacy`), through
#: the partial index below; a new action that puts a user id in its details belongs here.
USER_IDS_IN_DETAILS: Final = "action IN ('account.unlink')"

partial_index(
    "ix_audit_log_user_details",
    AuditLog.at,
    where=USER_IDS_IN_DETAILS,
)


class Broadcast(Base):
    """An admin's message to every musician: drafted, confirmed, then sent row by row.

    One ``deliveries`` row per recipient (kind ``broadcast``, key ``broadcast:<id>:<user>``,
    ``broadcast_id``) makes the sending resumable and idempotent; this row holds the text and
    where progress reports go (the admin's chat). ``sent`` / ``skipped`` / ``failed`` are the
    final counts, stored when it finishes (NULL before): housekeeping deletes the delivery rows
    of old finished broadcasts, and ``/admin broadcasts`` must still show what happened.
    """

    __tablename__ = "broadcasts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    report_platform: Mapped[str | None] = mapped_column(String(16))
    report_chat: Mapped[str | None] = mapped_column(String(64))
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    sent: Mapped[int | None] = mapped_column(Integer)
    skipped: Mapped[int | None] = mapped_column(Integer)
    failed: Mapped[int | None] = mapped_column(Integer)


class ProcessedUpdate(Base):
    """Platform update ids already handled, so a replayed batch changes nothing."""

    __tablename__ = "processed_updates"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class InboxUpdate(Base):
    """A platform update recorded before the platform was told it arrived (``core/inbox.py``).

    Telegram forgets an update once the bot confirms it; written here first, an update a crash
    interrupted is handled after the restart instead of lost. The row is deleted once handled.
    ``claimed_by``/``claimed_until`` lease it to the worker handling it: a webhook worker that
    died with it leaves a lease that runs out, and another worker takes the row over.
    """

    __tablename__ = "inbox_updates"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    #: The update as the platform sent it (JSON text).
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_until: Mapped[datetime] = mapped_column()
    #: Times a worker took it (1 when written); past ``core.inbox.MAX_ATTEMPTS`` it is dropped.
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    #: The chat the update belongs to (``None``: none): a webhook worker handles an update only
    #: once no older row of its chat is left, so a chat keeps its order across workers.
    chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index("ix_inbox_updates_chat", "platform", "chat_id", "update_id"),)


class BandAssignment(Base):
    """Whose job a task of a band's roadmap is (``/assign``); one assignee per task.

    Its own table rather than a key in ``task_data``: an answer replaces ``task_data``, and the
    assignment should still show on a finished task.
    """

    __tablename__ = "band_assignments"

    band_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bands.id", ondelete="CASCADE"), primary_key=True
    )
    task_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)


class BandInvite(Base):
    """An invite into a band (``/band invite``): redeemed from a private chat on any platform
    (``/join <code>``, or Telegram's ``/start inv-<code>`` deep link).

    Like a link code, only the HMAC-SHA256 of the code is stored (core/accounts/linking.py's
    key). It may be used ``uses_left`` more times (1 by default) until ``expires_at``; a
    manager's ``/band invite revoke`` sets ``revoked_at``. A used-up, expired or revoked
    invite keeps its row until housekeeping, so its refusal can say which it is.
    """

    __tablename__ = "band_invites"
    __table_args__ = (CheckConstraint("uses_left >= 0", name="uses_left_not_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    band_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bands.id", ondelete="CASCADE"))
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    uses: Mapped[int] = mapped_column(Integer)
    uses_left: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: A band's invites of the last day (the issuing limit) and its open ones (revoke).
Index("ix_band_invites_band_created", BandInvite.band_id, BandInvite.created_at)


class LinkCode(Base):
    """A one-time code that joins a second platform identity to a user (``/link``).

    Only the SHA-256 of the code is stored: a leaked table row cannot be replayed. A code is
    short-lived (``expires_at``, indexed: housekeeping deletes expired codes) and single use
    (deleted when redeemed).
    """

    __tablename__ = "link_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = [
    "AuditLog",
    "Band",
    "BandAssignment",
    "BandInvite",
    "BandMember",
    "Broadcast",
    "ConversationState",
    "Delivery",
    "Event",
    "Identity",
    "InboxUpdate",
    "LinkCode",
    "ProcessedUpdate",
    "Profile",
    "Reminder",
    "Roadmap",
    "RoadmapStage",
    "StatSample",
    "Task",
    "User",
    "UserTaskProgress",
]
