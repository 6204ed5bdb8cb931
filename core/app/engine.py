"""The coach: ``await coach.handle(inbound) -> list[Outbound]``, the one door into the core.

Each inbound event is one database transaction. The musician's profile row is locked first
(``SELECT … FOR UPDATE`` on PostgreSQL), so two events of the same profile — a double-tapped
button, two answers at once, two workers — run one after the other and never lose a tick. All
conversation state is in ``conversation_state``; this object holds only the roadmap catalog
snapshot, so any number of workers can serve the same musicians.

This module routes by lookup: each feature declares its commands, buttons and awaited answers
to the registry (``core/<feature>/routes.py``; the list is :data:`core.app.features.FEATURES`),
and :meth:`Coach.route` finds an event's route before any database work. The route's door says
how it runs: in the event's turn, on the account (``/link``), in a band's turn
(:mod:`core.bands.guild`), or at the admin desk in transactions of its own.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import time
import uuid
from collections.abc import Awaitable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError, IntegrityError

from core.accounts import linking, reachability
from core.accounts.deep_links import DeepLinks
from core.accounts.linking import AccountCall
from core.accounts.store import musician_of
from core.admin.access import Access
from core.admin.desk import AdminDesk
from core.admin.ratelimit import SLOW_DOWN, RateLimit, RateLimiter, Verdict
from core.app import replays, start_payloads
from core.app.features import with_own
from core.app.help import help_card
from core.app.private_replies import route as keep_private
from core.bands import guild, invites, presence
from core.bands import store as band_store
from core.clock import Clock, system_clock
from core.coaching.numbers.warmup import ChartWarmer
from core.db.engine import Database
from core.db.executor import Executor
from core.db.failures import busy, connection_lost, describe
from core.kernel import audit, store
from core.kernel.audit import AuditNote
from core.kernel.commands import parse_command
from core.kernel.markup import esc
from core.kernel.offload import InThread, Offload
from core.kernel.payloads import CANCEL, RUN_COMMAND, Payload, decode
from core.kernel.registry import (
    MAX_SUGGESTIONS,
    Asked,
    Button,
    Command,
    Feature,
    Registry,
    Routed,
    Suggest,
    Suggestion,
    place_of,
)
from core.kernel.turn import Turn
from core.kernel.types import (
    MAX_INBOUND_TEXT,
    Inbound,
    Message,
    Outbound,
    Toast,
    clean_text,
    toast_or_message,
)
from core.observe import context as log_context
from core.reminders import plan_kind
from core.roadmaps.catalog import Catalog, CatalogCache

if TYPE_CHECKING:
    from core.observe.metrics import CoachMetrics

logger = logging.getLogger(__name__)

#: Attempts per event when the database reports a retryable conflict.
ATTEMPTS = 3

_RETRYABLE_SQLSTATES = frozenset({"23505", "40001", "40P01"})

SORRY = (
    "Sorry — something went wrong on my side and nothing was changed. "
    "Please try that again in a moment."
)
#: The answer while the database is unreachable (after the retries of core/db/retry.py).
UNREACHABLE = (
    "I can't reach my notebook right now, so nothing was changed. Please try again in a minute."
)
#: The answer when the musician's rows stayed locked past the lock timeout.
BUSY = (
    "Your notebook is busy with something else right now, so nothing was changed. "
    "Please try again in a moment."
)
STALE = "That button is from an older version of me. /today shows your next step."
SET_UP_FIRST = "Let's get you set up first."
#: A band's command where there is no band: a direct chat, a Telegram group that is no band
#: (yet: /band create makes it one) or the terminal, which has no band mode.
BAND_ONLY = (
    "/{command} is for a band, and bands live in a Discord server or a Telegram group: use it "
    "in your band's chat (/band help there). Here it's just you — /review sums up your own week."
)
#: The answer to an answer form whose question is no longer the open one.
FORM_GONE = (
    "That answer form is for a question that isn't open any more — someone asked something "
    "else since. Nothing was saved: /today shows what's open."
)
#: What :meth:`Coach.suggest` reads of the typed text (a name, a title: longer matches nothing).
SUGGEST_TYPED_MAX = 100


def _retryable(exc: Exception) -> bool:
    """A conflict that a second attempt resolves: a unique race, a serialisation failure, a
    deadlock — whether SQLAlchemy (SQLite) or asyncpg (the PostgreSQL hot path) raised it."""
    if isinstance(exc, IntegrityError):
        return True  # e.g. two first messages of a new musician racing to create the identity
    origin = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(origin, "sqlstate", None) or getattr(origin, "pgcode", None)
    return code in _RETRYABLE_SQLSTATES


def _failure(inbound: Inbound, exc: Exception, what: str) -> list[Outbound]:
    """The answer to an event whose transaction failed for good, and what goes in the log.

    An unreachable database was already logged once for the whole outage (core/db/retry.py),
    so each event of it adds nothing but a debug line; a lock timeout is one line without a
    traceback; anything else is a bug and gets its traceback.
    """
    if connection_lost(exc):
        logger.debug("database unreachable; answered %s event with UNREACHABLE", what)
        return [toast_or_message(inbound, UNREACHABLE)]
    if busy(exc):
        logger.warning("%s event gave up waiting for a lock: %s", what, describe(exc))
        return [toast_or_message(inbound, BUSY)]
    logger.exception("error while handling %s event", what)
    return [Message(text=SORRY)]


class Coach:
    """The platform-agnostic coach. Front ends hold one and call :meth:`handle`."""

    def __init__(
        self,
        db: Database,
        *,
        catalog: CatalogCache | None = None,
        clock: Clock = system_clock,
        admins: Iterable[str] = (),
        rate_limit: RateLimit | None = None,
        roadmaps_dir: Path | None = None,
        link_secret: str | None = None,
        telegram_bot: str | None = None,
        offload: Offload | None = None,
        warm_charts: bool = False,
        metrics: CoachMetrics | None = None,
    ) -> None:
        self.db = db
        #: Events, their latency and failures (``coach run`` exposes them on ``/metrics``);
        #: ``None``: not counted (library use, tests, the terminal).
        self.metrics = metrics
        #: The HMAC key of stored ``/link`` and invite codes (COACH_LINK_SECRET;
        #: core/accounts/linking.py) and the Telegram bot's username, for invites' and /link's
        #: deep links (``TELEGRAM_BOT_USERNAME``, or told by the Telegram front end at its
        #: start: :meth:`DeepLinks.know_telegram_bot`; core/accounts/deep_links.py).
        self.links = DeepLinks(linking.link_key(link_secret), telegram_bot)
        #: Codes one person may try (band invites), in memory per worker like :attr:`limiter`
        #: — a bound on guessing and on a flood of lookups, not a quota (core/bands/invites.py).
        self.redeems = RateLimiter(RateLimit(invites.TRIES, invites.TRY_WINDOW_SECONDS))
        self.catalog = catalog or CatalogCache()
        self._clock = clock
        #: Who may do what (bot admins from ``admins``, i.e. COACH_ADMINS; roles in the db).
        self.access = Access(db, admins)
        #: ``/admin``, ``/export``, ``/forget``, ``/broadcasts`` and their buttons.
        self.desk = AdminDesk(
            db, access=self.access, catalog=self.catalog, clock=clock, roadmaps_dir=roadmaps_dir
        )
        #: Every command, button and awaited answer, declared by the features (and the coach's
        #: own: /help, the cancel button, buttons that run a command).
        self.registry = Registry(with_own(self._own_feature()))
        self._bare = self.registry.bare_words()
        #: Per-person inbound limit (None: unlimited — library use, tests, benchmarks, the
        #: terminal; ``coach run`` sets it from COACH_RATE_LIMIT, default 20 events per 10 s).
        self.limiter = RateLimiter(rate_limit) if rate_limit is not None else None
        #: Where CPU-bound work (the ``/stats`` chart) runs: the worker processes of
        #: ``coach run`` / ``coach chat`` (``chart_workers()``), else a thread (library use,
        #: tests, benchmarks that don't ask for processes). Released by :meth:`close`.
        self.offload: Offload = offload if offload is not None else InThread()
        #: Redraws a profile's ``/stats`` chart in the background after an event changed what
        #: it shows (``warm_charts=True``: ``coach run``, ``coach chat``); ``None``: ``/stats``
        #: draws on demand only.
        self.charts = ChartWarmer(db, clock=clock, offload=self.offload) if warm_charts else None

    async def close(self) -> None:
        """Stop the coach's own background work: the chart warm-ups (dropped or cancelled),
        then the worker processes. Call it after the front ends stopped handing over events;
        the coach may be used again afterwards (a new pool starts on demand)."""
        if self.charts is not None:
            await self.charts.close()
        await self.offload.close()

    @property
    def clock(self) -> Clock:
        """The process's one clock (read-only: every part shares this very object)."""
        return self._clock

    async def report_reachability(
        self, platform: str, external_id: str, *, reachable: bool
    ) -> bool:
        """A front end learned that this person can't be reached (they blocked the bot, deleted
        their account) or can be again (they unblocked it). The front ends' one way to say so:
        becoming unreachable pauses their reminders (core/accounts/reachability.py). False when
        we don't know them."""
        return await reachability.set_reachable(self.db, platform, external_id, reachable=reachable)

    async def report_band_reachability(
        self, platform: str, server_id: str, *, reachable: bool
    ) -> bool:
        """A front end learned that a band's chat can't be reached (the bot was removed from
        the Telegram group, or it was deleted) or can be again (the bot was added back): the
        band is kept, its notices skipped meanwhile (core/bands/presence.py). False when that
        server has no band."""
        return await presence.set_reachable(self.db, platform, server_id, reachable=reachable)

    async def has_band(self, platform: str, server_id: str) -> bool:
        """Whether a band is bound to this server (a Telegram group): its cards are the
        band's, so any member's press edits them (bot/telegram/placement.py). One read."""
        return await presence.bound(self.db, platform, server_id)

    async def move_server(self, platform: str, old: str, new: str) -> bool:
        """A front end learned that a server's id changed (a Telegram group upgraded to a
        supergroup): its band, channel and band reminders move to ``new`` in one transaction
        (core/bands/presence.py). False when ``old`` has no band (any more)."""
        return await presence.move_server(self.db, platform, old, new)

    def log_event(self, inbound: Inbound) -> contextlib.AbstractContextManager[object]:
        """Within the block, log lines carry ``inbound``'s platform, update id and hashed
        person (:mod:`core.observe.context`). :meth:`handle` sets it itself; a front end
        opens it where the event arrives, so its own lines about sending the replies carry
        it too."""
        current = log_context.current()
        if (
            current is not None
            and current.platform == inbound.platform
            and current.event_id == inbound.update_id
            and inbound.update_id is not None
        ):
            return contextlib.nullcontext()  # the front end set it already: no second hash
        return log_context.event(inbound.platform, inbound.user_id, inbound.update_id)

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Handle one event in one transaction and return the replies to show.

        Never raises for bad input: a failure is logged and answered with a short apology, and
        the transaction is rolled back so nothing half-done is stored. Every reply leaves
        through :func:`~core.app.private_replies.route`, so a reply marked private
        never stays in a shared chat, whichever flow made it.
        """
        with self.log_event(inbound):
            if self.metrics is None:
                return keep_private(inbound, await self._replies(inbound))
            started = time.perf_counter()
            replies = keep_private(inbound, await self._replies(inbound))
            self.metrics.event(inbound.platform, inbound.kind, time.perf_counter() - started)
            return replies

    def _failed(self, inbound: Inbound, exc: Exception, what: str) -> list[Outbound]:
        if self.metrics is not None:
            self.metrics.error(inbound.platform)
        return _failure(inbound, exc, what)

    async def _replies(self, inbound: Inbound) -> list[Outbound]:
        if self.limiter is not None:
            verdict = self.limiter.check(f"{inbound.platform}:{inbound.user_id}")
            if verdict is Verdict.DROP:
                return []
            if verdict is Verdict.WARN:
                return [toast_or_message(inbound, SLOW_DOWN)]
        routed = self.route(inbound)
        # A lost connection (a database restart) is retried with a short back-off
        # (Database.retrying): a repeated event is safe, its update id is recorded in its own
        # transaction. The admin desk's steps are safe to repeat too (docs/architecture.md).
        if routed.door == "desk":
            return await self._desk(inbound, routed)

        async def attempt() -> list[Outbound]:
            for conflict in range(1, ATTEMPTS + 1):
                try:
                    catalog = await self.catalog.current(self.db)
                    audits: list[AuditNote] = []
                    redraw: list[uuid.UUID] = []
                    async with self.db.unit_of_work() as ex:
                        replies = await self._handle(
                            ex, catalog, inbound, routed, audits=audits, redraw=redraw
                        )
                    await self._audit(audits)
                    self._warm(redraw)
                    return replies
                except Exception as exc:
                    if conflict < ATTEMPTS and _retryable(exc):
                        logger.info(
                            "retrying event after %s (attempt %d)", type(exc).__name__, conflict
                        )
                        continue
                    raise
            raise AssertionError("unreachable: the last attempt returns")  # pragma: no cover

        try:
            return await self.db.retrying(attempt)
        except Exception as exc:
            return self._failed(inbound, exc, f"a {inbound.kind}")

    async def suggest(self, source: Suggest, typed: str, inbound: Inbound) -> list[Suggestion]:
        """Values to offer while someone types an option that names ``source`` (Discord's
        autocomplete), from the feature that knows them: timezones, or the tasks and members
        of the band of ``inbound``'s server (nothing for someone outside it).

        At most :data:`~core.kernel.registry.MAX_SUGGESTIONS`. Read-only and never raises: a
        failure is logged and offers nothing (typing goes on; the command is checked when
        sent). Not rate limited either: the platform sends one per keystroke pause.
        """
        suggester = self.registry.suggester(source)
        if suggester is None:
            return []
        asked = Asked(self.db, self.catalog, inbound, clean_text(typed)[:SUGGEST_TYPED_MAX])
        try:
            found = await suggester(asked)
        except Exception:
            logger.exception("suggestions of %s failed", source)
            return []
        return found[:MAX_SUGGESTIONS]

    def _own_feature(self) -> Feature:
        """The coach's own routes: /help reads the registry, the cancel button asks the
        feature whose question is open (a button that runs a command is routed as that command
        by :meth:`route`)."""
        own = Feature("coach")
        own.command("help", "Every command, one line each", before_setup=True, bare=True)(
            self._help
        )
        own.button(CANCEL, before_setup=True)(self._cancel_button)
        return own

    def route(self, inbound: Inbound) -> Routed:
        """What an event is (pure, no I/O): its route in the registry, its arguments."""
        place = place_of(inbound.chat_type)
        if inbound.kind == "button":
            payload = decode(inbound.payload)
            if payload is None:
                return Routed()  # stale: dispatch answers STALE
            if payload.action == RUN_COMMAND.name:
                name = payload.args[0]
                return Routed(self.registry.command(name, place), command=name)
            return Routed(self.registry.button(payload, place), payload=payload)
        if len(inbound.text) > MAX_INBOUND_TEXT:
            return Routed()
        text = clean_text(inbound.text)
        command = parse_command(text)
        if command is None:
            return Routed(text=text)
        found = self.registry.command(command.name, place)
        solo_only = (
            found is None
            and place == "band"
            and self.registry.command(command.name, "private") is not None
        )
        band_only = (
            found is None
            and place != "band"
            and self.registry.command(command.name, "band") is not None
        )
        return Routed(
            found,
            command=command.name,
            args=command.args,
            solo_only=solo_only,
            band_only=band_only,
            text=text,
        )

    async def _desk(self, inbound: Inbound, routed: Routed) -> list[Outbound]:
        """The admin desk, replay-safe: its commands run in transactions of their own, so the
        update id is checked before and recorded after (``replays``): an update handled
        before a crash and handed over again from the inbox is not answered twice."""
        update_id = inbound.update_id
        try:
            if update_id is not None and await self.db.retrying(
                lambda: replays.already_handled(self.db, inbound.platform, update_id)
            ):
                logger.debug("duplicate update %s:%s ignored", inbound.platform, update_id)
                return []
            route = routed.route
            assert route is not None  # noqa: S101 - only desk routes come here
            argument = routed.payload if routed.payload is not None else routed.args
            replies = await self.db.retrying(lambda: route.handler(self.desk, inbound, argument))
        except Exception as exc:  # not recorded: nothing (or not all) was done, a replay may
            return self._failed(inbound, exc, "an admin/privacy")
        if update_id is not None:
            await replays.mark_handled(self.db, inbound.platform, update_id, self.clock())
        return replies

    def _warm(self, profiles: list[uuid.UUID]) -> None:
        """Have the charts of ``profiles`` redrawn in the background (after the commit: the
        warm-up reads what this event wrote). Nothing without a warmer."""
        if self.charts is not None:
            for profile_id in profiles:
                self.charts.warm(profile_id)

    async def _audit(self, notes: list[AuditNote]) -> None:
        """Write the audit rows an event asked for, after its transaction (own transactions)."""
        for note in notes:
            try:
                await audit.record(
                    self.db,
                    actor=note.actor,
                    action=note.action,
                    outcome=note.outcome,
                    target=note.target,
                    actor_user_id=note.actor_user_id,
                    details=note.details,
                )
            except Exception:  # the answer stands; a lost audit row is logged loudly
                logger.exception("could not write audit row %s %s", note.action, note.outcome)

    async def _handle(
        self,
        ex: Executor,
        catalog: Catalog,
        inbound: Inbound,
        routed: Routed,
        *,
        audits: list[AuditNote],
        redraw: list[uuid.UUID],
    ) -> list[Outbound]:
        now = self.clock()
        states = self.registry.states
        band_event = await self._band_event(ex, inbound, routed)
        if band_event is not None:
            # a server chat acts on the server's band profile (core/bands/guild.py)
            as_band, band_routed, band = band_event
            return await guild.handle(
                ex,
                catalog,
                as_band,
                now,
                event=band_routed,
                run=lambda turn: self._dispatch_dated(turn, band_routed, redraw),
                audits=audits,
                states=states,
                offload=self.offload,
                links=self.links,
                band=band,
            )
        loaded = await store.load_turn(
            ex, inbound.platform, inbound.user_id, inbound.update_id, now
        )
        if not loaded.fresh:
            logger.debug("duplicate update %s:%s ignored", inbound.platform, inbound.update_id)
            return []
        rec = loaded.record
        is_new = rec is None
        if rec is None:
            rec = await musician_of(ex, inbound, now)
        route = routed.route
        if route is not None and route.door == "account":  # on the account, not a turn
            return await route.handler(self._account(ex, inbound, rec, now, audits), routed.args)
        before: list[Outbound] = []
        if start_payloads.carries(inbound, route, routed.args):  # a deep link's /start <payload>
            call = self._account(ex, inbound, rec, now, audits)
            before, go_on = await start_payloads.handle(call, routed.args)
            if not go_on:
                return before
        turn = Turn(
            ex,
            inbound,
            rec,
            catalog,
            now,
            is_new=is_new,
            states=states,
            audits=audits,
            offload=self.offload,
        )
        replies = await self._dispatch_dated(turn, routed, redraw)
        await turn.flush()
        return before + replies

    def _account(
        self,
        ex: Executor,
        inbound: Inbound,
        rec: store.TurnRecord,
        now: datetime,
        audits: list[AuditNote],
    ) -> AccountCall:
        """An account-door call: the person's rows, codes' key and links, their code tries."""
        who = f"{inbound.platform}:{inbound.user_id}"
        return AccountCall(
            ex,
            inbound,
            rec,
            now,
            audits,
            self.links,
            lambda: self.redeems.check(who) is Verdict.ALLOW,
        )

    async def _band_event(
        self, ex: Executor, inbound: Inbound, routed: Routed
    ) -> tuple[Inbound, Routed, band_store.BandRow | None] | None:
        """The event as a band event, when it is one, with its band when that was read here
        (:func:`core.bands.guild.handle` then doesn't read it again); ``None`` for the solo path.

        A Discord server's chat (``guild``) is always a band chat. A group that names its
        server (a Telegram group: ``server_id`` is the group's own chat id) is one when a band
        is bound to it, or when ``/band`` is asked there (to create one, or to hear there is
        none yet); any other group event stays on the solo path, each member on their own
        profile, as before bands came to groups. A band group's event is then routed as the
        band's (``guild``: the band's commands, the band's profile) — only for the core: the
        front end still sees its group event, and the private-reply gate still the shared
        chat it came from."""
        if inbound.server_id is None or inbound.chat_type == "private":
            return None
        if inbound.chat_type == "guild":
            return inbound, routed, None
        band = None
        if routed.command != "band":
            band = await band_store.band_for_server(ex, inbound.platform, inbound.server_id)
            if band is None:
                return None
        as_band = inbound.model_copy(update={"chat_type": "guild"})
        return as_band, self.route(as_band), band

    async def _dispatch_dated(
        self, turn: Turn, routed: Routed, redraw: list[uuid.UUID]
    ) -> list[Outbound]:
        """:meth:`dispatch`, then the plan reminder moved when the event changed the profile's
        anchor dates (a release date set, changed or undone): in the same transaction, so the
        reminder and the date never disagree. Here and not in the journey, which sets the
        dates but sits below the reminders (the import layers).

        And the profile noted in ``redraw`` when the event changed what its ``/stats`` chart
        shows: its numbers or goals (``current_stats`` is only ever replaced, never changed in
        place — a new number, a goal, an undo) or its name (the title). The chart is redrawn
        after the commit (:meth:`_warm`)."""
        before = dict(turn.rec.anchors or {})
        stats, name = turn.rec.current_stats, turn.rec.artist_name
        replies = await self.dispatch(turn, routed)
        if (turn.rec.anchors or {}) != before:
            await plan_kind.sync(turn)
        if turn.rec.current_stats is not stats or turn.rec.artist_name != name:
            redraw.append(turn.rec.profile_id)
        return replies

    async def dispatch(self, turn: Turn, routed: Routed) -> list[Outbound]:
        """One event in its turn: a button, a command or free text, by the registry.

        The part of :meth:`handle` that knows nothing of transactions: given a turn (whatever
        store its rows are in) and the event's route (:meth:`route`), it runs the flow and
        returns its replies; the caller flushes the turn. Public because that is exactly what
        a unit test of a flow needs — ``tests/support/memory.py`` runs the real routing and
        this real dispatch on an in-memory store, without a database — and because the band
        path (:mod:`core.bands.guild`) runs it in a band's turn.
        """
        inbound = turn.inbound
        if inbound.kind == "button":
            if routed.command is not None:  # a button that runs a command
                return await self._command(turn, routed.command, "", routed.route)
            route = routed.route
            if routed.payload is None or route is None or route.door != "turn":
                return [Toast(text=STALE)]
            if self._before_setup(turn, route):
                return [Toast(text=SET_UP_FIRST), *self._setup_prompt(turn)]
            return await route.handler(turn, routed.payload)
        if len(inbound.text) > MAX_INBOUND_TEXT:
            return [
                Message(
                    text=f"That message is too long for me ({len(inbound.text):,} characters; "
                    f"I read up to {MAX_INBOUND_TEXT:,}). Could you send a shorter one?"
                )
            ]
        if routed.band_only and routed.command is not None:
            return [Message(text=BAND_ONLY.format(command=esc(routed.command[:32])))]
        if routed.command is not None:
            return await self._command(turn, routed.command, routed.args, routed.route)
        if inbound.kind == "command":
            return [Message(text="I didn't catch that command. /help lists what I can do.")]
        return await self._text(turn, routed.text)

    def _before_setup(self, turn: Turn, route: Command | Button) -> bool:
        """Whether the profile still lacks what every route but ``before_setup`` ones need."""
        setup = self.registry.setup
        return setup is not None and not route.before_setup and setup.needed(turn)

    def _setup_prompt(self, turn: Turn) -> list[Outbound]:
        setup = self.registry.setup
        return [] if setup is None else setup.prompt(turn)

    async def _command(
        self, turn: Turn, name: str, args: str, route: Command | Button | None
    ) -> list[Outbound]:
        """Run a command in the turn; ``route`` is what :meth:`route` already found for it."""
        if not isinstance(route, Command) or route.door != "turn":
            suggestion = difflib.get_close_matches(
                name, sorted(self.registry.names), n=1, cutoff=0.6
            )
            hint = f" Did you mean /{suggestion[0]}?" if suggestion else ""
            return [
                Message(
                    text=f"I don't know the command /{esc(name[:32])}.{hint} "
                    "/help lists everything I can do."
                )
            ]
        if self._before_setup(turn, route):
            return [Message(text=SET_UP_FIRST), *self._setup_prompt(turn)]
        return await route.handler(turn, args)

    async def _text(self, turn: Turn, text: str) -> list[Outbound]:
        """Free text: the open question's answer, a bare command word, or small talk."""
        answers = turn.inbound.answers
        if answers is not None and answers != turn.form:
            # an answer form opened for another question (in a band, someone asked something
            # else since): not an answer to whatever is open now
            return [Message(text=FORM_GONE, ephemeral=True)]
        state = turn.awaiting
        setup = self.registry.setup
        if state is None and setup is not None and setup.needed(turn):
            state = setup.state
        route = self.registry.text(state)
        if route is not None and route.first and (text or route.empty):
            return await _answered(route.handler(turn, text))
        if not text:
            return [Message(text="I got an empty message. /today shows your next step.")]
        word = text.casefold().strip(" .!")
        if word in self._bare:
            place = place_of(turn.inbound.chat_type)
            return await self._command(turn, word, "", self.registry.command(word, place))
        if route is not None:
            replies = await route.handler(turn, text)
            if replies is not None:
                return replies
        if self.registry.idle_text is not None:
            return await self.registry.idle_text(turn, text)
        return [Message(text="/help lists everything I can do.")]  # pragma: no cover

    # ------------------------------------------------------------------ the coach's own routes

    async def _help(self, turn: Turn, _args: str) -> list[Outbound]:
        place = place_of(turn.inbound.chat_type)
        return [help_card(self.registry.menu(place), place == "band")]

    async def _cancel_button(self, turn: Turn, _payload: Payload) -> list[Outbound]:
        cancel = self.registry.cancel(turn.awaiting)
        if cancel is None:
            return [Toast(text="Nothing to cancel.")]
        return await cancel(turn)


async def _answered(replies: Awaitable[list[Outbound] | None]) -> list[Outbound]:
    """A first-claim text route always answers (``None`` is only for fall-through routes)."""
    return await replies or []
