"""Worker processes of an end-to-end test: started from a script under ``tests/support``, each
writing what it sent to ``<tmp>/<name>.log``; counted, and stopped (SIGTERM) at the end. The
crash tests kill one with ``kill -9`` in between (``procs[name].kill()``)."""

from __future__ import annotations

import asyncio
import signal
import sys
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
            assert proc.returncode in {0, -signal.SIGKILL}, (name, err.decode()[-2000:])
