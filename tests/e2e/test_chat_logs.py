"""Background jobs never print into the terminal chat, and a late tick is not a warning a second.

An overrunning reminder tick used to fill ``coach chat``'s conversation with APScheduler's
"maximum number of running instances reached" — once per tick interval, on the terminal the
musician was typing in. Now the chat's log lines go to a file in the user's data folder, and
the worker says "a tick is still running" at most once every ten minutes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.clock import system_clock
from core.reminders.tick import TickReport
from core.reminders.worker import OVERRUN_LOG_EVERY, ReminderWorker

ROOT = Path(__file__).resolve().parents[2]
OVERRUN = "a tick has been running"


class _Terminal:
    """A child process on a pseudo-terminal: what it writes (stdout *and* stderr) is what a
    person would see, interleaved exactly as on their screen."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            args, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, close_fds=True
        )
        os.close(slave)
        self.screen = b""

    @property
    def text(self) -> str:
        return self.screen.decode(errors="replace")

    def read_until(self, wanted: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while wanted not in self.text:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{wanted!r} not on the screen:\n{self.text[-2000:]}")
            if not self._read(min(left, 0.2)):
                raise AssertionError(f"the chat ended before {wanted!r}:\n{self.text[-2000:]}")

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\n")

    def wait(self, timeout: float = 60.0) -> int:
        """Read everything until the child exits; its exit code."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.2):
            pass
        return self.process.wait(timeout=max(1.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self.process.poll() is None:  # only the process this test started, by its pid
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self.master)

    def _read(self, timeout: float) -> bool:
        """Read what is there; False once the child has closed the terminal."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return self.process.poll() is None
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: every copy of the terminal's other end is closed
            return False
        self.screen += chunk
        return bool(chunk)


def test_an_overrunning_tick_never_prints_into_the_terminal_chat(tmp_path: Path) -> None:
    """``coach chat`` on a real (pseudo-)terminal while every reminder tick overruns its
    interval twenty times over: the screen shows the conversation only, and the log file in
    the data folder has exactly one line about the overrun."""
    data = tmp_path / "data"
    env = {
        k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("TELEGRAM")
    } | {
        "XDG_DATA_HOME": str(data),  # platformdirs' user data dir on Linux
        "REMINDER_TICK_SECONDS": "0.05",
        "SLOW_TICK_SECONDS": "3",
        "TERM": "dumb",
    }
    db = f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}"
    script = str(ROOT / "tests" / "support" / "chat_slow_tick.py")
    terminal = _Terminal([sys.executable, script, "chat", "--db", db, "--user", "maya"], env)
    try:
        terminal.read_until("artist name")  # /start: the worker is running from here on
        time.sleep(1.0)  # ~20 overlapping runs of the tick
        terminal.type("Maya")
        terminal.read_until("Nice to meet you")
        time.sleep(0.5)
        terminal.type("/quit")
        assert terminal.wait() == 0, terminal.text[-2000:]
    finally:
        terminal.close()
    screen = terminal.text
    assert "Bye! Your progress is saved." in screen
    for noise in ("running instances", "apscheduler", "WARNING", "Traceback", OVERRUN):
        assert noise not in screen, f"{noise!r} printed into the chat:\n{screen}"

    log_file = data / "stardom-coach" / "coach-chat.log"
    log = log_file.read_text()
    assert [line for line in log.splitlines() if OVERRUN in line] != [], log
    assert len([line for line in log.splitlines() if OVERRUN in line]) == 1, log
    assert "running instances" not in log
    assert log_file.stat().st_mode & 0o077 == 0, "the log is readable by its owner only"


class _StuckTick:
    """A tick that runs until released (a database that stopped answering)."""

    worker = "test-worker"
    clock = staticmethod(system_clock)

    def __init__(self) -> None:
        self.notifiers: dict[str, object] = {}
        self.release = asyncio.Event()
        self.runs = 0

    async def run(self) -> TickReport:
        self.runs += 1
        await self.release.wait()
        return TickReport()


async def _until(predicate: object, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_tick_that_overruns_is_reported_once_per_ten_minutes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The real job runner at a 20 ms interval with a tick that hangs: runs are skipped (no
    second tick overlaps the first), APScheduler (which ran it before) logs nothing, and the
    worker logs one line —
    then one more only after ten minutes (its clock is the test's)."""
    caplog.set_level(logging.INFO)
    now = [1000.0]
    tick = _StuckTick()
    worker = ReminderWorker(tick, interval=0.02, monotonic=lambda: now[0])  # type: ignore[arg-type]
    await worker.start()
    try:
        await _until(lambda: worker.skipped >= 10)
        now[0] += OVERRUN_LOG_EVERY - 1  # still inside the ten minutes
        seen = worker.skipped
        await _until(lambda: worker.skipped >= seen + 10)
        reports = [r for r in caplog.records if OVERRUN in r.getMessage()]
        assert len(reports) == 1
        assert reports[0].levelno == logging.WARNING
        assert "(1 skipped so far" in reports[0].getMessage()  # said at the first skip
        now[0] += 1  # ten minutes after the first report
        seen = worker.skipped
        await _until(lambda: worker.skipped > seen)
        assert len([r for r in caplog.records if OVERRUN in r.getMessage()]) == 2
        assert tick.runs == 1, "no tick ever overlapped the stuck one"
    finally:
        tick.release.set()
        await worker.stop()
    complaints = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("apscheduler") and r.levelno >= logging.WARNING
    ]
    assert complaints == []
