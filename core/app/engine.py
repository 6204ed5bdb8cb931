"""The coach: ``await coach.handle(inbound) -> list[Outbound]``, the one door into the core.

Each inbound event is one database transaction. The musician's profile row is locked first
(``SELECT … FOR UPDATE`` on PostgreSQL), so two events of the same profile — a double-tapped
button, two answers at once, two workers — run one after the other and never lose a tick. All
conversation state is in ``conversation_state``; this object holds only the roadmap catalog
snapshot, so any number of workers can serve the same musicians.

This module routes; the flows live in their own modules: ``onboarding`` (/start, name, roadmap
choice and switching), ``checklist`` (ticks), ``answers`` (data inputs), ``history`` (skip,
undo), ``views`` (/progress, /stats) and ``navigation`` (what's next, stage advances).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.exc import DBAPIError, IntegrityError

from core.accounts import linking
from core.accounts.store import create_musician
from core.admin.access import Access
from core.admin.desk import AdminDesk
from core.admin.ratelimit import SLOW_DOWN, RateLimit, RateLimiter, Verdict
from core.app import replays
from core.app.private_replies import route as keep_private
from core.bands import guild
from core.clock import Clock, system_clock
from core.db.engine import Database
from core.db.executor import Executor
from core.db.failures import busy, connection_lost, describe
from core.journey import answers, cards, checklist, history, onboarding, views
from core.journey.navigation import ask_name, offer_roadmaps, today
from core.kernel import audit, store
from core.kernel.audit import AuditNote
from core.kernel.commands import COMMAND_NAMES, parse_command
from core.kernel.markup import bold, esc
from core.kernel.payloads import Payload, decode
from core.kernel.turn import Turn
from core.kernel.types import MAX_INBOUND_TEXT, Inbound, Outbound, clean_text
from core.reminders import chat as reminder_chat
from core.roadmaps.catalog import Catalog, CatalogCache

logger = logging.getLogger(__name__)

#: Attempts per event when the database reports a retryable conflict.
ATTEMPTS = 3

_YES = frozenset({"yes", "y", "yeah", "yep", "correct", "right", "sure", "ok", "okay", "👍"})
_NO = frozenset({"no", "n", "nope", "wrong", "cancel", "👎"})
_BARE_COMMANDS = frozenset({"skip", "undo", "help", "today", "progress", "cancel", "stats"})
_GREETINGS = frozenset({"hi", "hello", "hey", "hallo", "hola", "yo"})
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
    toast = inbound.kind == "button"
    if connection_lost(exc):
        logger.debug("database unreachable; answered %s event with UNREACHABLE", what)
        return [Outbound(text=UNREACHABLE, toast=toast)]
    if busy(exc):
        logger.warning("%s event gave up waiting for a lock: %s", what, describe(exc))
        return [Outbound(text=BUSY, toast=toast)]
    logger.exception("error while handling %s event", what)
    return [Outbound(text=SORRY)]


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
    ) -> None:
        self.db = db
        #: The HMAC key of stored ``/link`` codes (COACH_LINK_SECRET; core/accounts/linking.py).
        self.link_key = linking.link_key(link_secret)
        self.catalog = catalog or CatalogCache()
        self._clock = clock
        #: Who may do what (bot admins from ``admins``, i.e. COACH_ADMINS; roles in the db).
        self.access = Access(db, admins)
        #: ``/admin``, ``/export``, ``/forget``, ``/broadcasts`` and their buttons.
        self.desk = AdminDesk(
            db, access=self.access, catalog=self.catalog, clock=clock, roadmaps_dir=roadmaps_dir
        )
        #: Per-person inbound limit (None: unlimited — library use, tests, benchmarks, the
        #: terminal; ``coach run`` sets it from COACH_RATE_LIMIT, default 20 events per 10 s).
        self.limiter = RateLimiter(rate_limit) if rate_limit is not None else None

    @property
    def clock(self) -> Clock:
        """The process's one clock (read-only: every part shares this very object)."""
        return self._clock

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Handle one event in one transaction and return the replies to show.

        Never raises for bad input: a failure is logged and answered with a short apology, and
        the transaction is rolled back so nothing half-done is stored. Every reply leaves
        through :func:`~core.app.private_replies.route`, so a reply marked private
        never stays in a shared chat, whichever flow made it.
        """
        return keep_private(inbound, await self._replies(inbound))

    async def _replies(self, inbound: Inbound) -> list[Outbound]:
        if self.limiter is not None:
            verdict = self.limiter.check(f"{inbound.platform}:{inbound.user_id}")
            if verdict is Verdict.DROP:
                return []
            if verdict is Verdict.WARN:
                return [Outbound(text=SLOW_DOWN, toast=inbound.kind == "button")]
        # A lost connection (a database restart) is retried with a short back-off
        # (Database.retrying): a repeated event is safe, its update id is recorded in its own
        # transaction. The admin desk's steps are safe to repeat too (docs/architecture.md).
        if self.desk.claims(inbound):
            return await self._desk(inbound)

        async def attempt() -> list[Outbound]:
            for conflict in range(1, ATTEMPTS + 1):
                try:
                    catalog = await self.catalog.current(self.db)
                    audits: list[AuditNote] = []
                    async with self.db.unit_of_work() as ex:
                        replies = await self._handle(ex, catalog, inbound, audits)
                    await self._audit(audits)
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
            return _failure(inbound, exc, f"a {inbound.kind}")

    async def _desk(self, inbound: Inbound) -> list[Outbound]:
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
            replies = await self.db.retrying(lambda: self.desk.handle(inbound))
        except Exception as exc:  # not recorded: nothing (or not all) was done, a replay may
            return _failure(inbound, exc, "an admin/privacy")
        if update_id is not None:
            await replays.mark_handled(self.db, inbound.platform, update_id, self.clock())
        return replies

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
        audits: list[AuditNote] | None = None,
    ) -> list[Outbound]:
        now = self.clock()
        if inbound.chat_type == "guild" and inbound.server_id is not None:
            # a server chat acts on the server's band profile (core/bands/guild.py)
            notes = audits if audits is not None else []
            return await guild.handle(
                ex, catalog, inbound, now, dispatch=self._dispatch, audits=notes
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
            rec = await create_musician(
                ex,
                platform=inbound.platform,
                external_id=inbound.user_id,
                display_name=inbound.display_name,
                locale=inbound.locale,
                now=now,
            )
        if inbound.kind == "command":  # /link and /unlink act on the account, not a turn
            command = parse_command(clean_text(inbound.text))
            if command is not None and command.name in {"link", "unlink"}:
                return await linking.handle(
                    ex,
                    inbound,
                    rec,
                    command=command.name,
                    args=command.args,
                    now=now,
                    audits=audits if audits is not None else [],
                    key=self.link_key,
                )
        turn = Turn(ex, inbound, rec, catalog, now, is_new=is_new)
        replies = await self._dispatch(turn)
        await turn.flush()
        return replies

    async def _dispatch(self, turn: Turn) -> list[Outbound]:
        inbound = turn.inbound
        if inbound.kind == "button":
            return await self._on_button(turn, decode(inbound.payload))
        if len(inbound.text) > MAX_INBOUND_TEXT:
            return [
                Outbound(
                    text=f"That message is too long for me ({len(inbound.text):,} characters; "
                    f"I read up to {MAX_INBOUND_TEXT:,}). Could you send a shorter one?"
                )
            ]
        text = clean_text(inbound.text)
        command = parse_command(text)
        if command is not None:
            return await self._on_command(turn, command.name, command.args)
        if inbound.kind == "command":
            return [Outbound(text="I didn't catch that command. /help lists what I can do.")]
        return await self._on_text(turn, text)

    # ------------------------------------------------------------------ commands

    async def _on_command(self, turn: Turn, name: str, args: str) -> list[Outbound]:
        if name == "start":
            return await onboarding.start(turn)
        if name == "help":
            return [cards.help_card()]
        if turn.rec.artist_name is None and name not in {"name", "cancel"}:
            return [Outbound(text="Let's get you set up first."), *ask_name(turn)]
        match name:
            case "today":
                return await today(turn)
            case "progress":
                return await views.progress(turn)
            case "roadmap":
                return onboarding.roadmap_card(turn)
            case "stats":
                return await views.stats(turn)
            case "skip":
                return await history.skip(turn, None)
            case "undo":
                return await history.undo(turn)
            case "name":
                if args:
                    return await onboarding.set_name(turn, args)
                return onboarding.name_prompt(turn)
            case "remind" | "timezone" | "quiet":
                return await reminder_chat.command(turn, name, args)
            case "cancel":
                if turn.awaiting in {None, "checklist"}:
                    return [Outbound(text="Nothing to cancel. /today shows your next step.")]
                turn.set_state(None)
                return [Outbound(text="OK, dropped. /today brings your next task back.")]
        suggestion = difflib.get_close_matches(name, sorted(COMMAND_NAMES), n=1, cutoff=0.6)
        hint = f" Did you mean /{suggestion[0]}?" if suggestion else ""
        return [
            Outbound(
                text=f"I don't know the command /{esc(name[:32])}.{hint} "
                "/help lists everything I can do."
            )
        ]

    # ------------------------------------------------------------------ buttons

    async def _on_button(self, turn: Turn, payload: Payload | None) -> list[Outbound]:
        if payload is None:
            return [Outbound(text=STALE, toast=True)]
        if turn.rec.artist_name is None and payload.action not in {"cmd", "cancel"}:
            return [Outbound(text="Let's get you set up first.", toast=True), *ask_name(turn)]
        args = payload.args
        match payload.action:
            case "cmd":
                return await self._on_command(turn, args[0], "")
            case "cancel":
                return await self._cancel_question(turn)
            case "pick" | "ask_switch":
                roadmap = turn.catalog.roadmap_by_slug(args[0])
                if roadmap is None:
                    note = Outbound(text="That roadmap isn't available anymore.", toast=True)
                    return [note, *offer_roadmaps(turn, first_time=False)]
                if payload.action == "pick" and turn.rec.roadmap_id is None:
                    return await onboarding.choose_roadmap(turn, roadmap)
                return onboarding.ask_switch(turn, roadmap)
            case "switch":
                roadmap = turn.catalog.roadmap_by_slug(args[0])
                if (
                    turn.awaiting != "confirm_switch"
                    or turn.rec.state_data.get("roadmap") != args[0]
                    or roadmap is None
                ):
                    return [
                        Outbound(
                            text="That question has expired — nothing changed. "
                            "Use /roadmap to switch.",
                            toast=True,
                        )
                    ]
                return await onboarding.choose_roadmap(turn, roadmap)
            case "tick" | "untick":
                want = payload.action == "tick"
                return await checklist.tick(turn, args[0], args[1], want, from_button=True)
            case "skip":
                return await history.skip(turn, args[0])
            case "confirm":
                return await answers.confirm(turn, args[0], args[1] == "y")
            case "nudge" | "reminders":
                return await reminder_chat.button(turn, payload)
        return [Outbound(text=STALE, toast=True)]  # pragma: no cover - every action is routed

    async def _cancel_question(self, turn: Turn) -> list[Outbound]:
        if turn.awaiting == "confirm_value":
            turn.set_state(None)
            return [Outbound(text="OK, not saved.", edit=True), *await today(turn)]
        if turn.awaiting == "confirm_switch":
            turn.set_state(None)
            return [Outbound(text="OK, staying where you are.", edit=True)]
        return [Outbound(text="Nothing to cancel.", toast=True)]

    # ------------------------------------------------------------------ free text

    async def _on_text(self, turn: Turn, text: str) -> list[Outbound]:
        awaiting = turn.awaiting
        word = text.casefold().strip(" .!")
        if awaiting == "artist_name" or (turn.rec.artist_name is None and awaiting is None):
            if not text:
                return [Outbound(text="What's your artist name? Just type it.")]
            return await onboarding.set_name(turn, text)
        if not text:
            return [Outbound(text="I got an empty message. /today shows your next step.")]
        if awaiting == "confirm_value":
            task = turn.state_task
            if task is not None and (word in _YES or word in _NO):
                return await answers.confirm(turn, task.slug, word in _YES)
            turn.set_state("answer", task)
            return await answers.answer(turn, text)
        if awaiting == "confirm_switch":
            roadmap = turn.catalog.roadmap_by_slug(str(turn.rec.state_data.get("roadmap", "")))
            if word in _YES and roadmap is not None:
                return await onboarding.choose_roadmap(turn, roadmap)
            if word in _NO:
                turn.set_state(None)
                return [Outbound(text="OK, staying where you are.")]
            return [Outbound(text="Please answer yes or no — or use the buttons above.")]
        if word in _BARE_COMMANDS:
            return await self._on_command(turn, word, "")
        if awaiting == "roadmap" or turn.rec.roadmap_id is None:
            return await onboarding.roadmap_by_text(turn, text)
        if awaiting == "answer":
            return await answers.answer(turn, text)
        if awaiting == "checklist":
            handled = await checklist.tick_by_text(turn, text)
            if handled is not None:
                return handled
        if word in _GREETINGS:
            name = bold(esc(turn.rec.artist_name or ""))
            return [Outbound(text=f"Hey {name}! 👋 /today shows your next step.")]
        return [
            Outbound(
                text="I'm not waiting for an answer right now, so I'm not sure what to do with "
                "that. /today shows your next step, /help lists everything I can do."
            )
        ]
