"""The coach: ``await coach.handle(inbound) -> list[Outbound]``, the one door into the core.

Each inbound event is one database transaction. The musician's profile row is locked first
(``SELECT … FOR UPDATE`` on PostgreSQL), so two events of the same profile — a double-tapped
button, two answers at once, two workers — run one after the other and never lose a tick. All
conversation state is in ``conversation_state``; this object holds only the roadmap catalog
snapshot, so any number of workers can serve the same musicians.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.conversation import cards
from core.conversation.commands import COMMAND_NAMES, parse_command
from core.conversation.markup import bold, esc, italic
from core.conversation.payloads import Payload, decode, encode
from core.conversation.types import MAX_INBOUND_TEXT, Button, Inbound, Outbound
from core.db.base import utcnow
from core.db.engine import Database
from core.db.models import (
    ConversationState,
    Event,
    Identity,
    ProcessedUpdate,
    Profile,
    StatSample,
    User,
    UserTaskProgress,
)
from core.progress.charts import render_stats_chart
from core.progress.parsing import InvalidAnswer, Parsed, example_answer, is_far_from, parse_answer
from core.progress.service import (
    DONE,
    first_open_stage,
    next_task,
    progress_rows,
    stage_done,
    ticked_items,
)
from core.roadmaps.catalog import Catalog, CatalogCache, RoadmapInfo, StageInfo, TaskInfo

logger = logging.getLogger(__name__)

ARTIST_NAME_MAX = 60
#: How much farther than the last figure an answer may be before the coach asks "are you sure?".
OUTLIER_FACTOR = 10
#: Activity timestamps are refreshed at most this often (seconds), to spare an UPDATE per event.
ACTIVITY_RESOLUTION = 60
#: How many recent samples ``/stats`` reads for its figures and chart.
STATS_SAMPLES = 2000
#: Attempts per event when the database reports a retryable conflict.
ATTEMPTS = 3

_YES = frozenset({"yes", "y", "yeah", "yep", "correct", "right", "sure", "ok", "okay", "👍"})
_NO = frozenset({"no", "n", "nope", "wrong", "cancel", "👎"})
_BARE_COMMANDS = frozenset({"skip", "undo", "help", "today", "progress", "cancel", "stats"})
_TICK_TEXT = re.compile(
    r"^(?:(done|tick|check|x|untick|uncheck|undo|not done)\s*)?#?(\d{1,2})\.?$", re.IGNORECASE
)
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})

SORRY = (
    "Sorry — something went wrong on my side and nothing was changed. "
    "Please try that again in a moment."
)


@dataclass
class Turn:
    """Everything one event's handling needs, built once per event inside its transaction."""

    session: AsyncSession
    inbound: Inbound
    user: User
    profile: Profile
    state: ConversationState
    catalog: Catalog
    now: datetime
    is_new: bool = False

    @property
    def today(self) -> date:
        """Today in the musician's timezone (for "tomorrow", "next friday")."""
        try:
            return self.now.astimezone(ZoneInfo(self.user.timezone)).date()
        except (KeyError, ValueError):
            return self.now.date()

    def set_state(
        self,
        awaiting: str | None,
        task: TaskInfo | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Record what the coach now waits for."""
        self.state.awaiting = awaiting
        self.state.task_id = task.id if task else None
        self.state.data = data or {}
        self.state.updated_at = self.now


def clean_text(text: str) -> str:
    """Drop control characters (NUL and friends) but keep emoji, accents and RTL text."""
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in {"Cc", "Cs"}
    ).strip()


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # e.g. two first messages of a new user racing to create the identity
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _RETRYABLE_SQLSTATES


class Coach:
    """The platform-agnostic coach. Front ends hold one and call :meth:`handle`."""

    def __init__(
        self,
        db: Database,
        *,
        catalog: CatalogCache | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.catalog = catalog or CatalogCache()
        self.clock = clock

    async def handle(self, inbound: Inbound) -> list[Outbound]:
        """Handle one event in one transaction and return the replies to show.

        Never raises for bad input: a failure is logged and answered with a short apology, and
        the transaction is rolled back so nothing half-done is stored.
        """
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self.db.transaction() as session:
                    return await self._handle(session, inbound)
            except DBAPIError as exc:
                if attempt < ATTEMPTS and _retryable(exc):
                    logger.info("retrying event after %s (attempt %d)", type(exc).__name__, attempt)
                    continue
                logger.exception("database error while handling %s event", inbound.kind)
                return [Outbound(text=SORRY)]
            except Exception:
                logger.exception("unhandled error while handling %s event", inbound.kind)
                return [Outbound(text=SORRY)]
        return [Outbound(text=SORRY)]  # pragma: no cover - the loop always returns

    # ------------------------------------------------------------------ plumbing

    async def _handle(self, session: AsyncSession, inbound: Inbound) -> list[Outbound]:
        if inbound.update_id is not None and not await self._first_time(session, inbound):
            logger.debug("duplicate update %s:%s ignored", inbound.platform, inbound.update_id)
            return []
        catalog = await self.catalog.get(session)
        turn = await self._load_turn(session, inbound, catalog)
        replies = await self._dispatch(turn)
        self._touch(turn)
        return replies

    async def _first_time(self, session: AsyncSession, inbound: Inbound) -> bool:
        insert = pg_insert if self.db.is_postgres else sqlite_insert
        stmt = (
            insert(ProcessedUpdate)
            .values(
                platform=inbound.platform,
                update_id=str(inbound.update_id),
                processed_at=self.clock(),
            )
            .on_conflict_do_nothing()
            .returning(ProcessedUpdate.update_id)
        )
        return (await session.execute(stmt)).first() is not None

    async def _load_turn(self, session: AsyncSession, inbound: Inbound, catalog: Catalog) -> Turn:
        now = self.clock()
        stmt = (
            select(User, Profile, ConversationState)
            .select_from(Identity)
            .join(User, User.id == Identity.user_id)
            .join(Profile, Profile.user_id == User.id)
            .join(ConversationState, ConversationState.profile_id == Profile.id)
            .where(Identity.platform == inbound.platform, Identity.external_id == inbound.user_id)
            .with_for_update(of=Profile)
        )
        row = (await session.execute(stmt)).first()
        if row is not None:
            user, profile, state = row
            return Turn(session, inbound, user, profile, state, catalog, now)
        user = User(
            id=uuid.uuid4(),
            display_name=(inbound.display_name or None),
            locale=inbound.locale,
            timezone="UTC",
            roles=[],
            created_at=now,
            last_active_at=now,
        )
        identity = Identity(
            user_id=user.id, platform=inbound.platform, external_id=inbound.user_id, created_at=now
        )
        profile = Profile(
            id=uuid.uuid4(),
            user_id=user.id,
            current_stats={},
            created_at=now,
            updated_at=now,
            last_activity_at=now,
        )
        state = ConversationState(profile_id=profile.id, data={}, updated_at=now)
        session.add(user)
        await session.flush()
        session.add_all([identity, profile])
        await session.flush()
        session.add(state)
        await session.flush()
        return Turn(session, inbound, user, profile, state, catalog, now, is_new=True)

    def _touch(self, turn: Turn) -> None:
        last = turn.profile.last_activity_at
        if last is None or (turn.now - last).total_seconds() >= ACTIVITY_RESOLUTION:
            turn.profile.last_activity_at = turn.now
            turn.user.last_active_at = turn.now

    async def _dispatch(self, turn: Turn) -> list[Outbound]:
        inbound = turn.inbound
        if inbound.kind == "button":
            return await self._on_button(turn, decode(inbound.payload))
        text = inbound.text
        if len(text) > MAX_INBOUND_TEXT:
            return [
                Outbound(
                    text=f"That message is too long for me ({len(text):,} characters; I read up "
                    f"to {MAX_INBOUND_TEXT:,}). Could you send a shorter one?"
                )
            ]
        text = clean_text(text)
        command = parse_command(text)
        if command is not None:
            return await self._on_command(turn, command.name, command.args)
        if inbound.kind == "command":
            return [Outbound(text="I didn't catch that command. /help lists what I can do.")]
        return await self._on_text(turn, text)

    # ------------------------------------------------------------------ helpers

    def _roadmap(self, turn: Turn) -> RoadmapInfo | None:
        return turn.catalog.roadmap(turn.profile.roadmap_id)

    async def _current_stage(
        self, turn: Turn, roadmap: RoadmapInfo
    ) -> tuple[StageInfo | None, dict[uuid.UUID, UserTaskProgress]]:
        """The profile's current stage and its progress rows, repairing a stale pointer."""
        index = roadmap.stage_index(turn.profile.current_stage_id)
        if index is not None:
            stage = roadmap.stages[index]
            rows = await progress_rows(turn.session, turn.profile.id, [t.id for t in stage.tasks])
            if not stage_done(stage, rows):
                return stage, rows
        # Pointer missing or stage already done (content edited): recompute from all progress.
        all_rows = await progress_rows(
            turn.session, turn.profile.id, [t.id for s in roadmap.stages for t in s.tasks]
        )
        open_stage = first_open_stage(roadmap, all_rows)
        turn.profile.current_stage_id = open_stage.id if open_stage else None
        return open_stage, all_rows

    def _snapshot(
        self, turn: Turn, task: TaskInfo, row: UserTaskProgress | None, label: str
    ) -> dict[str, Any]:
        return {
            "label": label,
            "task_id": str(task.id),
            "row": None
            if row is None
            else {
                "status": row.status,
                "task_data": row.task_data,
                "completed_by": str(row.completed_by) if row.completed_by else None,
                "completed_at": row.completed_at.isoformat() if row.completed_at else None,
            },
            "stage_id": str(turn.profile.current_stage_id)
            if turn.profile.current_stage_id
            else None,
            "stats": {},
            "sample_id": None,
        }

    def _row(self, turn: Turn, task: TaskInfo, row: UserTaskProgress | None) -> UserTaskProgress:
        if row is None:
            row = UserTaskProgress(
                id=uuid.uuid4(),
                profile_id=turn.profile.id,
                task_id=task.id,
                status="not_started",
                task_data={},
                updated_at=turn.now,
            )
            turn.session.add(row)
        return row

    def _event(self, turn: Turn, kind: str, **payload: Any) -> None:
        turn.session.add(
            Event(
                type=kind,
                profile_id=turn.profile.id,
                user_id=turn.user.id,
                payload={k: str(v) for k, v in payload.items()},
                created_at=turn.now,
            )
        )

    async def _task_card(
        self,
        turn: Turn,
        roadmap: RoadmapInfo,
        stage: StageInfo,
        task: TaskInfo,
        row: UserTaskProgress | None,
        *,
        edit: bool = False,
    ) -> Outbound:
        if task.is_checklist:
            turn.set_state("checklist", task)
            return cards.checklist_card(roadmap, stage, task, row, edit=edit)
        turn.set_state("answer", task)
        previous = None
        if row is not None and row.task_data.get("display"):
            previous = str(row.task_data["display"])
        elif task.spec.metric and task.spec.metric in turn.profile.current_stats:
            previous = str(turn.profile.current_stats[task.spec.metric].get("display"))
        return cards.input_card(
            roadmap, stage, task, previous, example_answer(task.spec, today=turn.today)
        )

    async def _today(self, turn: Turn, *, intro: list[Outbound] | None = None) -> list[Outbound]:
        replies = list(intro or [])
        roadmap = self._roadmap(turn)
        if turn.profile.artist_name is None:
            return replies + self._ask_name(turn)
        if roadmap is None:
            return replies + self._offer_roadmaps(turn, first_time=False)
        stage, rows = await self._current_stage(turn, roadmap)
        if stage is None:
            turn.set_state(None)
            return [*replies, self._finished(roadmap)]
        task = next_task(stage, rows)
        if task is None:  # only optional tasks left and the stage is done: move on
            return replies + await self._advance(turn, roadmap, stage)
        replies.append(await self._task_card(turn, roadmap, stage, task, rows.get(task.id)))
        return replies

    def _finished(self, roadmap: RoadmapInfo) -> Outbound:
        return Outbound(
            text=f"🏆 You've finished the whole {bold(esc(roadmap.name))} roadmap. That's huge.\n"
            "Keep your numbers fresh with /stats, or pick a new path with /roadmap."
        )

    async def _advance(self, turn: Turn, roadmap: RoadmapInfo, stage: StageInfo) -> list[Outbound]:
        """After a task is dealt with: the next task, or the stage's celebration and the next."""
        rows = await progress_rows(turn.session, turn.profile.id, [t.id for t in stage.tasks])
        if not stage_done(stage, rows):
            task = next_task(stage, rows)
            if task is not None:
                return [await self._task_card(turn, roadmap, stage, task, rows.get(task.id))]
        index = roadmap.stage_index(stage.id) or 0
        self._event(turn, "stage.completed", stage=stage.slug, roadmap=roadmap.slug)
        celebration = (
            f"🎉 {bold('Stage ' + str(index + 1) + ' complete — ' + esc(stage.title) + '!')}"
        )
        if index + 1 >= len(roadmap.stages):
            turn.profile.current_stage_id = None
            turn.set_state(None)
            self._event(turn, "roadmap.completed", roadmap=roadmap.slug)
            return [Outbound(text=celebration), self._finished(roadmap)]
        nxt = roadmap.stages[index + 1]
        turn.profile.current_stage_id = nxt.id
        intro = Outbound(
            text=f"{celebration}\n\n🔓 {bold('Stage ' + str(index + 2) + ' · ' + esc(nxt.title))}\n"
            f"{esc(nxt.intro)}"
        )
        return await self._today(turn, intro=[intro])

    # ------------------------------------------------------------------ onboarding

    def _ask_name(self, turn: Turn) -> list[Outbound]:
        turn.set_state("artist_name")
        return [Outbound(text=f"First things first: what's your {bold('artist name')}?")]

    def _offer_roadmaps(self, turn: Turn, *, first_time: bool) -> list[Outbound]:
        if not turn.catalog.roadmaps:
            turn.set_state(None)
            return [
                Outbound(
                    text="I have no roadmaps loaded yet. An admin needs to run "
                    "`coach roadmaps sync` — sorry about that!"
                )
            ]
        menu, buttons = cards.roadmap_menu(turn.catalog)
        turn.set_state("roadmap")
        head = "Pick the roadmap that fits you best:" if first_time else "Which roadmap is yours?"
        return [Outbound(text=f"{head}\n\n{menu}\n\n{italic(cards.HOW_IT_WORKS)}", buttons=buttons)]

    async def _start(self, turn: Turn) -> list[Outbound]:
        name = turn.profile.artist_name
        if name is None:
            turn.set_state("artist_name")
            return [
                Outbound(
                    text="👋 Hi! I'm your Stardom Coach. I'll walk you along a roadmap to your "
                    "next level, one step at a time: checklists you tick off, and a few numbers "
                    "you tell me so we can watch them grow.\n\n"
                    f"First things first: what's your {bold('artist name')}?"
                )
            ]
        roadmap = self._roadmap(turn)
        if roadmap is None:
            return [
                Outbound(text=f"Welcome back, {bold(esc(name))}!"),
                *self._offer_roadmaps(turn, first_time=True),
            ]
        welcome = Outbound(
            text=f"Welcome back, {bold(esc(name))}! You're on {bold(esc(roadmap.name))}."
        )
        return await self._today(turn, intro=[welcome])

    async def _set_name(self, turn: Turn, raw: str) -> list[Outbound]:
        name = " ".join(clean_text(raw).split())
        if not name:
            return [
                Outbound(
                    text="I need at least one letter for your artist name. What should I call you?"
                )
            ]
        if len(name) > ARTIST_NAME_MAX:
            return [
                Outbound(
                    text=f"That's a long name ({len(name)} characters)! Please keep it to "
                    f"{ARTIST_NAME_MAX} characters or fewer."
                )
            ]
        first = turn.profile.artist_name is None
        turn.profile.artist_name = name
        turn.profile.updated_at = turn.now
        if first or self._roadmap(turn) is None:
            greet = Outbound(text=f"Nice to meet you, {bold(esc(name))}! 🎶")
            return [greet, *self._offer_roadmaps(turn, first_time=True)]
        turn.set_state(None)
        return [Outbound(text=f"Done — you're {bold(esc(name))} from now on.")]

    async def _choose_roadmap(self, turn: Turn, roadmap: RoadmapInfo) -> list[Outbound]:
        turn.profile.roadmap_id = roadmap.id
        turn.profile.current_stage_id = None
        turn.profile.updated_at = turn.now
        turn.state.undo = None
        self._event(turn, "roadmap.chosen", roadmap=roadmap.slug)
        stage, _rows = await self._current_stage(turn, roadmap)
        text = f"🚀 You're on {bold(esc(roadmap.name))}. {esc(roadmap.description)}"
        if stage is not None:
            no = (roadmap.stage_index(stage.id) or 0) + 1
            text += f"\n\n{bold(f'Stage {no} · ' + esc(stage.title))}\n{esc(stage.intro)}"
        return await self._today(turn, intro=[Outbound(text=text)])

    # ------------------------------------------------------------------ commands

    async def _on_command(self, turn: Turn, name: str, args: str) -> list[Outbound]:
        if name == "start":
            return await self._start(turn)
        if name == "help":
            return [cards.help_card()]
        if turn.profile.artist_name is None and name not in {"name", "cancel"}:
            return [Outbound(text="Let's get you set up first."), *self._ask_name(turn)]
        match name:
            case "today":
                return await self._today(turn)
            case "progress":
                return await self._progress(turn)
            case "roadmap":
                return self._roadmap_card(turn)
            case "stats":
                return await self._stats(turn)
            case "skip":
                return await self._skip(turn, None)
            case "undo":
                return await self._undo(turn)
            case "name":
                if args:
                    return await self._set_name(turn, args)
                turn.set_state("artist_name")
                return [Outbound(text="What should your artist name be?")]
            case "cancel":
                if turn.state.awaiting in {None, "checklist"}:
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

    async def _progress(self, turn: Turn) -> list[Outbound]:
        roadmap = self._roadmap(turn)
        if roadmap is None:
            return self._offer_roadmaps(turn, first_time=False)
        stage, _ = await self._current_stage(turn, roadmap)
        rows = await progress_rows(
            turn.session, turn.profile.id, [t.id for s in roadmap.stages for t in s.tasks]
        )
        return [cards.progress_card(roadmap, rows, stage.id if stage else None)]

    def _roadmap_card(self, turn: Turn) -> list[Outbound]:
        roadmap = self._roadmap(turn)
        if roadmap is None:
            return self._offer_roadmaps(turn, first_time=False)
        others = [r for r in turn.catalog.roadmaps if r.id != roadmap.id]
        lines = [f"You're on {bold(esc(roadmap.name))}: {esc(roadmap.pitch)}"]
        buttons: list[tuple[Button, ...]] = []
        if others:
            lines += ["", "Other paths (your progress on each one is kept if you switch):"]
            for r in others:
                lines.append(f"• {bold(esc(r.name))} — {esc(r.pitch)}")
                buttons.append(
                    (Button(label=f"Switch to {r.name}", payload=encode("ask_switch", r.slug)),)
                )
        return [Outbound(text="\n".join(lines), buttons=tuple(buttons))]

    async def _stats(self, turn: Turn) -> list[Outbound]:
        stats = turn.profile.current_stats or {}
        if not stats:
            return [cards.stats_card(stats, {})]
        result = await turn.session.execute(
            select(StatSample.metric, StatSample.value, StatSample.recorded_at)
            .where(StatSample.profile_id == turn.profile.id)
            .order_by(StatSample.recorded_at.desc())
            .limit(STATS_SAMPLES)
        )
        series: dict[str, list[tuple[datetime, Decimal]]] = {}
        for metric, value, at in reversed(result.all()):
            series.setdefault(metric, []).append((at, Decimal(value)))
        firsts = {metric: points[0][1] for metric, points in series.items()}
        card = cards.stats_card(stats, firsts)
        title = f"{turn.profile.artist_name or 'Your'} — numbers over time"
        png = await asyncio.to_thread(render_stats_chart, series, title=title)
        if png is not None:
            card = card.model_copy(update={"image": png, "image_name": "stats.png"})
        return [card]

    # ------------------------------------------------------------------ buttons

    async def _on_button(self, turn: Turn, payload: Payload | None) -> list[Outbound]:
        if payload is None:
            return [
                Outbound(
                    text="That button is from an older version of me. /today shows your next step.",
                    toast=True,
                )
            ]
        if turn.profile.artist_name is None and payload.action not in {"cmd", "cancel"}:
            return [Outbound(text="Let's get you set up first.", toast=True), *self._ask_name(turn)]
        match payload.action:
            case "cmd":
                return await self._on_command(turn, payload.args[0], "")
            case "cancel":
                if turn.state.awaiting in {"confirm_value", "confirm_switch"}:
                    was_value = turn.state.awaiting == "confirm_value"
                    turn.set_state(None)
                    if was_value:
                        return [
                            Outbound(text="OK, not saved.", edit=True),
                            *await self._today(turn),
                        ]
                    return [Outbound(text="OK, staying where you are.", edit=True)]
                return [Outbound(text="Nothing to cancel.", toast=True)]
            case "pick":
                roadmap = turn.catalog.roadmap_by_slug(payload.args[0])
                if roadmap is None:
                    return [
                        Outbound(
                            text="That roadmap isn't available anymore. Here are the current ones.",
                            toast=True,
                        ),
                        *self._offer_roadmaps(turn, first_time=False),
                    ]
                if turn.profile.roadmap_id is None:
                    return await self._choose_roadmap(turn, roadmap)
                return self._ask_switch(turn, roadmap)
            case "ask_switch":
                roadmap = turn.catalog.roadmap_by_slug(payload.args[0])
                if roadmap is None:
                    return [Outbound(text="That roadmap isn't available anymore.", toast=True)]
                return self._ask_switch(turn, roadmap)
            case "switch":
                slug = payload.args[0]
                roadmap = turn.catalog.roadmap_by_slug(slug)
                if (
                    turn.state.awaiting != "confirm_switch"
                    or turn.state.data.get("roadmap") != slug
                    or roadmap is None
                ):
                    return [
                        Outbound(
                            text="That question has expired — nothing changed. "
                            "Use /roadmap to switch.",
                            toast=True,
                        )
                    ]
                return await self._choose_roadmap(turn, roadmap)
            case "tick" | "untick":
                return await self._tick(
                    turn,
                    payload.args[0],
                    payload.args[1],
                    payload.action == "tick",
                    from_button=True,
                )
            case "skip":
                return await self._skip(turn, payload.args[0])
            case "confirm":
                return await self._confirm_value(turn, payload.args[0], payload.args[1] == "y")
        return [
            Outbound(text="That button doesn't do anything anymore.", toast=True)
        ]  # pragma: no cover

    def _ask_switch(self, turn: Turn, roadmap: RoadmapInfo) -> list[Outbound]:
        if roadmap.id == turn.profile.roadmap_id:
            return [Outbound(text=f"You're already on {roadmap.name}.", toast=True)]
        current = self._roadmap(turn)
        kept = (
            f" Your progress on {bold(esc(current.name))} stays saved — switch back any time."
            if current
            else ""
        )
        turn.set_state("confirm_switch", data={"roadmap": roadmap.slug})
        return [
            Outbound(
                text=f"Switch to {bold(esc(roadmap.name))}?{kept}",
                buttons=(
                    (
                        Button(label="Yes, switch", payload=encode("switch", roadmap.slug)),
                        Button(label="No, stay", payload=encode("cancel")),
                    ),
                ),
            )
        ]

    async def _locate(
        self, turn: Turn, task_slug: str
    ) -> tuple[RoadmapInfo, StageInfo, TaskInfo, dict[uuid.UUID, UserTaskProgress]] | Outbound:
        """Find a task a button or text refers to and check it can be acted on now."""
        task = turn.catalog.tasks_by_slug.get(task_slug)
        roadmap = self._roadmap(turn)
        if task is None or task.archived:
            return Outbound(
                text="That task isn't part of the roadmap anymore. /today shows what's next.",
                toast=True,
            )
        if roadmap is None or task.roadmap_id != roadmap.id:
            return Outbound(
                text="That button is from another roadmap — nothing changed. "
                "/today shows where you are now.",
                toast=True,
            )
        stage, rows = await self._current_stage(turn, roadmap)
        task_stage_index = roadmap.stage_index(task.stage_id)
        current_index = roadmap.stage_index(stage.id) if stage else len(roadmap.stages)
        if task_stage_index is None:
            return Outbound(text="That task isn't part of the roadmap anymore.", toast=True)
        if current_index is not None and task_stage_index > current_index:
            return Outbound(
                text="That task is in a later stage — it unlocks when you finish this one.",
                toast=True,
            )
        if stage is None or task_stage_index < (current_index or 0):
            return Outbound(
                text="That task is already done ✅ — /undo if that was a mistake.", toast=True
            )
        row = rows.get(task.id)
        if row is not None and row.status in DONE:
            return Outbound(
                text="That task is already done ✅ — /undo if that was a mistake.", toast=True
            )
        return roadmap, stage, task, rows

    # ------------------------------------------------------------------ checklist

    async def _tick(
        self, turn: Turn, task_slug: str, item_key: str, want: bool, *, from_button: bool
    ) -> list[Outbound]:
        found = await self._locate(turn, task_slug)
        if isinstance(found, Outbound):
            return [found]
        roadmap, stage, task, rows = found
        if not task.is_checklist or task.item_index(item_key) is None:
            return [
                Outbound(
                    text="That checklist item has changed since — here's the current list.",
                    toast=True,
                ),
                await self._task_card(turn, roadmap, stage, task, rows.get(task.id)),
            ]
        row = rows.get(task.id)
        ticked = ticked_items(row)
        if (item_key in ticked) == want:
            note = "Already ticked ✓" if want else "Already unticked"
            return [Outbound(text=note, toast=True)]
        item_no = (task.item_index(item_key) or 0) + 1
        verb = "ticked" if want else "unticked"
        snapshot = self._snapshot(turn, task, row, f"{verb} item {item_no} of “{task.title}”")
        row = self._row(turn, task, row)
        ticked = [*ticked, item_key] if want else [k for k in ticked if k != item_key]
        row.task_data = {**row.task_data, "ticked": ticked}
        row.updated_at = turn.now
        turn.state.undo = snapshot
        keys = {i.key for i in task.items}
        if keys.issubset(ticked):
            row.status = "completed"
            row.completed_at = turn.now
            row.completed_by = turn.user.id
            self._event(turn, "task.completed", task=task.slug)
            rows[task.id] = row
            done_card = cards.checklist_card(roadmap, stage, task, row, edit=from_button)
            done_card = done_card.model_copy(update={"buttons": ()})
            replies = [done_card, Outbound(text=f"✅ {bold(esc(task.title))} — done!")]
            return replies + await self._advance(turn, roadmap, stage)
        row.status = "in_progress"
        turn.set_state("checklist", task)
        return [cards.checklist_card(roadmap, stage, task, row, edit=from_button)]

    async def _checklist_text(self, turn: Turn, text: str) -> list[Outbound] | None:
        """``2``, ``done 2``, ``untick 2`` while a checklist is open; ``None`` if not that."""
        match = _TICK_TEXT.match(text.strip())
        if match is None or turn.state.task_id is None:
            return None
        task = turn.catalog.tasks_by_id.get(turn.state.task_id)
        if task is None or not task.is_checklist:
            return None
        verb = (match.group(1) or "").lower()
        number = int(match.group(2))
        if not 1 <= number <= len(task.items):
            return [
                Outbound(
                    text=f"This checklist has items 1 to {len(task.items)} — "
                    "which one did you mean?"
                )
            ]
        key = task.items[number - 1].key
        if verb in {"untick", "uncheck", "undo", "not done"}:
            want = False
        elif verb:
            want = True
        else:  # a bare number toggles, like pressing that item's button
            rows = await progress_rows(turn.session, turn.profile.id, [task.id])
            want = key not in ticked_items(rows.get(task.id))
        return await self._tick(turn, task.slug, key, want, from_button=False)

    # ------------------------------------------------------------------ data input

    async def _answer(self, turn: Turn, text: str) -> list[Outbound]:
        task = turn.catalog.tasks_by_id.get(turn.state.task_id) if turn.state.task_id else None
        if task is None or task.input is None:
            turn.set_state(None)
            return await self._today(turn)
        found = await self._locate(turn, task.slug)
        if isinstance(found, Outbound):
            turn.set_state(None)
            return [found.model_copy(update={"toast": False})]
        roadmap, stage, task, rows = found
        spec = task.spec
        label = cards.label_for(task)
        try:
            parsed = parse_answer(spec, text, today=turn.today, label=label)
        except InvalidAnswer as exc:
            return [Outbound(text=f"{esc(exc.message)}\n{italic('Try again, or /skip this one.')}")]
        previous = self._previous_number(turn, task, rows.get(task.id))
        if (
            parsed.numeric is not None
            and previous is not None
            and is_far_from(previous, parsed.numeric, OUTLIER_FACTOR)
        ):
            turn.set_state("confirm_value", task, {"raw": text[:200]})
            last = self._previous_display(turn, task, rows.get(task.id))
            return [
                Outbound(
                    text=f"Just checking: {bold(esc(parsed.display))} is more than "
                    f"{OUTLIER_FACTOR}× away from your last figure ({esc(last)}). Is that right?",
                    buttons=(
                        (
                            Button(label="Yes, save it", payload=encode("confirm", task.slug, "y")),
                            Button(
                                label="No, let me fix it", payload=encode("confirm", task.slug, "n")
                            ),
                        ),
                    ),
                )
            ]
        return await self._save_answer(
            turn,
            roadmap=roadmap,
            stage=stage,
            task=task,
            row=rows.get(task.id),
            parsed=parsed,
            raw=text,
        )

    def _previous_number(
        self, turn: Turn, task: TaskInfo, row: UserTaskProgress | None
    ) -> Decimal | None:
        raw: Any = None
        spec = task.input
        if spec is not None and spec.metric and spec.metric in turn.profile.current_stats:
            raw = turn.profile.current_stats[spec.metric].get("value")
        elif row is not None and row.task_data.get("numeric") is not None:
            raw = row.task_data.get("numeric")
        if raw is None:
            return None
        try:
            return Decimal(str(raw))
        except (InvalidOperation, ValueError):
            return None

    def _previous_display(self, turn: Turn, task: TaskInfo, row: UserTaskProgress | None) -> str:
        spec = task.input
        if spec is not None and spec.metric and spec.metric in turn.profile.current_stats:
            return str(turn.profile.current_stats[spec.metric].get("display"))
        return str(row.task_data.get("display")) if row is not None else "?"

    async def _save_answer(
        self,
        turn: Turn,
        *,
        roadmap: RoadmapInfo,
        stage: StageInfo,
        task: TaskInfo,
        row: UserTaskProgress | None,
        parsed: Parsed,
        raw: str,
    ) -> list[Outbound]:
        spec = task.spec
        snapshot = self._snapshot(turn, task, row, f"your answer to “{task.title}”")
        row = self._row(turn, task, row)
        data = {**parsed.to_json(), "raw": raw[:200]}
        if parsed.numeric is not None:
            data["numeric"] = str(parsed.numeric)
        row.task_data = data
        row.status = "completed"
        row.completed_at = turn.now
        row.completed_by = turn.user.id
        row.updated_at = turn.now
        if spec.metric and parsed.numeric is not None:
            stats = dict(turn.profile.current_stats or {})
            snapshot["stats"] = {spec.metric: stats.get(spec.metric)}
            stats[spec.metric] = {
                "value": str(parsed.numeric),
                "display": parsed.display,
                "unit": spec.unit,
                "at": turn.now.isoformat(),
            }
            turn.profile.current_stats = stats
            sample = StatSample(
                id=uuid.uuid4(),
                profile_id=turn.profile.id,
                task_id=task.id,
                metric=spec.metric,
                value=parsed.numeric,
                unit=spec.unit,
                recorded_by=turn.user.id,
                recorded_at=turn.now,
            )
            turn.session.add(sample)
            snapshot["sample_id"] = str(sample.id)
        turn.state.undo = snapshot
        self._event(turn, "task.completed", task=task.slug)
        saved = Outbound(text=f"✅ Saved: {bold(esc(parsed.display))}.")
        return [saved, *await self._advance(turn, roadmap, stage)]

    async def _confirm_value(self, turn: Turn, task_slug: str, yes: bool) -> list[Outbound]:
        task = turn.catalog.tasks_by_slug.get(task_slug)
        if turn.state.awaiting != "confirm_value" or task is None or turn.state.task_id != task.id:
            return [Outbound(text="That question has expired — nothing changed.", toast=True)]
        if not yes:
            turn.set_state("answer", task)
            return [Outbound(text="No problem — type the right figure.")]
        found = await self._locate(turn, task.slug)
        if isinstance(found, Outbound):
            turn.set_state(None)
            return [found]
        roadmap, stage, task, rows = found
        raw = str(turn.state.data.get("raw", ""))
        try:
            parsed = parse_answer(task.spec, raw, today=turn.today, label=cards.label_for(task))
        except InvalidAnswer as exc:  # content changed under us; ask again
            turn.set_state("answer", task)
            return [Outbound(text=esc(exc.message))]
        return await self._save_answer(
            turn,
            roadmap=roadmap,
            stage=stage,
            task=task,
            row=rows.get(task.id),
            parsed=parsed,
            raw=raw,
        )

    # ------------------------------------------------------------------ skip / undo

    async def _skip(self, turn: Turn, task_slug: str | None) -> list[Outbound]:
        roadmap = self._roadmap(turn)
        if roadmap is None:
            return self._offer_roadmaps(turn, first_time=False)
        if task_slug is None:
            stage, rows = await self._current_stage(turn, roadmap)
            task = next_task(stage, rows) if stage else None
            if task is None:
                return [Outbound(text="There's nothing to skip right now.")]
            task_slug = task.slug
        found = await self._locate(turn, task_slug)
        if isinstance(found, Outbound):
            return [found]
        roadmap, stage, task, rows = found
        row = rows.get(task.id)
        snapshot = self._snapshot(turn, task, row, f"skipping “{task.title}”")
        row = self._row(turn, task, row)
        row.status = "skipped"
        row.updated_at = turn.now
        turn.state.undo = snapshot
        self._event(turn, "task.skipped", task=task.slug)
        turn.set_state(None)
        skipped = Outbound(text=f"⏭️ Skipped {bold(esc(task.title))}. /undo brings it back.")
        return [skipped, *await self._advance(turn, roadmap, stage)]

    async def _undo(self, turn: Turn) -> list[Outbound]:
        snap = turn.state.undo
        roadmap = self._roadmap(turn)
        if not snap or roadmap is None:
            return [Outbound(text="There's nothing to undo.")]
        task = turn.catalog.tasks_by_id.get(uuid.UUID(snap["task_id"]))
        if task is None or task.roadmap_id != roadmap.id:
            turn.state.undo = None
            return [Outbound(text="There's nothing to undo.")]
        rows = await progress_rows(turn.session, turn.profile.id, [task.id])
        row = rows.get(task.id)
        prev = snap.get("row")
        if prev is None:
            if row is not None:
                await turn.session.delete(row)
        else:
            row = self._row(turn, task, row)
            row.status = prev["status"]
            row.task_data = prev["task_data"]
            row.completed_by = uuid.UUID(prev["completed_by"]) if prev["completed_by"] else None
            row.completed_at = (
                datetime.fromisoformat(prev["completed_at"]) if prev["completed_at"] else None
            )
            row.updated_at = turn.now
        turn.profile.current_stage_id = (
            uuid.UUID(snap["stage_id"]) if snap.get("stage_id") else None
        )
        if snap.get("stats"):
            stats = dict(turn.profile.current_stats or {})
            for metric, old in snap["stats"].items():
                if old is None:
                    stats.pop(metric, None)
                else:
                    stats[metric] = old
            turn.profile.current_stats = stats
        if snap.get("sample_id"):
            await turn.session.execute(
                delete(StatSample).where(StatSample.id == uuid.UUID(snap["sample_id"]))
            )
        turn.state.undo = None
        self._event(turn, "task.undone", task=task.slug)
        await turn.session.flush()
        note = Outbound(text=f"↩️ Undone: {esc(snap['label'])}.")
        return await self._today(turn, intro=[note])

    # ------------------------------------------------------------------ free text

    async def _on_text(self, turn: Turn, text: str) -> list[Outbound]:
        awaiting = turn.state.awaiting
        word = text.casefold().strip(" .!")
        if awaiting == "artist_name" or (turn.profile.artist_name is None and awaiting is None):
            if not text:
                return [Outbound(text="What's your artist name? Just type it.")]
            return await self._set_name(turn, text)
        if not text:
            return [Outbound(text="I got an empty message. /today shows your next step.")]
        if awaiting == "confirm_value":
            if word in _YES or word in _NO:
                task = (
                    turn.catalog.tasks_by_id.get(turn.state.task_id) if turn.state.task_id else None
                )
                if task is not None:
                    return await self._confirm_value(turn, task.slug, word in _YES)
            turn.set_state(
                "answer",
                turn.catalog.tasks_by_id.get(turn.state.task_id) if turn.state.task_id else None,
            )
            return await self._answer(turn, text)
        if awaiting == "confirm_switch":
            slug = str(turn.state.data.get("roadmap", ""))
            roadmap = turn.catalog.roadmap_by_slug(slug)
            if word in _YES and roadmap is not None:
                return await self._choose_roadmap(turn, roadmap)
            if word in _NO:
                turn.set_state(None)
                return [Outbound(text="OK, staying where you are.")]
            return [Outbound(text="Please answer yes or no — or use the buttons above.")]
        if word in _BARE_COMMANDS:
            return await self._on_command(turn, word, "")
        if awaiting == "roadmap" or (turn.profile.roadmap_id is None):
            return await self._roadmap_text(turn, text)
        if awaiting == "answer":
            return await self._answer(turn, text)
        if awaiting == "checklist":
            handled = await self._checklist_text(turn, text)
            if handled is not None:
                return handled
        if word in {"hi", "hello", "hey", "hallo", "hola", "yo"}:
            return [
                Outbound(
                    text=f"Hey {bold(esc(turn.profile.artist_name or ''))}! 👋 "
                    "/today shows your next step."
                )
            ]
        return [
            Outbound(
                text="I'm not waiting for an answer right now, so I'm not sure what to do with "
                "that. /today shows your next step, /help lists everything I can do."
            )
        ]

    async def _roadmap_text(self, turn: Turn, text: str) -> list[Outbound]:
        choices = turn.catalog.roadmaps
        chosen: RoadmapInfo | None = None
        word = text.strip().casefold()
        if word.isdigit() and 1 <= int(word) <= len(choices):
            chosen = choices[int(word) - 1]
        else:
            matches = [r for r in choices if r.name.casefold().startswith(word) or r.slug == word]
            if len(word) >= 3 and len(matches) == 1:
                chosen = matches[0]
        if chosen is None:
            if not choices:
                return self._offer_roadmaps(turn, first_time=False)
            return [
                Outbound(
                    text=f"Tap one of the roadmaps above, or type its number (1–{len(choices)})."
                )
            ]
        return await self._choose_roadmap(turn, chosen)
