"""The core benchmark: simulated musicians doing whole journeys through ``Coach.handle()``.

Run from the repository root::

    .venv/bin/python benchmarks/core.py [--db postgresql://postgres@127.0.0.1:5432/postgres]
        [--musicians 100] [--duration 20] [--rate 400] [--open-duration 20]

It creates a throwaway database ``coach_bench_<random>`` on the given server, migrates it with
Alembic, syncs the bundled roadmaps and measures four things:

1. **Throughput at saturation (closed loop)**: ``--musicians`` concurrent musicians with no think
   time; events/s and the latency of ``handle()`` calls.
2. **Latency at a steady offered load (open loop)**: events scheduled at ``--rate`` per second;
   latency is measured from each event's *scheduled* time, so a slow server cannot hide its
   queueing delay (no coordinated omission). When the core cannot keep up, events still queued
   ``--drain`` seconds after the last scheduled one are given up and the latencies are printed
   as lower bounds ("≥").
3. **SQL statements per event** during the closed loop, counted with a ``before_cursor_execute``
   listener (cursor executes only: the BEGIN and COMMIT the asyncpg driver sends are not cursor
   executes and come on top).
4. **The floor**: bare asyncpg, same database, same concurrency and as many connections, running
   transactions of the same number of statements; ours/floor tells how much the ORM and the
   coach's own Python cost on top of the round trips.

A simulated musician is a scripted journey: ``/start`` → artist name → the pick button of a
roadmap (musicians are spread over all roadmaps) → every task of the roadmap in order, ticking
each checklist item with its button and answering each question with a valid answer, with a
``/progress`` (~5% of events) or a ``/skip`` (~3%) now and then. Every reply is checked against
the task the musician expects next; a finished roadmap starts a new musician. Events carry a
unique ``update_id`` as the Telegram and Discord front ends do (``--no-update-ids`` drops it).

Each phase also prints the peak RSS of this process and how many cores this process, PostgreSQL
and everything else used (from /proc): on a small machine the benchmark, the server and any
other load share the same cores, and a phase disturbed by other processes is flagged.
``--profile PATH`` writes cProfile stats of the closed-loop window (slower, but shows where the
CPU goes).

The database is dropped at the end, also after an error or Ctrl-C. The last line of output is
``BENCH_JSON {...}`` with every figure. Exit status: 0 when no event failed, 1 otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

# ``python benchmarks/core.py`` puts this directory first on sys.path, where this very file would
# shadow the ``core`` package. Put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import contextvars  # noqa: E402
import cProfile  # noqa: E402
import importlib.metadata  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Generator, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any, Final  # noqa: E402

import asyncpg  # noqa: E402
import sqlalchemy  # noqa: E402
from sqlalchemy import event  # noqa: E402

from benchmarks.benchkit import (  # noqa: E402
    Run,
    asyncpg_dsn,
    cpu_model,
    machine_cpu_seconds,
    peak_rss_mib,
    planned_tasks,
    proc_seconds,
    proc_stat_lines,
    say,
    summary_ms,
)
from core.app.engine import SORRY, Coach  # noqa: E402
from core.db.engine import Database  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.kernel.payloads import encode  # noqa: E402
from core.kernel.types import Inbound, Outbound  # noqa: E402
from core.progress.parsing import example_answer  # noqa: E402
from core.roadmaps.catalog import Catalog, RoadmapInfo, load_catalog  # noqa: E402
from core.roadmaps.loader import load_roadmaps  # noqa: E402
from core.roadmaps.sync import sync_roadmaps  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
PLATFORM = "telegram"
PROGRESS_SHARE = 0.05
#: How the coach ends a roadmap: all done; done with key tasks skipped; or done with what can be
#: done now while dated tasks wait for their day (core/journey/navigation.py ``the_end``).
_ENDS = ("finished the whole", "reached the end", "Everything you can do right now is done")
SKIP_SHARE = 0.03
#: A journey longer than this many tasks is a script that lost its way (the longest roadmap has
#: about 40 tasks on a musician's path).
MAX_TASKS = 200
FLOOR_WARMUP = 1.0
#: Events of a musician's onboarding (/start, artist name, roadmap pick).
ONBOARDING = 3
#: Cores used by other processes above which a phase's figures are flagged as disturbed.
OTHER_CPU_WARNING = 0.15

#: The SQL verbs of the statements run by the current event (set per ``handle()`` call).
_STATEMENTS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "bench_statements", default=None
)


# ---------------------------------------------------------------------------------------- stats


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far: by the whole machine, this process and each PostgreSQL process."""

    wall: float
    machine: float
    own: float
    postgres: dict[int, float]


def cpu_sample() -> CpuSample:
    """Read /proc (zeros where it is missing: then the split is simply not meaningful)."""
    tick = os.sysconf("SC_CLK_TCK")
    machine = 0.0
    postgres: dict[int, float] = {}
    try:
        machine = machine_cpu_seconds(tick)
        for pid, line in proc_stat_lines():
            if "(postgres)" in line:
                postgres[pid] = proc_seconds(line, tick)
    except (OSError, ValueError, IndexError):
        pass
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return CpuSample(time.perf_counter(), machine, usage.ru_utime + usage.ru_stime, postgres)


