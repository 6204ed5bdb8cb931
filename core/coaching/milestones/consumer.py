"""The milestone consumer: drains the events outbox, records milestones, celebrates each once.

One batch (like the reminder tick, with the sends between short transactions):

1. **claim** — lease up to ``batch_size`` profiles' heads (:data:`.store.HEADS`: a profile's
   oldest unprocessed event, ``FOR UPDATE SKIP LOCKED``), read those profiles' queues in order,
   their owners and inboxes; commit. Profiles whose events reach no milestone at all (most
   events: a task ticked, a skip) are marked processed together, in one statement.
2. **record**, per profile (``send_concurrency`` profiles at a time): per event in order, the
   milestones it reaches (:func:`.detect.detect`) inserted with ``ON CONFLICT DO NOTHING`` —
   only the insert that wrote the row goes on; for each new one worth a notice
   (:func:`.detect.worth_a_notice`) a ``deliveries`` row under the key
   ``milestone:<profile>:<key>`` written as ``sending``; the profile's events marked processed,
   which releases its head. One commit. What is committed here is decided: a second worker, a
   restart, a replayed event all find the milestone taken.
3. **send** — that profile's reserved notices, in event order, through the platform's
   :class:`~core.kernel.notify.Notifier`; then **record** the outcome on the delivery and
   milestone rows (``blocked`` marks the person unreachable, as every sender does).

Exactly once, and what a crash costs: the milestone row and its reservation are committed before
the send and never written again, so nothing is ever celebrated twice — not by two workers, not
after a ``kill -9`` between send and record (the restarted worker finds the milestone recorded
and the event processed). A worker killed *between* a profile's step 2 commit and the platform
accepting its message loses that notice (its delivery row stays ``sending``, which tells an
operator which ones) — at most the ``send_concurrency`` profiles in flight; the batch's other
profiles are either done or not yet recorded (their leases run out and another worker takes
them, nothing lost). At most once, chosen over at least once because a second "🎉 1 000
listeners!" is worse than a missed one — the milestone itself is still recorded. A worker killed
before step 2's commit loses nothing: its leases run out and another worker handles the same
events.

Release day has no event of its own in a turn (the day simply comes): at most once an hour per
process, :meth:`MilestoneConsumer.queue_release_days` writes a ``release.day`` event for each
profile whose ``release`` anchor is today in its owner's time zone, unless that day's milestone
is recorded or an event is queued; the consumer then handles it like any other.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from core.accounts.reachability import mark_unreachable
from core.clock import Clock
from core.coaching.milestones import store, words
from core.coaching.milestones.detect import Reached, detect, worth_a_notice
from core.db.engine import Database
from core.db.executor import SQLAlchemyExecutor
from core.jobs.runner import Job, log_failure
from core.kernel.notify import DeliveryResult, DeliveryStatus, Notifier
from core.kernel.types import Message
from core.roadmaps.catalog import Catalog, CatalogCache
from core.settings import Settings

logger = logging.getLogger(__name__)

#: Its name on the job runner.
JOB_ID: Final = "milestones"


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    """How the consumer batches and leases, and how often it looks for release days."""

    batch_size: int = 100
    lease: timedelta = timedelta(minutes=2)
    send_concurrency: int = 16
    release_check_every: timedelta = timedelta(hours=1)


@dataclass
class ConsumeReport:
    """What one run did (counts)."""

    profiles: int = 0
    events: int = 0
    reached: int = 0
    sent: int = 0
    announced: int = 0
    skipped: int = 0
    blocked: int = 0
    failed: int = 0

    def add(self, other: ConsumeReport) -> None:
        """Fold another report into this one."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(slots=True)
class _Notice:
    profile_id: uuid.UUID
    milestone: str
    delivery: str
    user_id: uuid.UUID | None
    platform: str
    chat_id: str
    text: str
    band: bool
    result: DeliveryResult | None = None
    sent_at: datetime | None = None


