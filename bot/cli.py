"""The ``coach`` command: terminal chat, database migrations and pruning, roadmap check and sync."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import re
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from bot.console.chat import ConsoleChat, is_interactive
from bot.console.notify import ConsoleNotifier
from bot.lifecycle import running
from core.admin.access import parse_admins
from core.admin.ratelimit import RateLimit
from core.app.engine import Coach
from core.app.jobs import background_jobs
from core.clock import system_clock
from core.coaching.numbers.drawing import chart_workers
from core.db import backup as db_backup
from core.db.engine import Database
from core.db.migrate import (
    current_revision,
    head_revision,
    known_revision,
    schema_status,
    upgrade_async,
)
from core.errors import CoachError, ConfigurationError
from core.housekeeping import PruneReport, Retention, prune
from core.jobs.runner import JobRunner
from core.kernel.frontend import FrontEnd
from core.kernel.notify import by_platform
from core.logging import configure_logging
from core.observe import context as log_context
from core.roadmaps.loader import check_roadmaps, format_summary, load_roadmaps
from core.roadmaps.sync import sync_roadmaps
from core.sentry import init_sentry
from core.settings import Settings, load_settings

if TYPE_CHECKING:
    from aiohttp import web

    from bot.discord.client import DiscordFrontEnd
    from core.observe.metrics import CoachMetrics

logger = logging.getLogger("coach.cli")


def chat_log_file() -> Path:
    """Where ``coach chat`` writes its log lines: next to its SQLite file, in the user's data
    folder (``~/.local/share/stardom-coach/coach-chat.log`` on Linux)."""
    return Path(user_data_dir("stardom-coach", appauthor=False)) / "coach-chat.log"


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(
        database_url=getattr(args, "db", None), roadmaps_dir=getattr(args, "dir", None)
    )


def make_coach(
    db: Database,
    settings: Settings,
    *,
    limited: bool = True,
    metrics: CoachMetrics | None = None,
) -> Coach:
    """The coach with this process's admin list, rate limit and roadmap folder, drawing charts
    in worker processes (one per core, started on the first chart) and redrawing a musician's
    chart in the background after each new number. Close it (``Coach.close``) after its
    front ends stopped: that ends the warm-ups and the worker processes.

    ``limited=False`` for the terminal: one local person (or a piped transcript) at a keyboard
    has nobody to be protected from, and a transcript of 30 lines is not a flood.
    """
    try:
        admins = parse_admins(settings.coach_admins)
        limit = RateLimit.parse(settings.coach_rate_limit)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    return Coach(
        db,
        admins=admins,
        rate_limit=limit if limited else None,
        roadmaps_dir=settings.roadmaps_dir,
        link_secret=(
            settings.coach_link_secret.get_secret_value() if settings.coach_link_secret else None
        ),
        telegram_bot=settings.telegram_bot_username,
        offload=chart_workers(),
        warm_charts=True,
        metrics=metrics,
    )


def _ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite file so a fresh machine needs no manual step."""
    match = re.match(r"^sqlite(?:\+\w+)?:///(.+)$", url)
    if match and match.group(1) != ":memory:":
        Path(match.group(1)).expanduser().parent.mkdir(parents=True, exist_ok=True)


async def prepare_database(settings: Settings, *, migrate: bool, sync: bool) -> Database:
    """Open the database; optionally migrate it to head and sync the roadmap content."""
    _ensure_sqlite_dir(settings.database_url)
    if migrate:
        await upgrade_async(settings.database_url)
    db = Database.from_settings(settings)
    if sync:
        roadmaps = load_roadmaps(settings.roadmaps_dir)
        async with db.transaction() as session:
            report = await sync_roadmaps(session, roadmaps)
        logger.info("roadmaps synced: %s", report.summary())
    return db


