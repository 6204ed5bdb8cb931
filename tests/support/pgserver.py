"""A PostgreSQL server of a test's own, to stop and start mid-conversation; and a proxy that
delivers the server's goodbye late.

The shared test server (``TEST_DATABASE_URL``) is never restarted: other tests and other people
use it. :class:`ThrowawayPostgres` runs ``initdb`` into a temporary directory and ``pg_ctl`` on
a free port on 127.0.0.1, from the installed binaries (found like tests/conftest.py finds
them). ``initdb`` refuses to run as root, so as root every command runs as the ``postgres``
system user (``runuser``). Everything it starts is stopped through its own data directory
(``pg_ctl stop`` signals the pid in that directory's ``postmaster.pid``), nothing by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import URL, text

from core.db.engine import Database


def pg_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``pg_ctl``, else ``pg_ctl`` on PATH."""

    def version(path: Path) -> tuple[int, ...]:
        name = path.parent.parent.name
        return tuple(int(part) for part in name.split(".") if part.isdigit())

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=version)
    for candidate in reversed(candidates):
        if os.access(candidate, os.X_OK):
            return candidate.parent
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayPostgres:
    """One PostgreSQL server in a temporary directory: start, stop, destroy."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="coach-pg-"))
        self.data = self.root / "data"
        self._as_root = os.geteuid() == 0
        if self._as_root:  # the server's files belong to the user it runs as
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)

    def _command(self, *args: str) -> list[str]:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        return [*prefix, *args]

    def _pg_ctl(self, *args: str) -> list[str]:
        return self._command(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), *args)

    @staticmethod
    def _run_now(command: list[str], *, check: bool = True) -> None:
        subprocess.run(  # noqa: S603 - the installed PostgreSQL binaries, fixed arguments
            command, check=check, capture_output=True, timeout=120
        )

    def init(self) -> None:
        """``initdb`` (trust authentication for the ``postgres`` role; no fsync: throwaway)."""
        initdb = str(self.bin_dir / "initdb")
        self._run_now(
            self._command(initdb, "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N")
        )

    def _start_command(self) -> list[str]:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        return self._pg_ctl("-o", options, "-l", str(self.root / "server.log"), "-w", "start")

    def start_now(self) -> None:
        """Start the server and wait until it accepts connections (blocking)."""
        self._run_now(self._start_command())

    def stop_now(self) -> None:
        """Stop the server (``fast``), blocking: the caller's event loop reads nothing meanwhile."""
        self._run_now(self._pg_ctl("-m", "fast", "-w", "stop"))

    async def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        await self._run(self._start_command())

    async def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` ends every session (each gets a FATAL 57P01) and waits."""
        await self._run(self._pg_ctl("-m", mode, "-w", "stop"))

    async def start_after(self, seconds: float) -> None:
        """Start the server again ``seconds`` from now (run it as a task)."""
        await asyncio.sleep(seconds)
        await self.start()

    async def _run(self, command: list[str]) -> None:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        if process.returncode != 0:
            raise RuntimeError(f"{command[-1]} failed: {(out + err).decode()[-500:]}")

    def url(self, database: str = "postgres", port: int | None = None) -> str:
        """A ``postgresql+asyncpg://`` URL of a database on this server (or via ``port``)."""
        return URL.create(
            "postgresql+asyncpg",
            username="postgres",
            host="127.0.0.1",
            port=port or self.port,
            database=database,
        ).render_as_string(hide_password=False)

    def destroy(self) -> None:
        """Stop the server if it runs (immediately) and delete its directory."""
        if (self.data / "postmaster.pid").exists():
            self._run_now(self._pg_ctl("-m", "immediate", "-w", "stop"), check=False)
        shutil.rmtree(self.root, ignore_errors=True)


class LateCloseProxy:
    """A TCP proxy on 127.0.0.1 that forwards bytes both ways at once but passes the server's
    close on to the client ``delay`` seconds late.

    It stands for a busy event loop: when PostgreSQL ends a session it sends a FATAL error and
    closes the socket; a loaded client reads the error in one loop iteration and the close only
    later, and in between the connection looks alive. The proxy makes "later" long enough for a
    test to act in between, every time.
    """

    def __init__(self, upstream_port: int, delay: float) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._closing = asyncio.Event()

    def stop_now(self) -> None:
        """Stop the server (``fast``), blocking: the caller's event loop reads nothing meanwhile."""
        self._run_now(self._pg_ctl("-m", "fast", "-w", "stop"))

    async def start(self) -> None:
        """Listen on a free loopback port (``self.port``)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(client_w)
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            client_w.close()
            self._handlers.discard(task)
            return
        self._writers.add(server_w)
        await asyncio.gather(
            self._pump(client_r, server_w, 0.0), self._pump(server_r, client_w, self.delay)
        )
        self._handlers.discard(task)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
    ) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        if delay and not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delay)
        writer.close()
        self._writers.discard(writer)

    async def close(self) -> None:
        """Stop listening and end every forwarded connection."""
        self._closing.set()
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=5)
        if self._server is not None:
            await self._server.wait_closed()


async def truncate_all(db: Database) -> None:
    """Empty every table but ``alembic_version``, whatever migrations created them."""
    async with db.engine.begin() as conn:
        # A connection some earlier test leaked would block TRUNCATE forever: fail instead.
        await conn.execute(text("SET LOCAL lock_timeout = '10s'"))
        result = await conn.execute(
            text(
                "SELECT quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            )
        )
        tables = list(result.scalars())
        if tables:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