@dataclass(slots=True)
class _Batch:
    events: list[store.QueuedEvent] = field(default_factory=list)
    owners: dict[uuid.UUID, store.Owner] = field(default_factory=dict)
    inboxes: dict[uuid.UUID, store.Inbox] = field(default_factory=dict)


class MilestoneConsumer:
    """Consumes the outbox for the platforms this process has notifiers for."""

    def __init__(
        self,
        db: Database,
        notifiers: Mapping[str, Notifier],
        *,
        clock: Clock,
        catalog: CatalogCache | None = None,
        config: ConsumerConfig | None = None,
        interval: float = 2.0,
    ) -> None:
        self.db = db
        self.notifiers = dict(notifiers)
        self._clock = clock
        self.catalog = catalog or CatalogCache()
        self.config = config or ConsumerConfig()
        self.interval = interval
        self.totals = ConsumeReport()
        self._release_checked: datetime | None = None

    @property
    def clock(self) -> Clock:
        """The process's one clock (read-only)."""
        return self._clock

    def job(self) -> Job:
        """The consumer as a job: every ``interval`` seconds, the first at once."""
        return Job(
            JOB_ID,
            self.run,
            every=timedelta(seconds=self.interval),
            label="milestones",
            about=f"milestones for {', '.join(self.notifiers) or 'no platform'}",
        )

    async def run(self) -> ConsumeReport:
        """One run: release days if an hour has passed, then batches until one comes back short."""
        now = self.clock()
        if (
            self._release_checked is None
            or now - self._release_checked >= self.config.release_check_every
        ):
            await self.queue_release_days()
            self._release_checked = now
        report = ConsumeReport()
        while True:
            batch = await self.run_batch()
            report.add(batch)
            if batch.profiles < self.config.batch_size:
                break
        self.totals.add(report)
        if report.reached:
            logger.info(
                "milestones: %d events of %d profiles, %d reached, %d sent, %d announced",
                report.events,
                report.profiles,
                report.reached,
                report.sent,
                report.announced,
            )
        return report

    async def run_once(self) -> ConsumeReport:
        """One run outside a runner: a failure is logged (as the runner logs it), never raised."""
        try:
            return await self.run()
        except Exception as exc:
            log_failure("milestones", exc)
            return ConsumeReport()

    # ------------------------------------------------------------------ release day

    async def queue_release_days(self) -> int:
        """A ``release.day`` event for each profile whose release is today where its owner
        lives (see the module); how many were written."""
        now = self.clock()
        today = now.date()
        first, last = (
            (today - timedelta(days=1)).isoformat(),
            (today + timedelta(days=1)).isoformat(),
        )
        written = 0
        async with self.db.connection() as conn:
            ex = SQLAlchemyExecutor(conn)
            for profile_id, day, zone in await store.releases_between(ex, first, last):
                try:
                    local = now.astimezone(ZoneInfo(zone)).date().isoformat()
                except (KeyError, ValueError):
                    local = today.isoformat()  # an unknown zone: UTC's day
                if local == day and await store.queue_release_day(ex, profile_id, day, now):
                    written += 1
        return written

    # ------------------------------------------------------------------ one batch

    async def run_batch(self) -> ConsumeReport:
        """Claim one batch; then each profile's record, send and outcome (see the module)."""
        batch = await self._claim()
        profiles = {e.profile_id for e in batch.events}
        report = ConsumeReport(profiles=len(profiles), events=len(batch.events))
        if not batch.events:
            return report
        names = _names(await self.catalog.current(self.db))
        # Profiles whose events reach no milestone (most: a task ticked, a skip) are simply
        # consumed, all in one statement; each of the others is handled on its own.
        busy = {
            e.profile_id
            for e in batch.events
            if e.profile_id in batch.owners and detect(e.type, e.payload)
        }
        quiet = [e.id for e in batch.events if e.profile_id not in busy]
        if quiet:
            async with self.db.connection() as conn:
                await store.mark_processed(SQLAlchemyExecutor(conn), quiet, self.clock())
        queues: dict[uuid.UUID, list[store.QueuedEvent]] = {}
        for event in batch.events:
            if event.profile_id in busy:
                queues.setdefault(event.profile_id, []).append(event)
        semaphore = asyncio.Semaphore(self.config.send_concurrency)

        async def one(events: list[store.QueuedEvent]) -> None:
            async with semaphore:
                notices = await self._record(events, batch, names, report)
                await self._send(notices)
                await self._outcome(notices, report)

        done = await asyncio.gather(*(one(q) for q in queues.values()), return_exceptions=True)
        failed = [r for r in done if isinstance(r, BaseException)]
        if failed:  # the others were recorded; these profiles' leases run out, then retried
            raise failed[0]
        return report

    async def _claim(self) -> _Batch:
        now, cfg = self.clock(), self.config
        batch = _Batch()
        async with self.db.connection() as conn:
            ex = SQLAlchemyExecutor(conn)
            await store.mark_orphans(ex, now, cfg.batch_size)
            profile_ids = await store.claim_heads(
                ex, now=now, lease=cfg.lease, limit=cfg.batch_size
            )
            if not profile_ids:
                return batch
            batch.events = await store.queues(ex, profile_ids)
            batch.owners = await store.owners(ex, profile_ids)
            people = {o.user_id for o in batch.owners.values() if o.user_id is not None}
            people |= {e.user_id for e in batch.events if e.user_id is not None}
            batch.inboxes = await store.inboxes(ex, sorted(people), list(self.notifiers))
        return batch

    async def _record(
        self,
        events: Sequence[store.QueuedEvent],
        batch: _Batch,
        names: words.Names,
        report: ConsumeReport,
    ) -> list[_Notice]:
        """One profile's events: milestones, reservations, events processed — one commit."""
        now = self.clock()
        notices: list[_Notice] = []
        async with self.db.connection() as conn:
            ex = SQLAlchemyExecutor(conn)
            for event in events:
                owner = batch.owners.get(event.profile_id)
                if owner is None:
                    continue  # the profile was deleted meanwhile (its events go with it)
                new: list[Reached] = []
                for reached in detect(event.type, event.payload):
                    how = "inline" if reached.inline else "sending"
                    if await store.record_milestone(
                        ex,
                        profile_id=event.profile_id,
                        key=reached.key,
                        event_id=event.id,
                        now=now,
                        celebrated=how,
                    ):
                        new.append(reached)
                report.reached += len(new)
                tell = worth_a_notice(new)
                for reached in new:
                    notices += await self._plan(
                        ex,
                        event,
                        owner,
                        reached,
                        tell=tell,
                        batch=batch,
                        names=names,
                        now=now,
                        report=report,
                    )
            await store.mark_processed(ex, [e.id for e in events], now)
        return notices

    async def _plan(
        self,
        ex: SQLAlchemyExecutor,
        event: store.QueuedEvent,
        owner: store.Owner,
        reached: Reached,
        *,
        tell: set[str],
        batch: _Batch,
        names: words.Names,
        now: datetime,
        report: ConsumeReport,
    ) -> list[_Notice]:
        """The notices one new milestone gets, reserved (see the module)."""
        out: list[_Notice] = []
        channel = None
        if (
            owner.band_id is not None
            and owner.announce
            and owner.band_channel is not None
            and not owner.band_unreachable  # removed from its group: the member hears instead
        ):
            if owner.band_platform in self.notifiers:
                channel = (owner.band_platform, owner.band_channel)
        if channel is not None:  # the band hears of every one of its milestones in its channel
            key = store.delivery_key(event.profile_id, reached.key, band=True)
            if await store.reserve(
                ex,
                key=key,
                user_id=None,
                platform=channel[0],
                chat_id=channel[1],
                now=now,
            ):
                text = words.to_band(owner.band_name or "The band", reached, names)
                out.append(
                    _Notice(
                        event.profile_id,
                        reached.key,
                        key,
                        None,
                        channel[0],
                        channel[1],
                        text,
                        band=True,
                    )
                )
        if reached.inline:
            return out
        if reached.key not in tell:
            await store.celebrated(ex, event.profile_id, reached.key, "lower")
            return out
        if channel is not None:
            await store.celebrated(ex, event.profile_id, reached.key, "channel")
            return out
        # a band's milestone without a channel goes to the member whose number reached it
        person = owner.user_id if owner.band_id is None else event.user_id
        inbox = batch.inboxes.get(person) if person is not None else None
        if inbox is None:  # unreachable, or only on a platform this process can't write to
            report.skipped += 1
            await store.celebrated(ex, event.profile_id, reached.key, "skipped")
            return out
        key = store.delivery_key(event.profile_id, reached.key)
        if await store.reserve(
            ex, key=key, user_id=person, platform=inbox.platform, chat_id=inbox.chat_id, now=now
        ):
            locale = owner.locale if owner.band_id is None else None
            text = words.to_musician(reached, names, locale)
            out.append(
                _Notice(
                    event.profile_id,
                    reached.key,
                    key,
                    person,
                    inbox.platform,
                    inbox.chat_id,
                    text,
                    band=False,
                )
            )
        return out

    async def _send(self, notices: Sequence[_Notice]) -> None:
        """One profile's notices, in order."""
        for notice in notices:
            notifier = self.notifiers[notice.platform]
            try:
                notice.result = await notifier.notify(notice.chat_id, [Message(text=notice.text)])
            except Exception as exc:  # the contract says never raise; a bug must not stop
                logger.exception("notifier %s raised for a milestone", notifier.platform)
                notice.result = DeliveryResult(DeliveryStatus.FAILED, type(exc).__name__)
            notice.sent_at = self.clock()

    async def _outcome(self, notices: Sequence[_Notice], report: ConsumeReport) -> None:
        if not notices:
            return
        blocked: set[uuid.UUID] = set()

        async def write() -> None:
            async with self.db.connection() as conn:
                ex = SQLAlchemyExecutor(conn)
                for notice in notices:
                    result = notice.result or DeliveryResult(DeliveryStatus.FAILED, "not sent")
                    status = result.status.value
                    sent_at = notice.sent_at if result.sent else None
                    error = None if result.sent else result.detail[:300]
                    await store.delivered(ex, notice.delivery, status, error, sent_at)
                    if notice.band:
                        if result.sent:
                            await store.announced(ex, notice.profile_id, notice.milestone)
                    else:
                        await store.celebrated(ex, notice.profile_id, notice.milestone, status)
                    if result.status is DeliveryStatus.BLOCKED and notice.user_id is not None:
                        blocked.add(notice.user_id)
                await mark_unreachable(ex, blocked)

        # The notices are out: ride out a database restart rather than lose their outcome
        # (safe to repeat: every write sets absolute values).
        await self.db.retrying(write)
        for notice in notices:
            status = notice.result.status if notice.result else DeliveryStatus.FAILED
            if status is DeliveryStatus.SENT:
                if notice.band:
                    report.announced += 1
                else:
                    report.sent += 1
            elif status is DeliveryStatus.BLOCKED:
                report.blocked += 1
            else:
                report.failed += 1


def _names(catalog: Catalog) -> words.Names:
    """Stage and roadmap titles by slug, from the catalog."""
    titles: dict[str, str] = {}
    for roadmap in catalog.roadmaps:
        titles[roadmap.slug] = roadmap.name
        for stage in roadmap.stages:
            titles.setdefault(stage.slug, stage.title)
    return titles.get


def from_settings(
    db: Database,
    notifiers: Mapping[str, Notifier],
    settings: Settings,
    *,
    clock: Clock,
    catalog: CatalogCache | None = None,
) -> MilestoneConsumer:
    """The consumer a ``coach`` process runs, configured by ``MILESTONES_*``."""
    return MilestoneConsumer(
        db,
        notifiers,
        clock=clock,
        catalog=catalog,
        config=ConsumerConfig(batch_size=settings.milestones_batch_size),
        interval=settings.milestones_tick_seconds,
    )
