"""Database fixtures: a real PostgreSQL per test run and SQLite copies, both built by Alembic.

Which PostgreSQL:

1. ``TEST_DATABASE_URL`` if set (any database on a server where we may ``CREATE DATABASE``; we
   only create and drop our own ``coach_test_*`` databases there), e.g.
   ``TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres``;
2. otherwise a throwaway server on 127.0.0.1 started from the installed binaries
   (``/usr/lib/postgresql/*/bin/pg_ctl`` or ``pg_ctl`` on ``PATH``) by pytest-postgresql;
3. otherwise the PostgreSQL tests fail with a message saying what to install.

Fixtures (the contract other test modules rely on):

* ``pg_admin_url`` (session): ``postgresql+asyncpg://`` URL of that server.
* ``pg_url`` (session): one database per run, migrated to head, dropped at the end.
* ``sqlite_template`` (session): a SQLite file migrated to head once; tests get copies.
* ``database`` (function): a ``Database`` on an empty migrated database, once per backend
  (ids ``sqlite`` and ``postgres``); ``@pytest.mark.postgres_only`` keeps only ``postgres``.
* ``pg_database`` (function): the same, PostgreSQL only.
* ``fresh_pg_url`` (function): ``await fresh_pg_url()`` makes another empty (unmigrated)
  database, dropped at teardown.

The layers (``tests/unit``, ``tests/integration``, ``tests/e2e``; README "Tests"): the shared
kits live in ``tests/support`` and import by their bare names (``from coachkit import Driver``),
because that folder is put on ``sys.path`` here. An end-to-end test runs on PostgreSQL only — the
production backend — unless marked ``both_backends`` (the backend is the point of the test);
integration tests run on both.

Migrations run in a worker thread: ``migrations/env.py`` calls ``asyncio.run``, which cannot run
on a thread whose event loop is running (these fixtures may be set up from async fixtures).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))  # the kits (see above)

import asyncpg
import pytest
from pgserver import pg_bin_dir, truncate_all
from pytest_postgresql import factories
from sqlalchemy import URL, make_url

from core.db.engine import Database, normalise_url
from core.db.migrate import upgrade
from core.kernel import audit

T = TypeVar("T")

# python-telegram-bot 22 warns (PTBDeprecationWarning) whenever it builds a RetryAfter unless
# this opt-in is set; with filterwarnings=error that warning would replace the real error.
os.environ.setdefault("PTB_TIMEDELTA", "true")

#: The folder whose ``sitecustomize`` moves a child process's clock (see :func:`pytest_configure`).
_TIMESHIFT_DIR = Path(__file__).parent / "timeshift"


def pytest_configure(config: pytest.Config) -> None:
    """``COACH_TEST_TIME_SHIFT=365d``: run the whole suite with the wall clock moved.

    Every test must pass on any date; a test that only passes near the day it was written (a
    fixed date somewhere, and code reading the wall clock instead of the injected clock) fails
    in such a run. ``.ci/run`` runs the suite once more this way. ``time-machine`` moves
    ``datetime.now``, ``time.time`` and friends in this process (``time.monotonic`` and the
    event loop's clock keep running normally); child processes the tests start get the same
    shift through ``tests/timeshift/sitecustomize.py``.
    """
    shift = os.environ.get("COACH_TEST_TIME_SHIFT", "").strip()
    if not shift:
        return
    # the same module object that sitecustomize imported in a process started by a shifted
    # run (an xdist worker): it knows that clock is moved already
    if str(_TIMESHIFT_DIR) not in sys.path:
        sys.path.insert(0, str(_TIMESHIFT_DIR))
    from timeshift_spec import start_shifted_clock  # noqa: PLC0415 - shifted runs only

    try:
        start_shifted_clock(shift)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    paths = [str(_TIMESHIFT_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say so at the top of the run when the clock is moved (and where "now" is)."""
    shift = os.environ.get("COACH_TEST_TIME_SHIFT", "").strip()
    if not shift:
        return None
    return f"wall clock moved by {shift}: it is {datetime.now(UTC):%Y-%m-%d %H:%M} UTC here"


#: The ``database`` fixture's parameters, in order; they are also the test ids.
BACKENDS = ("sqlite", "postgres")
#: The one backend of an end-to-end test (unless marked ``both_backends``).
E2E_BACKEND = "postgres"
_E2E = Path(__file__).resolve().parent / "e2e"

_HOW_TO_GET_POSTGRES = (
    "set TEST_DATABASE_URL to a PostgreSQL server where the tests may CREATE DATABASE, e.g. "
    "TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres"
)
_DB_NAME = re.compile(r"^coach_test_\d+_[0-9a-f]+$")


# --- helpers -------------------------------------------------------------------------------


def _find_pg_ctl() -> str | None:
    """``pg_ctl`` of the newest installed PostgreSQL (see :func:`pgserver.pg_bin_dir`)."""
    found = pg_bin_dir()
    return str(found / "pg_ctl") if found is not None else None


def _in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run blocking ``func`` in a fresh thread and wait (safe while an event loop runs here)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db") as pool:
        return pool.submit(func, *args).result()


def _run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion on its own loop in a worker thread, from sync code."""
    return _in_thread(lambda: asyncio.run(factory()))


def _asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy ``postgresql+asyncpg://`` URL as a plain libpq-style DSN for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _new_database_name() -> str:
    return f"coach_test_{os.getpid()}_{secrets.token_hex(4)}"


async def _create_database(admin_url: str, name: str) -> None:
    assert _DB_NAME.match(name), name
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _drop_database(admin_url: str, name: str) -> None:
    """Drop one of our databases, terminating whatever connections a test left open."""
    assert _DB_NAME.match(name), name
    conn = await asyncpg.connect(_asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# --- which PostgreSQL ----------------------------------------------------------------------

_PG_CTL = _find_pg_ctl()

#: Started only when ``pg_admin_url`` asks for it (no TEST_DATABASE_URL); listens on 127.0.0.1
#: on a free port, with durability off because the data is thrown away.
_throwaway_postgresql_proc = factories.postgresql_proc(
    executable=_PG_CTL,
    host="127.0.0.1",
    port=None,
    postgres_options="-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
)


@pytest.fixture(scope="session")
def pg_admin_url(request: pytest.FixtureRequest) -> str:
    """A ``postgresql+asyncpg://`` URL of a server where we may create throwaway databases."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        url = make_url(normalise_url(configured))
        if url.get_backend_name() != "postgresql":
            pytest.fail(f"TEST_DATABASE_URL must be a PostgreSQL URL, got {url!r}", pytrace=False)
        return url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)

    if _PG_CTL is None:
        pytest.fail(
            "PostgreSQL is needed for these tests and no pg_ctl was found (looked in "
            "/usr/lib/postgresql/*/bin and on PATH). Install the server with "
            "`apt-get install postgresql` (or your system's equivalent), or "
            + _HOW_TO_GET_POSTGRES,
            pytrace=False,
        )
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.fail(
            "Running as root, so no throwaway PostgreSQL can be started (initdb refuses to run "
            "as root): " + _HOW_TO_GET_POSTGRES,
            pytrace=False,
        )
    proc = request.getfixturevalue("_throwaway_postgresql_proc")
    return URL.create(
        "postgresql+asyncpg",
        username=proc.user,
        password=proc.password or None,
        host=proc.host,
        port=int(proc.port),
        database=proc.maintenance_dbname,
    ).render_as_string(hide_password=False)