async def _chat(args: argparse.Namespace) -> int:
    settings = _settings(args)
    db = await prepare_database(settings, migrate=args.migrate, sync=args.migrate)
    jobs: JobRunner | None = None
    coach: Coach | None = None
    try:
        pictures = Path(user_data_dir("stardom-coach", appauthor=False)) / "pictures"
        coach = make_coach(db, settings, limited=False)  # one local person: no rate limit
        chat = ConsoleChat(
            coach, args.user, sys.stdout, color=is_interactive(), picture_dir=pictures
        )
        # nudges due while chatting are printed in the chat (no broadcast reaches a terminal)
        notifier = ConsoleNotifier(chat, prompt="you> " if sys.stdin.isatty() else "")
        jobs = background_jobs(
            db,
            by_platform(notifier),
            settings,
            clock=coach.clock,
            catalog=coach.catalog,
            broadcasts=False,
        )
        await jobs.start()
        if sys.stdin.isatty():
            await chat.run_interactive()
        else:
            await chat.run_transcript(sys.stdin)
    finally:
        if jobs is not None:
            await jobs.stop()
        if coach is not None:
            await coach.close()  # the chart warm-ups and worker processes
        await db.dispose()
    return 0


async def _db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _ensure_sqlite_dir(settings.database_url)
    await upgrade_async(settings.database_url, args.revision)
    print(f"database is at revision {args.revision}")
    return 0


async def _db_prune(args: argparse.Namespace) -> int:
    settings = _settings(args)
    retention = Retention.from_settings(settings)
    db = Database.from_settings(settings)
    try:
        try:
            revision = await current_revision(db)
        except (OSError, SQLAlchemyError) as exc:
            reason = getattr(exc, "orig", None) or exc
            print(f"Cannot open the database: {type(reason).__name__}.", file=sys.stderr)
            return 1
        if revision != head_revision():
            print(
                "The database schema is not up to date: run `coach db upgrade` first.",
                file=sys.stderr,
            )
            return 1
        report = await prune(db, now=system_clock(), retention=retention)
    finally:
        await db.dispose()
    print(prune_summary(report, retention))
    return 0


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MiB"