def cpu_split(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """Cores used on average between two samples: this process, PostgreSQL, everything else.

    A PostgreSQL process that started in between counts with all its time; the time of one
    that ended in between is missed and lands in ``other`` (the pools keep their connections,
    so that is rare).
    """
    wall = max(1e-9, after.wall - before.wall)
    own = (after.own - before.own) / wall
    postgres = sum(t - before.postgres.get(pid, 0.0) for pid, t in after.postgres.items()) / wall
    machine = (after.machine - before.machine) / wall
    return {
        "bench": round(own, 2),
        "postgres": round(postgres, 2),
        "other": round(max(0.0, machine - own - postgres), 2),
    }


def cpu_line(split: dict[str, float]) -> str:
    """``bench 0.98, postgres 0.71, other 0.02 of 2 cores``, with a warning when others ran."""
    line = (
        f"bench {split['bench']:.2f}, postgres {split['postgres']:.2f}, "
        f"other {split['other']:.2f} of {os.cpu_count()} cores"
    )
    if split["other"] > OTHER_CPU_WARNING:
        line += "  <- other processes competed for the CPU: figures are disturbed"
    return line


@dataclass
class Failure:
    """An event that did not go as a musician expects."""

    kind: str  # "sorry", "exception" or "unexpected"
    detail: str


@dataclass
class StepResult:
    """One ``handle()`` call."""

    kind: str
    started: float
    ended: float
    statements: list[str]
    failure: Failure | None


@dataclass
class Recorder:
    """Latencies, statement counts and failures of the events of one phase."""

    latencies: list[float] = field(default_factory=list)
    service: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    statements_by_kind: Counter[str] = field(default_factory=Counter)
    verbs: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    unfinished: list[float] = field(default_factory=list)

    def add(self, result: StepResult, latency: float) -> None:
        """Record an event; ``latency`` is what the phase measures (service or from schedule)."""
        self.latencies.append(latency)
        self.service.append(result.ended - result.started)
        self.by_kind.setdefault(result.kind, []).append(latency)
        self.statements_by_kind[result.kind] += len(result.statements)
        self.verbs.update(result.statements)
        if result.failure is not None:
            self.failures[result.failure.kind] += 1
            if len(self.samples) < 5:
                self.samples.append(
                    f"{result.kind}: {result.failure.kind}: {result.failure.detail}"
                )

    @property
    def events(self) -> int:
        """Events recorded."""
        return len(self.latencies)

    @property
    def errors(self) -> int:
        """Failed events of any kind."""
        return sum(self.failures.values())

    @property
    def statements(self) -> int:
        """Cursor executes of all recorded events."""
        return sum(self.statements_by_kind.values())


# ---------------------------------------------------------------------------------- musicians


class JourneyError(Exception):
    """The coach answered something the scripted musician did not expect."""


Step = tuple[str, Inbound]
Journey = Generator[Step, list[Outbound], None]


def _buttons(replies: list[Outbound]) -> list[str]:
    return [b.payload for r in replies for row in r.buttons for b in row]


def _text(replies: list[Outbound]) -> str:
    return "\n".join(r.text for r in replies)


def _task_card(replies: list[Outbound]) -> Outbound | None:
    """The last reply that is a task card (it has the task's Skip button)."""
    for reply in reversed(replies):
        if any(b.payload.startswith("v1:sk:") for row in reply.buttons for b in row):
            return reply
    return None


def _card_slug(card: Outbound | None) -> str | None:
    if card is None:
        return None
    for row in card.buttons:
        for b in row:
            if b.payload.startswith("v1:sk:"):
                return b.payload[len("v1:sk:") :]
    return None


#: The country question's buttons (core/journey/country.py): the script picks one at random.
_COUNTRIES: Final = tuple(encode("country", code) for code in ("gb", "us", "de", "zz"))


def _country_buttons(replies: list[Outbound]) -> list[str]:
    """The country buttons, when the replies ask the country."""
    return [p for p in _buttons(replies) if p in _COUNTRIES]


def _first_tick(card: Outbound) -> str | None:
    """The payload of the first unticked item of a checklist card."""
    for row in card.buttons:
        for b in row:
            if b.payload.startswith("v1:tk:"):
                return b.payload
    return None


class Musician:
    """One simulated musician at a time; starts a new one (new user id) after each journey."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.rng = random.Random(bench.rng.random())
        self.number = 0
        self.sent = 0  # events sent by this object (all its musicians), for the warm-up
        self.user_id = ""
        self.roadmap: RoadmapInfo = bench.catalog.roadmaps[0]
        self.pending: Step
        self._journey: Journey
        self._new_journey()

    def _new_journey(self) -> None:
        self.number = next(self.bench.musician_numbers)
        self.user_id = f"{self.bench.run_tag}-{self.number}"
        roadmaps = self.bench.catalog.roadmaps
        self.roadmap = roadmaps[self.number % len(roadmaps)]
        self._journey = self.journey()
        self.pending = next(self._journey)

    # inbound events ------------------------------------------------------------------------

    def _inbound(self, **kw: Any) -> Inbound:
        update_id = str(next(self.bench.update_ids)) if self.bench.update_ids_on else None
        return Inbound(
            platform=PLATFORM,
            user_id=self.user_id,
            chat_id=self.user_id,
            update_id=update_id,
            **kw,
        )

    def _say(self, text: str) -> Inbound:
        kind = "command" if text.startswith("/") else "text"
        return self._inbound(kind=kind, text=text)

    def _press(self, payload: str) -> Inbound:
        return self._inbound(kind="button", payload=payload, message_id="1")

    @staticmethod
    def _expect(replies: list[Outbound], needle: str, after: str) -> None:
        text = _text(replies)
        if needle not in text:
            raise JourneyError(f"after {after}: no {needle!r} in {text[:160]!r}")

    # the script ----------------------------------------------------------------------------

    def journey(self) -> Journey:
        """Yield ``(kind, inbound)`` events; receive each event's replies."""
        roadmap = self.roadmap
        replies = yield ("start", self._say("/start"))
        self._expect(replies, "artist name", "/start")
        replies = yield ("name", self._say(f"Artist {self.number}"))
        pick = encode("pick", roadmap.slug)
        if pick not in _buttons(replies):
            raise JourneyError(f"no pick button {pick} after the artist name")
        replies = yield ("pick", self._press(pick))
        self._expect(replies, "You're on", "pick")
        card = _task_card(replies)
        tasks = self.bench.catalog.tasks_by_slug
        for _ in range(MAX_TASKS):
            countries = _country_buttons(replies)
            if countries:  # the coach asks the country once, before a money task
                replies = yield ("answer", self._press(self.rng.choice(countries)))
                card = _task_card(replies)
                continue
            # Follow the coach: which task comes next depends on the musician's answers (a
            # self-produced artist gets the self-mix task) and country; the script does what
            # the shown card asks.
            shown = _card_slug(card)
            if shown is None:
                break
            task = tasks[shown]
            while True:
                roll = self.rng.random()
                if roll < PROGRESS_SHARE:
                    replies = yield ("progress", self._say("/progress"))
                    self._expect(replies, "% overall", "/progress")
                    continue
                if roll < PROGRESS_SHARE + SKIP_SHARE:
                    replies = yield ("skip", self._say("/skip"))
                    self._expect(replies, "Skipped", "/skip")
                    break
                if task.is_checklist:
                    tick = _first_tick(card) if card is not None else None
                    if tick is None:
                        raise JourneyError(f"checklist {task.slug} has no unticked item left")
                    replies = yield ("tick", self._press(tick))
                    if "— done!" in _text(replies):
                        break
                    card = _task_card(replies)
                    if _card_slug(card) != task.slug:
                        raise JourneyError(f"after a tick of {task.slug}: {_text(replies)[:160]!r}")
                    continue
                answer = example_answer(task.spec, today=datetime.now(UTC).date())
                replies = yield ("answer", self._say(answer))
                confirm = encode("confirm", task.slug, "y")
                if confirm in _buttons(replies):
                    replies = yield ("confirm", self._press(confirm))
                self._expect(replies, "Saved:", f"answering {task.slug} with {answer!r}")
                break
            card = _task_card(replies)
        else:
            raise JourneyError(f"{roadmap.slug}: no end after {MAX_TASKS} tasks")
        text = _text(replies)
        if not any(end in text for end in _ENDS):
            raise JourneyError(f"after the last task: no end of the roadmap in {text[:160]!r}")
        self.bench.journeys_done += 1

    # one event -----------------------------------------------------------------------------

    async def step(self) -> StepResult:
        """Send the pending event through ``handle()`` and move the script on."""
        kind, inbound = self.pending
        self.sent += 1
        statements: list[str] = []
        token = _STATEMENTS.set(statements)
        failure: Failure | None = None
        replies: list[Outbound] = []
        started = time.perf_counter()
        try:
            replies = await self.bench.coach.handle(inbound)
        except Exception as exc:
            failure = Failure("exception", repr(exc)[:300])
        finally:
            ended = time.perf_counter()
            _STATEMENTS.reset(token)
        if failure is None and any(r.text == SORRY for r in replies):
            failure = Failure("sorry", "the coach answered SORRY")
        if failure is None:
            try:
                self.pending = self._journey.send(replies)
            except StopIteration:
                self._new_journey()
            except JourneyError as exc:
                failure = Failure("unexpected", str(exc))
                self._new_journey()
        else:
            self._new_journey()
        return StepResult(kind, started, ended, statements, failure)


# ------------------------------------------------------------------------------------- bench


@dataclass
class Bench:
    """Everything the phases share."""

    args: argparse.Namespace
    db: Database
    coach: Coach
    catalog: Catalog
    run_tag: str
    rng: random.Random
    update_ids_on: bool = True
    musician_numbers: itertools.count[int] = field(default_factory=itertools.count)
    update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    journeys_done: int = 0


def _count_statement(
    _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _executemany: bool
) -> None:
    verbs = _STATEMENTS.get()
    if verbs is not None:
        head = statement.lstrip().split(None, 1)
        verbs.append(head[0].upper() if head else "?")


def _count_hot_statement(statement: str) -> None:
    _count_statement(None, None, statement, None, None, False)


async def closed_loop(
    bench: Bench, musicians: list[Musician]
) -> tuple[Recorder, float, float, dict[str, float]]:
    """``len(musicians)`` musicians without think time.

    Returns the recorded events, the measured window, the warm-up it took and the CPU split.
    """
    args = bench.args
    recorder = Recorder()
    measuring = False
    stop = False

    onboarded = asyncio.Event()
    waiting = len(musicians)

    async def run(m: Musician) -> None:
        nonlocal waiting
        while not stop:
            result = await m.step()
            if m.sent == ONBOARDING:
                waiting -= 1
                if waiting == 0:
                    onboarded.set()
            if measuring:
                recorder.add(result, result.ended - result.started)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for m in musicians:
            group.create_task(run(m))
        # Warm up for --warmup seconds and until every musician is past onboarding (its first
        # three events all start at once), but no longer than twice --warmup.
        await asyncio.sleep(args.warmup)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.warmup):
                await onboarded.wait()
        warmup = time.perf_counter() - started
        profiler = cProfile.Profile() if args.profile else None
        measuring = True
        t0 = time.perf_counter()
        cpu0 = cpu_sample()
        if profiler is not None:
            profiler.enable()
        await asyncio.sleep(args.duration)
        if profiler is not None:
            profiler.disable()
        measuring = False
        window = time.perf_counter() - t0
        cpu = cpu_split(cpu0, cpu_sample())
        stop = True
    if profiler is not None:
        profiler.dump_stats(args.profile)
    return recorder, window, warmup, cpu


