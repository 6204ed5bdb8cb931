"""Every table of :mod:`core.db.models` as a typed Core ``Table``, for code that writes
SQLAlchemy Core (the engine's hot path, reminders, bands, admin) instead of using the ORM.

The ORM declares ``__table__`` as a ``FromClause``; casting it once here keeps the models the
single source of truth without each module repeating the cast.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from core.db.models import (
    AuditLog,
    Band,
    BandAssignment,
    BandInvite,
    BandMember,
    Broadcast,
    ConversationState,
    CycleTask,
    Delivery,
    Event,
    Goal,
    Identity,
    InboxUpdate,
    LinkCode,
    Milestone,
    ProcessedUpdate,
    Profile,
    Reminder,
    Roadmap,
    RoadmapStage,
    StatSample,
    StatsChart,
    StreakFreeze,
    Task,
    User,
    UserTaskProgress,
)

audit_log = cast(Table, AuditLog.__table__)
band_assignments = cast(Table, BandAssignment.__table__)
band_invites = cast(Table, BandInvite.__table__)
band_members = cast(Table, BandMember.__table__)
bands = cast(Table, Band.__table__)
broadcasts = cast(Table, Broadcast.__table__)
cycle_tasks = cast(Table, CycleTask.__table__)
deliveries = cast(Table, Delivery.__table__)
events = cast(Table, Event.__table__)
goals = cast(Table, Goal.__table__)
identities = cast(Table, Identity.__table__)
inbox_updates = cast(Table, InboxUpdate.__table__)
link_codes = cast(Table, LinkCode.__table__)
processed_updates = cast(Table, ProcessedUpdate.__table__)
profiles = cast(Table, Profile.__table__)
progress = cast(Table, UserTaskProgress.__table__)
reminders = cast(Table, Reminder.__table__)
roadmaps = cast(Table, Roadmap.__table__)
stages = cast(Table, RoadmapStage.__table__)
samples = cast(Table, StatSample.__table__)
stats_charts = cast(Table, StatsChart.__table__)
milestones = cast(Table, Milestone.__table__)
states = cast(Table, ConversationState.__table__)
streak_freezes = cast(Table, StreakFreeze.__table__)
tasks = cast(Table, Task.__table__)
users = cast(Table, User.__table__)