async def _db_backup(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        done = await db_backup.backup(settings.database_url, Path(args.file))
    except db_backup.BackupError as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    people = f", {done.profiles} profiles" if done.profiles is not None else ""
    print(
        f"Backed up to {done.path} ({_size(done.size_bytes)}, schema {done.revision}{people}). "
        f"Restore with: coach db restore {done.path} --yes"
    )
    return 0


async def _db_restore(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if not args.yes:
        print(
            "A restore replaces everything in the database with the backup. Stop the bot's "
            "workers, then run this again with --yes.",
            file=sys.stderr,
        )
        return 2
    _ensure_sqlite_dir(settings.database_url)
    try:
        done = await db_backup.restore(settings.database_url, Path(args.file))
    except db_backup.BackupError as exc:
        print(f"Restore failed: {exc}", file=sys.stderr)
        return 1
    people = f" ({done.profiles} profiles)" if done.profiles is not None else ""
    known = done.revision is not None and known_revision(done.revision)
    advice = db_backup.revision_in(done, head_revision(), known=known)
    print(f"Restored {done.path}{people}. {advice}")
    return 0


def prune_summary(report: PruneReport, retention: Retention) -> str:
    """What ``coach db prune`` deleted, one line per table."""
    days = f"{retention.deliveries.days} days"
    return "\n".join(
        (
            f"processed_updates: {report.processed_updates:,} deleted "
            f"(update ids older than {retention.updates.days} days)",
            f"deliveries: {report.per_table()['deliveries']:,} deleted "
            f"({report.nudge_deliveries:,} nudge records older than {days}, "
            f"{report.celebration_deliveries:,} milestone celebrations older than {days}, "
            f"{report.broadcast_deliveries:,} rows of broadcasts finished over {days} ago)",
            f"link_codes: {report.link_codes:,} deleted (expired)",
            f"band_invites: {report.band_invites:,} deleted "
            f"(expired over {retention.invites.days} days ago)",
            f"audit_log: {report.audit_denials:,} deleted "
            f"(denied attempts older than {retention.audit_denials.days} days)",
            f"events: {report.events:,} deleted "
            f"(outbox events handled over {retention.events.days} days ago, or never handled "
            f"and no milestone's, or older than {retention.unprocessed_events.days} days)",
        )
    )


def _roadmaps_check(args: argparse.Namespace) -> int:
    roadmaps, problems = check_roadmaps(args.dir)
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    print(format_summary(roadmaps))
    return 0


async def _roadmaps_sync(args: argparse.Namespace) -> int:
    settings = _settings(args)
    db = await prepare_database(settings, migrate=args.migrate, sync=False)
    try:
        roadmaps = load_roadmaps(settings.roadmaps_dir)
        async with db.transaction() as session:
            report = await sync_roadmaps(session, roadmaps)
        print(report.summary())
    finally:
        await db.dispose()
    return 0


async def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    token = settings.telegram_bot_token
    discord_token = settings.discord_bot_token
    if token is None and discord_token is None:
        print(
            "No front end to run: set TELEGRAM_BOT_TOKEN or DISCORD_BOT_TOKEN (see the README's "
            "'Run on Telegram' and 'Run on Discord').",
            file=sys.stderr,
        )
        return 2
    secret = settings.telegram_webhook_secret
    if (
        token is not None
        and args.telegram_webhook
        and (secret is None or len(secret.get_secret_value()) < 16)
    ):
        print(
            "Webhook mode needs TELEGRAM_WEBHOOK_SECRET: 16–256 characters of A-Z a-z 0-9 _ - "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))').",
            file=sys.stderr,
        )
        return 2
    db = await prepare_database(settings, migrate=args.migrate, sync=args.migrate)
    schema = await schema_status(db)
    if schema.state in {"empty", "older"}:
        # a worker on an old schema fails on its first event instead; refuse before starting
        await db.dispose()
        print(f"{schema.problem()} (or start with --migrate)", file=sys.stderr)
        return 1
    if schema.state == "newer":
        logger.warning("%s", schema.problem())
    from bot.watch import Watch  # noqa: PLC0415 - aiohttp's server: only `coach run` needs it
    from core.observe.metrics import CoachMetrics  # noqa: PLC0415 - prometheus-client too

    metrics = CoachMetrics()  # this process's own registry (/metrics)
    coach = make_coach(db, settings, metrics=metrics)
    if settings.coach_link_secret is None:
        logger.warning("COACH_LINK_SECRET is not set: /link codes are stored without a server key")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:  # stops everything in reverse order
        stack.push_async_callback(db.dispose)
        # after the front ends stopped: the chart warm-ups, then the worker processes
        stack.push_async_callback(coach.close)
        # /healthz, /readyz, /metrics (bot/watch.py): on their own port when HEALTH_PORT is
        # set, else on the Telegram webhook's listener in webhook mode
        watch = Watch(
            db, metrics, [], clock=coach.clock, job_lag_bound=settings.ready_job_lag_seconds
        )
        own_port = settings.health_port is not None
        watch.fronts = front_ends(
            settings,
            coach,
            webhook=args.telegram_webhook,
            extra_routes=None if own_port else watch.add_routes,
        )
        fronts = watch.fronts
        if settings.health_port is not None:
            await watch.serve(settings.health_listen, settings.health_port)
            stack.push_async_callback(watch.close)
        # each front end started in turn; one unreachable now is retried in the background
        await stack.enter_async_context(
            running(fronts, longest=settings.platform_retry_max_seconds)
        )
        # the reminder tick, housekeeping and the broadcast sender (core/app/jobs.py); at
        # stop, the broadcast message in flight finishes and the rest stays pending
        jobs = background_jobs(
            db,
            by_platform(*fronts),
            settings,
            clock=coach.clock,
            catalog=coach.catalog,
            broadcasts=True,
        )
        watch.attach(jobs)
        await jobs.start()
        stack.push_async_callback(jobs.stop)
        await stop.wait()
    return 0


def front_ends(
    settings: Settings,
    coach: Coach,
    *,
    webhook: bool = False,
    extra_routes: Callable[[web.Application], None] | None = None,
) -> list[FrontEnd]:
    """The front ends whose tokens are set, in the order they start (Telegram, then Discord).

    Telegram polls, or with ``webhook`` (and its secret) listens for Telegram's calls. Each
    platform's package is imported only when its token is set.
    """
    fronts: list[FrontEnd] = []
    token = settings.telegram_bot_token
    if token is not None:
        fronts.append(
            _telegram_front_end(settings, coach, token.get_secret_value(), webhook, extra_routes)
        )
    discord_token = settings.discord_bot_token
    if discord_token is not None:
        fronts.append(_discord_front_end(settings, coach, discord_token.get_secret_value()))
    return fronts