@dataclass
class OpenResult:
    """What the open-loop phase saw."""

    recorder: Recorder
    scheduled: int
    backlog: int
    late_starts: int
    unfinished: int
    window: float
    cpu: dict[str, float]


async def open_loop(bench: Bench, musicians: list[Musician]) -> OpenResult:
    """Events at ``--rate``/s, each taking an idle musician; latency from the scheduled time.

    An event that finds no idle musician waits for one (backlog) and its latency still counts
    from its scheduled time. Events still waiting ``--drain`` seconds after the last scheduled
    time are given up as *unfinished*; each is recorded with the time it had waited by then, a
    lower bound, so an overloaded run reports "at least" figures instead of hiding them.
    """
    args = bench.args
    recorder = Recorder()
    idle: asyncio.Queue[Musician] = asyncio.Queue()
    for m in musicians:
        idle.put_nowait(m)
    backlog = 0
    late = 0
    unfinished = 0
    give_up_at: float | None = None
    interval = 1.0 / args.rate
    total = round(args.rate * args.open_duration)
    last_end = 0.0

    async def fire(scheduled: float) -> None:
        nonlocal backlog, late, unfinished, last_end
        if idle.empty():
            backlog += 1
        m = await idle.get()
        if give_up_at is not None:
            idle.put_nowait(m)
            unfinished += 1
            recorder.unfinished.append(give_up_at - scheduled)
            return
        if time.perf_counter() - scheduled > 0.001:
            late += 1
        try:
            result = await m.step()
        finally:
            idle.put_nowait(m)
        recorder.add(result, result.ended - scheduled)
        last_end = max(last_end, result.ended)

    cpu0 = cpu_sample()
    start = time.perf_counter() + 0.01
    tasks: list[asyncio.Task[None]] = []
    async with asyncio.TaskGroup() as group:
        issued = 0
        while issued < total:
            now = time.perf_counter()
            due = start + issued * interval
            if due > now:
                await asyncio.sleep(due - now)
                continue
            while issued < total and start + issued * interval <= now:
                tasks.append(group.create_task(fire(start + issued * interval)))
                issued += 1
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=args.drain)
            if pending:
                give_up_at = time.perf_counter()
        cpu = cpu_split(cpu0, cpu_sample())
    window = (last_end or time.perf_counter()) - start
    return OpenResult(recorder, total, backlog, late, unfinished, window, cpu)


