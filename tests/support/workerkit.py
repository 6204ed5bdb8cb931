"""Worker processes of an end-to-end test: started from a script under ``tests/support``, each
writing what it sent to ``<tmp>/<name>.log``, or real ``coach run`` processes
(:meth:`WorkerProcesses.launch_coach_run`, their log in ``<tmp>/<name>.stderr``); counted, and
stopped (SIGTERM) at the end. The crash tests kill one with ``kill -9`` in between
(``procs[name].kill()``)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path


class WorkerProcesses:
    """The processes one test started, by name, and their record files in ``tmp``."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: dict[str, asyncio.subprocess.Process] = {}

    async def launch(self, name: str, script: Path, *args: str) -> None:
        """Start ``script ARGS --out <tmp>/<name>.log`` and wait for its ``ready`` line."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            *args,
            "--out",
            str(self.tmp / f"{name}.log"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self.procs[name] = proc
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
        assert line.strip() == b"ready", line

    async def launch_coach_run(
        self, name: str, db_url: str, *args: str, env: dict[str, str], ready: str
    ) -> None:
        """Start ``coach run --db DB_URL ARGS`` with ``env`` added to this process's
        environment, its log (stderr) going to ``<tmp>/<name>.stderr`` (a file, so nobody has
        to drain a pipe), and wait until the log says ``ready``."""
        log = self.tmp / f"{name}.stderr"
        base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        with log.open("ab") as sink:
            proc = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "bot.cli", "run", "--db", db_url, *args),
                env={**base, "LOG_LEVEL": "INFO", **env},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=sink,
            )
        self.procs[name] = proc
        deadline = time.monotonic() + 60
        while ready not in log.read_text(errors="replace"):
            if proc.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"{name} did not start:\n{log.read_text()[-3000:]}")
            await asyncio.sleep(0.1)

    def log_of(self, name: str) -> str:
        """What ``coach run`` process ``name`` logged so far (every start of that name)."""
        path = self.tmp / f"{name}.stderr"
        return path.read_text(errors="replace") if path.exists() else ""

    def raw_lines(self) -> list[str]:
        """Every record line of every worker, file by file."""
        out: list[str] = []
        for path in sorted(self.tmp.glob("*.log")):
            out += path.read_text().splitlines()
        return out

    def per_worker(self) -> dict[str, int]:
        """Records per worker."""
        return {p.stem: len(p.read_text().splitlines()) for p in self.tmp.glob("*.log")}

    async def stop_all(self) -> None:
        """SIGTERM to the live ones; each must end cleanly (or have been killed with -9)."""
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            _out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
            said = err.decode() if err is not None else self.log_of(name)
            assert proc.returncode in {0, -signal.SIGKILL}, (name, said[-2000:])