def _telegram_front_end(
    settings: Settings,
    coach: Coach,
    token: str,
    webhook: bool,
    extra_routes: Callable[[web.Application], None] | None = None,
) -> FrontEnd:
    from bot.telegram.app import TelegramFrontEnd  # noqa: PLC0415 - only when Telegram runs
    from bot.telegram.sending import Budgets  # noqa: PLC0415
    from bot.telegram.webhook import TelegramWebhook  # noqa: PLC0415

    front = TelegramFrontEnd(
        coach,
        token,
        api_base_url=settings.telegram_api_base_url,
        budgets=Budgets(
            reply=settings.telegram_reply_budget_seconds,
            notice=settings.telegram_notice_budget_seconds,
        ),
        inbox_lease=timedelta(seconds=settings.telegram_inbox_lease_seconds),
        sends_per_second=settings.telegram_sends_per_second,
    )
    secret = settings.telegram_webhook_secret
    if not webhook or secret is None:
        return front  # long polling
    return TelegramWebhook(
        front,
        secret_token=secret.get_secret_value(),
        listen=settings.telegram_webhook_listen,
        port=settings.telegram_webhook_port,
        path=settings.telegram_webhook_path,
        public_url=settings.telegram_webhook_url,
        trusted_proxies=settings.trusted_proxies(),
        extra_routes=extra_routes,
    )


def _discord_front_end(settings: Settings, coach: Coach, token: str) -> DiscordFrontEnd:
    from bot.discord.client import DiscordFrontEnd  # noqa: PLC0415 - only when Discord runs

    return DiscordFrontEnd(
        coach,
        token,
        api_base_url=settings.discord_api_base_url,
        gateway_url=settings.discord_gateway_url,
        shard_id=settings.discord_shard_id,
        shard_count=settings.discord_shard_count,
        ratelimit_max_seconds=settings.discord_ratelimit_max_seconds,
    )