# ------------------------------------------------------------------------------------- floor

FLOOR_TASKS = 30
FLOOR_DDL = (
    # dropped first: the interleaved phase sets the floor up once per window
    "DROP TABLE IF EXISTS bench_floor_progress, bench_floor_profile",
    "CREATE TABLE bench_floor_profile (id integer PRIMARY KEY, counter integer NOT NULL, "
    "data jsonb NOT NULL, updated_at timestamptz NOT NULL)",
    "CREATE TABLE bench_floor_progress (profile_id integer NOT NULL "
    "REFERENCES bench_floor_profile (id), task_no integer NOT NULL, status text NOT NULL, "
    "data jsonb NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (profile_id, task_no))",
)
FLOOR_LOCK = "SELECT id, counter, data FROM bench_floor_profile WHERE id = $1 FOR UPDATE"
FLOOR_SELECT = (
    "SELECT task_no, status, data FROM bench_floor_progress "
    "WHERE profile_id = $1 AND task_no = ANY($2::integer[])"
)
FLOOR_UPSERT = (
    "INSERT INTO bench_floor_progress (profile_id, task_no, status, data, updated_at) "
    "VALUES ($1, $2, 'in_progress', $3::jsonb, now()) ON CONFLICT (profile_id, task_no) "
    "DO UPDATE SET status = excluded.status, data = excluded.data, updated_at = now()"
)
FLOOR_UPDATE = (
    "UPDATE bench_floor_profile SET counter = counter + 1, data = $2::jsonb, updated_at = now() "
    "WHERE id = $1"
)