# --- databases -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """One PostgreSQL database for the whole run, migrated to head by Alembic."""
    name = _new_database_name()
    _run_async(lambda: _create_database(pg_admin_url, name))
    try:
        url = _with_database(pg_admin_url, name)
        _in_thread(upgrade, url)
        yield url
    finally:
        _run_async(lambda: _drop_database(pg_admin_url, name))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once; per-test databases are copies of it."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _in_thread(upgrade, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def fresh_pg_url(pg_admin_url: str) -> Iterator[Callable[[], Awaitable[str]]]:
    """``url = await fresh_pg_url()``: a new empty database (no migrations), dropped after."""
    created: list[str] = []

    async def make() -> str:
        name = _new_database_name()
        created.append(name)
        await _create_database(pg_admin_url, name)
        return _with_database(pg_admin_url, name)

    yield make
    for name in created:
        _run_async(partial(_drop_database, pg_admin_url, name))


def _parametrized_names(marker: pytest.Mark) -> set[str]:
    names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
    if isinstance(names, str):
        names = names.split(",")
    return {name.strip() for name in names}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses ``database`` once per backend (postgres only if so marked)."""
    if "database" not in metafunc.fixturenames:
        return
    if any(
        "database" in _parametrized_names(marker)
        for marker in metafunc.definition.iter_markers("parametrize")
    ):
        return  # the test chose its backends itself
    if metafunc.definition.get_closest_marker("postgres_only"):
        backends = ["postgres"]
    elif _E2E in Path(str(metafunc.definition.path)).resolve().parents and (
        metafunc.definition.get_closest_marker("both_backends") is None
    ):
        backends = [E2E_BACKEND]
    else:
        backends = _both_backends()
    metafunc.parametrize("database", backends, indirect=True, ids=backends)


def _both_backends() -> list[str]:
    """The backends of a test that runs on both: all of them, unless ``COACH_TEST_BACKENDS``
    (e.g. ``sqlite``) narrows them — ``.ci/run``'s year-ahead pass does, because a date bug
    lives in the Python both backends share, and the tests bound to PostgreSQL (end to end,
    ``postgres_only``) still run there."""
    chosen = os.environ.get("COACH_TEST_BACKENDS", "").strip()
    if not chosen:
        return list(BACKENDS)
    names = [name.strip() for name in chosen.split(",") if name.strip()]
    unknown = sorted(set(names) - set(BACKENDS))
    if unknown or not names:
        raise pytest.UsageError(f"COACH_TEST_BACKENDS={chosen!r}: choose from {BACKENDS}")
    return [name for name in BACKENDS if name in names]


async def _open(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Database:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "coach.db"
        shutil.copyfile(template, path)
        return Database(f"sqlite+aiosqlite:///{path}")
    if backend == "postgres":
        db = Database(request.getfixturevalue("pg_url"))
        try:
            await truncate_all(db)
        except BaseException:
            await db.dispose()
            raise
        return db
    raise ValueError(f"unknown database backend {backend!r}; expected one of {BACKENDS}")


@pytest.fixture(autouse=True)
def _fresh_denial_throttle() -> None:
    """Every test starts like a fresh process: no repeated denial remembered from another test
    (``core.kernel.audit.DENIALS`` writes a repeat at most once a minute per process)."""
    audit.DENIALS.reset()


@pytest.fixture
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A ``Database`` on an empty, migrated database: SQLite copy or truncated PostgreSQL."""
    db = await _open(request, getattr(request, "param", "sqlite"), tmp_path)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def pg_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """Like ``database``, PostgreSQL only."""
    db = await _open(request, "postgres", tmp_path)
    try:
        yield db
    finally:
        await db.dispose()