async def _discord_sync(args: argparse.Namespace) -> int:
    settings = _settings(args)
    token = settings.discord_bot_token
    if token is None:
        print("Set DISCORD_BOT_TOKEN (see the README's 'Run on Discord').", file=sys.stderr)
        return 2
    db = Database(settings.database_url)  # never opened: syncing commands needs no database
    front = _discord_front_end(settings, Coach(db), token.get_secret_value())
    try:
        await front.client.login(token.get_secret_value())
        names = await front.sync_commands(args.guild)
    finally:
        await front.client.close()
        await db.dispose()
    where = f"server {args.guild} (available at once)" if args.guild else "every server (global)"
    print(f"Synced {len(names)} commands to {where}: {', '.join(sorted(names))}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (public so tests and docs can show ``--help``)."""
    parser = argparse.ArgumentParser(
        prog="coach", description="Stardom Coach — a coaching bot for musicians."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser(
        "chat",
        help="chat with the coach in the terminal",
        description="Chat with the coach in the terminal. Log lines never appear in the "
        f"chat: warnings go to a log file (default: {chat_log_file()}).",
    )
    chat.add_argument(
        "--db", help="database URL (default: SQLite in your data folder, or DATABASE_URL)"
    )
    chat.add_argument(
        "--user", default=getpass.getuser() or "me", help="be this musician (identity console:NAME)"
    )
    chat.add_argument(
        "--migrate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="migrate the schema and sync the roadmaps first (default: yes; the embedded "
        "SQLite mode needs no other setup step)",
    )
    chat.add_argument(
        "--log-file",
        type=Path,
        default=chat_log_file(),
        help="where warnings and errors are written (default: %(default)s)",
    )
    chat.set_defaults(func=_chat, is_async=True)

    run = sub.add_parser(
        "run", help="run the bots whose tokens are set (Telegram: long polling; Discord)"
    )
    run.add_argument("--db", help="database URL (default: DATABASE_URL or the SQLite default)")
    run.add_argument(
        "--migrate",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="migrate the schema and sync the roadmaps before starting",
    )
    run.add_argument(
        "--telegram-webhook",
        action="store_true",
        help="receive Telegram updates by webhook (TELEGRAM_WEBHOOK_* settings) instead of polling",
    )
    run.set_defaults(func=_run, is_async=True)

    dc = sub.add_parser("discord", help="Discord set-up").add_subparsers(
        dest="discord_command", required=True
    )
    sync_cmds = dc.add_parser(
        "sync-commands", help="upload the slash commands (globally, or to one server at once)"
    )
    sync_cmds.add_argument(
        "--guild", type=int, help="a server id: its commands update at once (for testing)"
    )
    sync_cmds.set_defaults(func=_discord_sync, is_async=True)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    up = db.add_parser("upgrade", help="run Alembic migrations")
    up.add_argument("--db", help="database URL (default: DATABASE_URL or the SQLite default)")
    up.add_argument("--revision", default="head")
    up.set_defaults(func=_db_upgrade, is_async=True)
    pr = db.add_parser(
        "prune",
        help="delete old bookkeeping rows once (what the workers' hourly housekeeping does)",
    )
    pr.add_argument("--db", help="database URL (default: DATABASE_URL or the SQLite default)")
    pr.set_defaults(func=_db_prune, is_async=True)
    bk = db.add_parser(
        "backup",
        help="write the whole database to a new file (pg_dump custom format, or a SQLite copy)",
    )
    bk.add_argument("file", help="the backup file to create (never overwritten)")
    bk.add_argument("--db", help="database URL (default: DATABASE_URL or the SQLite default)")
    bk.set_defaults(func=_db_backup, is_async=True)
    rs = db.add_parser(
        "restore", help="replace the database's contents with a backup (stop the workers first)"
    )
    rs.add_argument("file", help="a file made by coach db backup")
    rs.add_argument("--db", help="database URL (default: DATABASE_URL or the SQLite default)")
    rs.add_argument("--yes", action="store_true", help="yes, replace what the database holds")
    rs.set_defaults(func=_db_restore, is_async=True)

    rm = sub.add_parser("roadmaps", help="roadmap content").add_subparsers(
        dest="rm_command", required=True
    )
    check = rm.add_parser("check", help="validate every roadmap file and report all problems")
    check.add_argument(
        "--dir", type=Path, help="folder of YAML files (default: the bundled roadmaps)"
    )
    check.set_defaults(func=_roadmaps_check, is_async=False)
    sync = rm.add_parser("sync", help="upsert roadmap content into the database (idempotent)")
    sync.add_argument(
        "--dir", type=Path, help="folder of YAML files (default: the bundled roadmaps)"
    )
    sync.add_argument("--db", help="database URL")
    sync.add_argument("--migrate", action="store_true", help="migrate the schema first")
    sync.set_defaults(func=_roadmaps_sync, is_async=True)
    return parser


def event_loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where it is installed (Linux, macOS), else asyncio's own.

    The front ends spend much of their CPU in the event loop itself (socket reads and writes,
    callbacks); uvloop does that work in C. ``EVENT_LOOP=asyncio`` turns it off.
    """
    if choice != "uvloop":
        return None
    try:
        import uvloop  # noqa: PLC0415 - optional: absent on Windows
    except ImportError:
        return None
    return uvloop.new_event_loop


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coach`` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(database_url=getattr(args, "db", None))
    except ValidationError as exc:
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "Settings"
            print(f"{name}: {error['msg']}", file=sys.stderr)
        return 2
    secrets = settings.secrets()  # the --db password included
    link = settings.coach_link_secret
    log_context.use_key(link.get_secret_value() if link else None)  # hashed ids in log lines
    if args.command == "chat":
        # The terminal is the conversation: log lines (a reminder tick's warnings, a
        # library's complaint) go to a file, never between the musician's lines.
        configure_logging("WARNING", secrets=secrets, log_file=args.log_file)
    else:
        configure_logging(settings.log_level, secrets=secrets, fmt=settings.log_format)
    logging.captureWarnings(True)  # Python warnings too: formatted, redacted, not on a tty
    if args.command != "chat" and settings.sentry_dsn is not None:  # the `sentry` extra
        init_sentry(settings.sentry_dsn.get_secret_value(), secrets)
    try:
        if args.is_async:
            with asyncio.Runner(loop_factory=event_loop_factory(settings.event_loop)) as runner:
                return int(runner.run(args.func(args)))
        return int(args.func(args))
    except CoachError as exc:
        problems = getattr(exc, "problems", None)
        for problem in problems or [str(exc)]:
            print(problem, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