@dataclass
class FloorResult:
    """Bare asyncpg transactions."""

    statements: int
    transactions: int
    window: float
    latencies: list[float]
    errors: int
    cpu: dict[str, float]


async def floor(
    dsn: str, workers: int, connections: int, statements: int, duration: float
) -> FloorResult:
    """Transactions of ``statements`` statements: lock a row, read, upsert, update."""
    statements = max(1, statements)
    selects = max(0, statements - 3)
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    try:
        async with pool.acquire() as conn:
            for ddl in FLOOR_DDL:
                await conn.execute(ddl)
            await conn.execute(
                "INSERT INTO bench_floor_profile SELECT g, 0, '{}'::jsonb, now() "
                "FROM generate_series(1, $1::integer) g",
                workers,
            )
            await conn.execute(
                "INSERT INTO bench_floor_progress "
                "SELECT p, t, 'not_started', '{}'::jsonb, now() "
                "FROM generate_series(1, $1::integer) p, generate_series(0, $2::integer - 1) t",
                workers,
                FLOOR_TASKS,
            )
            await conn.execute("ANALYZE bench_floor_profile; ANALYZE bench_floor_progress")
        latencies: list[float] = []
        errors = 0
        measuring = False
        stop = False

        async def run(profile_id: int) -> None:
            nonlocal errors
            n = 0
            while not stop:
                n += 1
                task_no = n % FLOOR_TASKS
                started = time.perf_counter()
                try:
                    async with pool.acquire() as conn, conn.transaction():
                        await conn.fetchrow(FLOOR_LOCK, profile_id)
                        for k in range(selects):
                            ids = [task_no, (task_no + k + 1) % FLOOR_TASKS]
                            await conn.fetch(FLOOR_SELECT, profile_id, ids)
                        if statements >= 3:
                            data = json.dumps({"ticked": list(range(n % 7))})
                            await conn.execute(FLOOR_UPSERT, profile_id, task_no, data)
                        if statements >= 2:
                            await conn.execute(FLOOR_UPDATE, profile_id, json.dumps({"n": n}))
                except Exception:
                    errors += 1
                    continue
                if measuring:
                    latencies.append(time.perf_counter() - started)

        async with asyncio.TaskGroup() as group:
            for i in range(workers):
                group.create_task(run(i + 1))
            await asyncio.sleep(FLOOR_WARMUP)
            measuring = True
            t0 = time.perf_counter()
            cpu0 = cpu_sample()
            await asyncio.sleep(duration)
            measuring = False
            window = time.perf_counter() - t0
            cpu = cpu_split(cpu0, cpu_sample())
            stop = True
    finally:
        await pool.close()
    return FloorResult(statements, len(latencies), window, latencies, errors, cpu)


#: The length of each window of the interleaved phase, and how many pairs it runs.
PAIR_SECONDS = 4.0
PAIRS = 5


async def interleaved(
    bench: Bench,
    musicians: list[Musician],
    dsn: str,
    connections: int,
    statements: int,
    *,
    failed: Counter[str],
) -> list[tuple[float, float]]:
    """Ours and the floor in alternating short windows: (events/s, transactions/s) per pair.

    The separate phases above run ours and the floor 20 s apart, and this VM's speed moves
    within minutes (the floor alone measured 2 000 to 3 300 transactions/s between runs), so a
    ratio of one phase to the other carries that drift. Pairs of back-to-back windows share
    the machine's state; the median of their ratios is the figure to hold against a goal.
    """
    short = argparse.Namespace(
        **{**vars(bench.args), "duration": PAIR_SECONDS, "warmup": 0.5, "profile": None}
    )
    paced = Bench(
        args=short,
        db=bench.db,
        coach=bench.coach,
        catalog=bench.catalog,
        run_tag=bench.run_tag,
        rng=bench.rng,
        update_ids_on=bench.update_ids_on,
    )
    pairs: list[tuple[float, float]] = []
    for _ in range(PAIRS):
        recorder, window, _warmup, _cpu = await closed_loop(paced, musicians)
        failed.update(recorder.failures)
        fl = await floor(dsn, len(musicians), connections, statements, PAIR_SECONDS)
        pairs.append((recorder.events / window, fl.transactions / fl.window))
    return pairs


