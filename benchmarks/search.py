"""The question search benchmark: latency of answering a musician's question, on both backends.

Run from the repository root::

    .venv/bin/python benchmarks/search.py [--db postgresql://postgres@127.0.0.1:5432/postgres]
        [--rounds 20]

For PostgreSQL it creates a throwaway database ``coach_bench_<random>`` (dropped at the end);
for SQLite a file in a temporary folder. Each is migrated, the bundled roadmaps are synced (which
builds the search index), and then every question of ``tests/data/questions.yaml`` is answered
``--rounds`` times through :func:`core.journey.questions.answers_for` — what a question costs
in a chat turn: reading it (synonyms, spelling against the content's vocabulary), the index
query on the hot path's executor (asyncpg on PostgreSQL), and the coverage check. Printed per
backend: p50/p95/max of one question, the index query alone, the time to build the vocabulary
(once per content snapshot), and the hit rate (expected task in the top 3). The machine's load
average is printed too: the figures are only comparable on a quiet machine.

The last line is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from typing import Any  # noqa: E402

import yaml  # noqa: E402

from benchmarks.benchkit import Run, asyncpg_dsn, cpu_model, run_dropping, say, summary_ms  # noqa: E402
from core.db.engine import Database  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.journey import questions  # noqa: E402
from core.knowledge.search import search  # noqa: E402
from core.knowledge.words import read_query  # noqa: E402
from core.roadmaps.catalog import load_catalog  # noqa: E402
from core.roadmaps.loader import load_roadmaps  # noqa: E402
from core.roadmaps.sync import sync_roadmaps  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/postgres"
QUESTIONS = _HERE.parent / "tests" / "data" / "questions.yaml"


async def measure(url: str, rounds: int) -> dict[str, Any]:
    """Migrate ``url``, sync the roadmaps, answer every question ``rounds`` times."""
    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    try:
        async with database.transaction() as session:
            await sync_roadmaps(session, load_roadmaps())
        async with database.transaction() as session:
            catalog = await load_catalog(session)
        started = time.perf_counter()
        questions.build_knowledge(catalog)  # what a new content snapshot costs, once
        vocabulary_ms = round((time.perf_counter() - started) * 1000, 2)
        knowledge = questions.knowledge_of(catalog)
        asked: list[dict[str, Any]] = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
        whole: list[float] = []
        query_only: list[float] = []
        hits = 0
        for n in range(rounds):
            for q in asked:
                roadmap = catalog.roadmap_by_slug(q["roadmap"])
                prefer = None if roadmap is None else roadmap.id
                async with database.unit_of_work() as ex:
                    started = time.perf_counter()
                    _query, found = await questions.answers_for(ex, catalog, q["q"], prefer=prefer)
                    whole.append(time.perf_counter() - started)
                    query = read_query(q["q"], knowledge.vocabulary)
                    started = time.perf_counter()
                    await search(
                        ex, query, prefer=prefer, limit=questions.ASKED * questions.COUNTRY_TWINS
                    )
                    query_only.append(time.perf_counter() - started)
                if n == 0:
                    hits += q["expect"] in [task.slug for task in found]
        return {
            "questions": len(asked),
            "rounds": rounds,
            "hit_rate": round(hits / len(asked), 3),
            "answer_ms": summary_ms(whole),
            "index_query_ms": summary_ms(query_only),
            "vocabulary_build_ms": vocabulary_ms,
            "vocabulary_words": len(knowledge.vocabulary),
        }
    finally:
        await database.dispose()


def report(name: str, figures: dict[str, Any]) -> None:
    """One backend's lines."""
    answer, query = figures["answer_ms"], figures["index_query_ms"]
    say(
        f"{name}: one question p50 {answer['p50']} ms, p95 {answer['p95']} ms, "
        f"max {answer['max']} ms; the index query alone p50 {query['p50']} ms, "
        f"p95 {query['p95']} ms"
    )
    say(
        f"{name}: hit rate {figures['hit_rate']:.1%} of {figures['questions']} questions; "
        f"vocabulary ({figures['vocabulary_words']} words) built in "
        f"{figures['vocabulary_build_ms']} ms"
    )


async def bench(args: argparse.Namespace, run: Run) -> int:
    load = os.getloadavg()
    say(f"CPU: {cpu_model()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    facts = await run.create()
    say(f"PostgreSQL {facts['server_version']}")
    pg = await measure(asyncpg_dsn(args.db, run.name), args.rounds)
    report("PostgreSQL", pg)
    with tempfile.TemporaryDirectory() as folder:
        lite = await measure(f"sqlite+aiosqlite:///{folder}/search.db", args.rounds)
    report("SQLite", lite)
    figures = {"postgresql": pg, "sqlite": lite, "load_average": load}
    say("")
    say("BENCH_JSON " + json.dumps(figures))
    return 0 if min(pg["hit_rate"], lite["hit_rate"]) >= 0.9 else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB, help=f"admin URL (default {DEFAULT_DB})")
    parser.add_argument("--rounds", type=int, default=20, help="times each question is asked")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    run = Run(admin_dsn=asyncpg_dsn(args.db), name=f"coach_bench_{secrets.token_hex(4)}")
    return run_dropping(run, lambda: bench(args, run))


if __name__ == "__main__":
    sys.exit(main())
