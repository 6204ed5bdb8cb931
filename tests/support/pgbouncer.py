"""A real PgBouncer in transaction pooling mode in front of the test PostgreSQL, on 127.0.0.1.

PgBouncer comes from the distribution (``apt-get install pgbouncer``; ``.ci/run`` installs it).
Where it is missing the tests that need it are skipped, unless ``COACH_REQUIRE_PGBOUNCER=1``
(set by ``.ci/run``) makes that a failure. It refuses to run as root, so as root it is started
with ``-u postgres``. Fewer server connections than clients (``default_pool_size``) make
PgBouncer hand one server connection to several clients in turn — the case in which a named
prepared statement breaks.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

_INSTALL = "PgBouncer is not installed: apt-get install pgbouncer (Debian/Ubuntu)"


def pgbouncer_binary() -> str:
    """The ``pgbouncer`` program, or skip (fail under ``COACH_REQUIRE_PGBOUNCER=1``)."""
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if found is None:
        if os.environ.get("COACH_REQUIRE_PGBOUNCER") == "1":
            pytest.fail(_INSTALL, pytrace=False)
        pytest.skip(_INSTALL)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def pgbouncer(server_url: str, *, server_connections: int = 2) -> Iterator[str]:
    """Run PgBouncer in front of ``server_url``'s server; yield ``server_url`` through it."""
    binary = pgbouncer_binary()
    url = make_url(server_url)
    port = _free_port()
    # its own folder under /tmp: pytest's are private to this user, and as root PgBouncer runs
    # as postgres, which must read its files and write its log
    folder = Path(tempfile.mkdtemp(prefix="coach-pgbouncer-"))
    folder.chmod(0o755)
    user = url.username or "postgres"
    (folder / "users.txt").write_text(f'"{user}" ""\n')
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"* = host={url.host or '127.0.0.1'} port={url.port or 5432}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {folder / 'users.txt'}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {server_connections}\n"
        "max_client_conn = 200\n"
        f"logfile = {folder / 'pgbouncer.log'}\n"
    )
    (folder / "pgbouncer.log").touch()
    for path in folder.iterdir():
        path.chmod(0o666)
    command = [binary, str(config)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command[1:1] = ["-u", "postgres"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # noqa: S603
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode() if proc.stderr else ""
                    pytest.fail(f"PgBouncer did not start: {err[-500:]}", pytrace=False)
                time.sleep(0.05)
        yield url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        shutil.rmtree(folder, ignore_errors=True)