# ------------------------------------------------------------------------------------ set-up


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        description="Benchmark Coach.handle() on PostgreSQL with simulated musicians."
    )
    parser.add_argument("--db", default=DEFAULT_DB, help=f"admin URL (default {DEFAULT_DB})")
    parser.add_argument("--musicians", type=int, default=100, help="concurrent musicians")
    parser.add_argument("--duration", type=float, default=20.0, help="closed-loop/floor seconds")
    parser.add_argument("--warmup", type=float, default=3.0, help="closed-loop warm-up seconds")
    parser.add_argument("--rate", type=float, default=400.0, help="open-loop events per second")
    parser.add_argument("--open-duration", type=float, default=20.0, help="open-loop seconds")
    parser.add_argument(
        "--drain",
        type=float,
        default=5.0,
        help="open loop: seconds to wait for late events after the last scheduled one",
    )
    parser.add_argument(
        "--pool-size",
        type=int,
        default=10,
        help="connections of each Database pool (no overflow); the floor gets twice as many",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument(
        "--profile",
        metavar="PATH",
        default=None,
        help="cProfile the closed-loop window (slows it down) and write the stats to PATH",
    )
    parser.add_argument("--no-uvloop", action="store_true", help="use the default event loop")
    parser.add_argument(
        "--no-update-ids", action="store_true", help="send events without a platform update_id"
    )
    args = parser.parse_args(argv)
    if args.musicians < 1 or args.rate <= 0 or args.duration <= 0 or args.open_duration <= 0:
        parser.error("--musicians, --rate, --duration and --open-duration must be positive")
    return args


# --------------------------------------------------------------------------------------- main


def _kind_table(recorder: Recorder) -> list[str]:
    lines = [f"    {'event':<9}{'count':>8}{'share':>8}{'stmts/ev':>10}{'p50 ms':>9}{'p95 ms':>9}"]
    for kind, values in sorted(recorder.by_kind.items(), key=lambda kv: -len(kv[1])):
        s = summary_ms(values)
        share = 100 * len(values) / max(1, recorder.events)
        stmts = recorder.statements_by_kind[kind] / len(values)
        lines.append(
            f"    {kind:<9}{len(values):>8}{share:>7.1f}%{stmts:>10.2f}{s['p50']:>9.2f}"
            f"{s['p95']:>9.2f}"
        )
    return lines


async def bench_main(args: argparse.Namespace, run: Run, loop_name: str) -> int:
    """Every phase; returns the exit status."""
    figures: dict[str, Any] = {}
    facts = await run.create()
    db_url = asyncpg_dsn(args.db, run.name)
    say("Stardom Coach — core benchmark")
    say(f"  date        {datetime.now(UTC).isoformat(timespec='seconds')}")
    say(f"  python      {platform.python_version()} ({platform.python_implementation()})")
    say(f"  cpu         {cpu_model()}")
    load = os.getloadavg()
    say(f"  cores       {os.cpu_count()} (load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    say(
        f"  postgresql  {facts['server_version']} (synchronous_commit={facts['synchronous_commit']}"
        f", max_connections={facts['max_connections']})"
    )
    say(f"  event loop  {loop_name}")
    say(f"  libraries   SQLAlchemy {sqlalchemy.__version__}, asyncpg {asyncpg.__version__}")
    figures["header"] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "loadavg": [round(v, 2) for v in load],
        "postgresql": facts["server_version"],
        "synchronous_commit": facts["synchronous_commit"],
        "uvloop": loop_name.startswith("uvloop"),
        "sqlalchemy": sqlalchemy.__version__,
        "asyncpg": asyncpg.__version__,
    }

    t_setup = time.perf_counter()
    await asyncio.to_thread(upgrade, db_url)
    db = Database(db_url, pool_size=args.pool_size, max_overflow=0)
    connections = 2 * args.pool_size
    try:
        async with db.transaction() as session:
            await sync_roadmaps(session, load_roadmaps())
        async with db.transaction() as session:
            catalog = await load_catalog(session)
        if not catalog.roadmaps:
            raise RuntimeError("no roadmaps after the sync")
        setup_s = time.perf_counter() - t_setup
        rng = random.Random(args.seed)
        bench = Bench(
            args=args,
            db=db,
            coach=Coach(db),
            catalog=catalog,
            run_tag=f"b{secrets.token_hex(3)}",
            rng=rng,
            update_ids_on=not args.no_update_ids,
        )
        say(f"  database    {run.name} (migrated and synced in {setup_s:.1f} s)")
        say(
            f"  roadmaps    {len(catalog.roadmaps)}: "
            + ", ".join(f"{r.slug} ({len(planned_tasks(r))} tasks)" for r in catalog.roadmaps)
        )
        say(
            f"  workload    {args.musicians} musicians, pools of {args.pool_size} connections, "
            f"update ids {'on' if bench.update_ids_on else 'off'}, "
            f"~{PROGRESS_SHARE:.0%} /progress, ~{SKIP_SHARE:.0%} /skip"
        )
        say(f"  peak RSS    {peak_rss_mib()} MiB after set-up")
        figures["setup"] = {
            "database": run.name,
            "seconds": round(setup_s, 2),
            "musicians": args.musicians,
            "pool_connections": connections,
            "update_ids": bench.update_ids_on,
            "rss_mib": peak_rss_mib(),
        }

        # -- closed loop ----------------------------------------------------------------------
        musicians = [Musician(bench) for _ in range(args.musicians)]
        interleaved_failures: Counter[str] = Counter()
        event.listen(db.engine.sync_engine, "before_cursor_execute", _count_statement)
        db.statement_hook = _count_hot_statement  # the asyncpg hot path on PostgreSQL
        closed, window, warmup, closed_cpu = await closed_loop(bench, musicians)
        db.statement_hook = None
        event.remove(db.engine.sync_engine, "before_cursor_execute", _count_statement)
        throughput = closed.events / window
        lat = summary_ms(closed.latencies)
        per_event = closed.statements / max(1, closed.events)
        say()
        say(
            f"[1] Closed loop: {args.musicians} musicians, no think time, "
            f"{warmup:.1f} s warm-up + {window:.1f} s"
        )
        say(
            f"    events          {closed.events}  ({bench.journeys_done} journeys finished so far)"
        )
        say(f"    throughput      {throughput:.0f} events/s")
        say(
            f"    handle() ms     p50 {lat['p50']:.2f}  p95 {lat['p95']:.2f}  "
            f"p99 {lat['p99']:.2f}  max {lat['max']:.2f}  mean {lat['mean']:.2f}"
        )
        say(
            f"    SQL/event       {per_event:.2f} cursor executes ("
            + ", ".join(
                f"{verb} {count / max(1, closed.events):.2f}"
                for verb, count in closed.verbs.most_common()
            )
            + "); BEGIN and COMMIT are not cursor executes: +2 round trips"
        )
        for line in _kind_table(closed):
            say(line)
        say(f"    CPU             {cpu_line(closed_cpu)}")
        say(f"    errors          {closed.errors}")
        say(f"    peak RSS        {peak_rss_mib()} MiB")
        figures["closed_loop"] = {
            "musicians": args.musicians,
            "seconds": round(window, 2),
            "warmup_seconds": round(warmup, 2),
            "events": closed.events,
            "events_per_s": round(throughput, 1),
            "latency_ms": lat,
            "statements_per_event": round(per_event, 2),
            "statements_by_verb": {
                verb: round(count / max(1, closed.events), 3)
                for verb, count in closed.verbs.items()
            },
            "by_event": {
                kind: {
                    "events": len(values),
                    "statements_per_event": round(closed.statements_by_kind[kind] / len(values), 2),
                    "latency_ms": summary_ms(values),
                }
                for kind, values in closed.by_kind.items()
            },
            "errors": closed.errors,
            "cpu_cores": closed_cpu,
            "rss_mib": peak_rss_mib(),
        }

        # -- open loop ------------------------------------------------------------------------
        opened = await open_loop(bench, musicians)
        orec = opened.recorder
        olat = summary_ms(orec.latencies + orec.unfinished)
        osvc = summary_ms(orec.service)
        achieved = orec.events / opened.window if opened.window > 0 else 0.0
        bound = "≥ " if opened.unfinished else ""
        say()
        say(
            f"[2] Open loop: {args.rate:g} events/s offered for {args.open_duration:g} s, "
            f"{args.musicians} musicians (one event in flight each)"
        )
        say(
            f"    events          {orec.events} of {opened.scheduled} scheduled done; "
            f"achieved {achieved:.1f} events/s"
        )
        say(
            f"    from schedule   {bound}p50 {olat['p50']:.2f}  p95 {olat['p95']:.2f}  "
            f"p99 {olat['p99']:.2f}  max {olat['max']:.2f} ms"
        )
        say(
            f"    handle() only   p50 {osvc['p50']:.2f}  p95 {osvc['p95']:.2f}  "
            f"p99 {osvc['p99']:.2f}  max {osvc['max']:.2f} ms"
        )
        say(
            f"    backlog         {opened.backlog} events found no idle musician; "
            f"{opened.late_starts} started > 1 ms after their scheduled time"
        )
        if opened.unfinished:
            say(
                f"    OVERLOADED      {opened.unfinished} events still queued {args.drain:g} s "
                "after the last scheduled one were given up (counted in the percentiles with "
                "the time they had waited: the figures are lower bounds)"
            )
        say(f"    CPU             {cpu_line(opened.cpu)}")
        say(f"    errors          {orec.errors}")
        say(f"    peak RSS        {peak_rss_mib()} MiB")
        figures["open_loop"] = {
            "rate": args.rate,
            "seconds": args.open_duration,
            "scheduled": opened.scheduled,
            "events": orec.events,
            "achieved_per_s": round(achieved, 1),
            "latency_ms": olat,
            "handle_ms": osvc,
            "backlog": opened.backlog,
            "late_starts": opened.late_starts,
            "unfinished": opened.unfinished,
            "latency_is_lower_bound": bool(opened.unfinished),
            "errors": orec.errors,
            "cpu_cores": opened.cpu,
            "rss_mib": peak_rss_mib(),
        }

        # -- interleaved: ours and the floor in alternating short windows ------------------
        pairs = await interleaved(
            bench, musicians, db_url, connections, round(per_event), failed=interleaved_failures
        )
        ratios = sorted(o / f for o, f in pairs if f)
        middle = ratios[len(ratios) // 2] if ratios else 0.0
        say()
        say(
            f"[4] Interleaved: {len(pairs)} pairs of {PAIR_SECONDS:g} s windows, ours (closed "
            "loop, the same musicians) then the floor, back to back"
        )
        for n, (o, f) in enumerate(pairs, start=1):
            say(f"    pair {n}          ours {o:.0f} events/s, floor {f:.0f} tx/s: {o / f:.2f}")
        say(
            f"    ours/floor      median of the pairs {middle:.2f} (range {ratios[0]:.2f}–"
            f"{ratios[-1]:.2f})"
        )
        figures["interleaved"] = {
            "pair_seconds": PAIR_SECONDS,
            "pairs": [[round(o, 1), round(f, 1)] for o, f in pairs],
            "ours_over_floor_median": round(middle, 3),
        }
    finally:
        await db.dispose()

    # -- floor ------------------------------------------------------------------------------
    statements = max(1, round(per_event))
    fl = await floor(db_url, args.musicians, connections, statements, args.duration)
    floor_tps = fl.transactions / fl.window
    flat = summary_ms(fl.latencies)
    ratio = throughput / floor_tps if floor_tps else 0.0
    say()
    say(
        f"[3] Floor: bare asyncpg, {args.musicians} tasks on {connections} connections, "
        f"{FLOOR_WARMUP:g} s warm-up + {fl.window:.1f} s"
    )
    say(
        f"    transaction     BEGIN; {statements} statements (1 SELECT … FOR UPDATE, "
        f"{max(0, statements - 3)} SELECT, 1 upsert, 1 UPDATE); COMMIT"
    )
    say(f"    throughput      {floor_tps:.0f} transactions/s")
    say(
        f"    latency ms      p50 {flat['p50']:.2f}  p95 {flat['p95']:.2f}  "
        f"p99 {flat['p99']:.2f}  max {flat['max']:.2f}"
    )
    say(f"    ours/floor      {ratio:.2f} ({throughput:.0f} / {floor_tps:.0f})")
    say(f"    CPU             {cpu_line(fl.cpu)}")
    say(f"    errors          {fl.errors}")
    say(f"    peak RSS        {peak_rss_mib()} MiB")
    figures["floor"] = {
        "statements": statements,
        "connections": connections,
        "seconds": round(fl.window, 2),
        "transactions": fl.transactions,
        "transactions_per_s": round(floor_tps, 1),
        "latency_ms": flat,
        "ours_over_floor": round(ratio, 3),
        "errors": fl.errors,
        "cpu_cores": fl.cpu,
        "rss_mib": peak_rss_mib(),
    }

    # -- verdict ----------------------------------------------------------------------------
    failures = closed.failures + orec.failures + interleaved_failures
    errors = sum(failures.values())
    figures["errors"] = {"total": errors, **dict(failures)}
    figures["journeys_finished"] = bench.journeys_done
    say()
    started = next(bench.musician_numbers)
    say(f"Journeys finished: {bench.journeys_done}; musicians started: {started}")
    if errors:
        say("!" * 78)
        say(f"!!! {errors} EVENT(S) FAILED: {dict(failures)} — the figures above are not valid")
        for sample in (closed.samples + orec.samples)[:5]:
            say(f"!!!   {sample}")
        say("!" * 78)
    else:
        say("Errors: 0")
    say("BENCH_JSON " + json.dumps(figures, sort_keys=True, separators=(",", ":")))
    return 1 if errors else 0


def _loop_factory(use_uvloop: bool) -> tuple[Callable[[], asyncio.AbstractEventLoop] | None, str]:
    if use_uvloop:
        try:
            import uvloop  # noqa: PLC0415  (optional)
        except ImportError:
            return None, "asyncio (uvloop not installed)"
        return uvloop.new_event_loop, f"uvloop {importlib.metadata.version('uvloop')}"
    return None, "asyncio (--no-uvloop)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the database is dropped whatever happens."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    factory, loop_name = _loop_factory(not args.no_uvloop)
    run = Run(admin_dsn=asyncpg_dsn(args.db), name=f"coach_bench_{secrets.token_hex(4)}")
    status = 2

    async def guarded() -> int:
        try:
            return await bench_main(args, run, loop_name)
        finally:
            await run.drop()

    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            status = runner.run(guarded())
    except KeyboardInterrupt:
        say("\ninterrupted")
        status = 130
    except (OSError, asyncpg.PostgresError) as exc:  # server unreachable, no permission, ...
        say(f"benchmark failed: {exc!r}")
        status = 2
    finally:
        if run.created and not run.dropped:  # a second Ctrl-C or a failed drop: try once more
            try:
                asyncio.run(run.drop())
            except (OSError, asyncpg.PostgresError) as exc:
                say(f"could not drop database {run.name}: {exc!r} — drop it by hand")
    return status


if __name__ == "__main__":
    sys.exit(main())
