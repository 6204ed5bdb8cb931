"""The container image's smoke test: scripts/image-smoke builds the image, then runs this.

    .venv/bin/python scripts/image_smoke.py --image IMAGE --prefix NAME -- podman [FLAGS...]

Each step runs the image as an operator would (``podman run``, host network) against a
throwaway database on the host's PostgreSQL (``TEST_DATABASE_URL``'s server, as the tests use;
dropped at the end) and checks what the operator would see:

1. ``coach db upgrade`` migrates the empty database to this checkout's head revision.
2. ``coach chat`` plays a piped conversation on it (the transcript tests/e2e/test_cli.py plays)
   and writes its log file on the ``/data`` volume: the volume is the coach user's and writable.
3. ``coach db upgrade`` with no ``DATABASE_URL`` creates the SQLite default on the volume
   (``/data/stardom-coach/coach.db``, owned by uid 10001), where it outlives the container.
4. ``coach run`` with Telegram pointed at a loopback fake Bot API (tests/support/fakes): its
   process runs as uid 10001 on the host; ``/healthz`` answers on ``HEALTH_PORT`` and
   ``/readyz`` says ready; a musician's ``/start`` gets the coach's first question back; the
   image's own HEALTHCHECK command passes (``podman healthcheck run``) and fails against a port
   where nothing listens; SIGTERM stops it with exit status 0, and its log (JSON lines) has
   neither a traceback nor the bot token.

The container and the volume are removed by name, the database dropped and the fake stopped,
whatever happens. Exit status 0 when every check passed, 1 with the failed check otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "support")]

import asyncpg  # noqa: E402 - after the path: the fake Telegram lives in tests/support
from fakes.telegram_api import FakeTelegram  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from core.db.migrate import head_revision  # noqa: E402

#: The coach user the image runs as (Dockerfile: useradd --uid 10001).
COACH_UID = 10001
#: A musician on the fake Telegram.
MAYA = 1001
#: The transcript tests/e2e/test_cli.py plays: name, roadmap 1, tick task 2, progress.
CHAT = "/start\nMaya\n1\n2\n/progress\n"
#: Seconds a one-shot container may take (a cold start of Python and the migrations included).
ONE_SHOT_SECONDS = 180


class SmokeFailure(Exception):
    """A check failed: the message says which and what was seen."""


@dataclass
class Ran:
    """What a command did."""

    status: int
    out: str
    err: str


def free_port() -> int:
    """A loopback port nothing listens on (the container shares the host's network)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(url: str) -> tuple[int, str]:
    """GET ``url``: the status and body (an HTTP error's too); raises OSError on no answer."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - http://127.0.0.1
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode()


def check(condition: bool, what: str, seen: object = "") -> None:
    """Fail with ``what`` (and what was seen) unless ``condition``."""
    if not condition:
        raise SmokeFailure(f"{what}\n--- seen ---\n{seen}" if seen != "" else what)


def ok(what: str) -> None:
    print(f"image-smoke: ok  {what}", flush=True)


class Smoke:
    """The checks, with the podman command, the image and the names of what they start."""

    def __init__(self, podman: list[str], image: str, prefix: str, admin_url: str) -> None:
        self.podman = podman
        self.image = image
        self.container = f"{prefix}-run"
        self.volume = f"{prefix}-data"
        self.admin_url = admin_url
        self.database = f"coach_image_smoke_{secrets.token_hex(4)}"
        self.database_url = (
            make_url(admin_url)
            .set(drivername="postgresql", database=self.database)
            .render_as_string(hide_password=False)
        )

    async def run(
        self, *args: str, stdin: str | None = None, within: float = ONE_SHOT_SECONDS
    ) -> Ran:
        """``podman ARGS``, waited for (killed after ``within`` seconds)."""
        process = await asyncio.create_subprocess_exec(
            *self.podman,
            *args,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(
                process.communicate(stdin.encode() if stdin is not None else None), within
            )
        except TimeoutError:
            process.kill()  # the podman client we started; its container is removed by name
            await process.wait()
            raise SmokeFailure(f"podman {' '.join(args[:3])} … took over {within:.0f} s") from None
        status = -1 if process.returncode is None else process.returncode  # set once it exited
        return Ran(status, out.decode(errors="replace"), err.decode(errors="replace"))

    async def coach(self, *args: str, env: dict[str, str], stdin: str | None = None) -> Ran:
        """A one-shot ``coach ARGS`` in a container of the image (removed when it exits).

        No health check for a one-shot (the compose file's migrate service turns it off too):
        nothing serves ``/healthz`` there.
        """
        flags = [f"--env={name}={value}" for name, value in env.items()]
        return await self.run(
            "run",
            "--rm",
            "--network=host",
            "--no-healthcheck",
            f"--volume={self.volume}:/data",
            *(["--interactive"] if stdin is not None else []),
            *flags,
            self.image,
            *args,
            stdin=stdin,
        )

    # --- the database -------------------------------------------------------------------

    async def _admin(self, sql: str) -> None:
        dsn = make_url(self.admin_url).set(drivername="postgresql")
        conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def create_database(self) -> None:
        await self._admin(f'CREATE DATABASE "{self.database}"')

    async def drop_database(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    async def revision(self) -> str | None:
        conn = await asyncpg.connect(self.database_url)
        try:
            revision = await conn.fetchval("SELECT version_num FROM alembic_version")
        finally:
            await conn.close()
        return None if revision is None else str(revision)

    # --- the checks ---------------------------------------------------------------------

    async def migrations(self) -> None:
        ran = await self.coach("db", "upgrade", env={"DATABASE_URL": self.database_url})
        check(ran.status == 0, "coach db upgrade failed", ran.err)
        head = head_revision()
        check(await self.revision() == head, f"the database is not at the head revision {head}")
        ok(f"coach db upgrade migrated PostgreSQL to {head}")

    async def chat(self) -> None:
        ran = await self.coach(
            "chat", "--user", "maya", env={"DATABASE_URL": self.database_url}, stdin=CHAT
        )
        check(ran.status == 0, "coach chat failed", ran.err)
        for expected in (
            "what's your artist name?",
            "Nice to meet you, Maya!",
            "  [1] Indie Singer-Songwriter",
            "You're on Indie Singer-Songwriter",
            "☑ 2.",
            "% overall",
        ):
            check(expected in ran.out, f"coach chat never said {expected!r}", ran.out)
        check("cannot write the log file" not in ran.err, "chat could not write its log", ran.err)
        log = await self.on_volume("stardom-coach/coach-chat.log")
        check(log.exists(), "coach chat left no log file on the volume")
        check(log.stat().st_uid == COACH_UID, "the chat log is not the coach user's", log.stat())
        ok("coach chat played the transcript on PostgreSQL; its log is on the /data volume")

    async def sqlite_default(self) -> None:
        ran = await self.coach("db", "upgrade", env={})
        check(ran.status == 0, "coach db upgrade on the SQLite default failed", ran.err)
        db = await self.on_volume("stardom-coach/coach.db")
        check(db.exists() and db.stat().st_size > 0, "no SQLite default on the volume")
        check(db.stat().st_uid == COACH_UID, "the SQLite file is not the coach user's", db.stat())
        ok("the SQLite default (no DATABASE_URL) is /data/stardom-coach/coach.db on the volume")

    async def on_volume(self, relative: str) -> Path:
        """The host path of ``relative`` on the volume (the volume outlives the containers)."""
        ran = await self.run("volume", "inspect", "--format", "{{.Mountpoint}}", self.volume)
        check(ran.status == 0, "podman volume inspect failed", ran.err)
        return Path(ran.out.strip()) / relative

    async def coach_run(self) -> None:
        async with FakeTelegram() as telegram:
            port = free_port()
            env = {
                "DATABASE_URL": self.database_url,
                "TELEGRAM_BOT_TOKEN": telegram.token,
                "TELEGRAM_API_BASE_URL": telegram.url,
                "HEALTH_PORT": str(port),
                "LOG_FORMAT": "json",
            }
            started = await self.run(
                "run",
                "--detach",
                f"--name={self.container}",
                "--network=host",
                f"--volume={self.volume}:/data",
                *[f"--env={name}={value}" for name, value in env.items()],
                self.image,
                "run",
            )
            check(started.status == 0, "podman run -d coach run failed", started.err)
            try:
                await self._serving(telegram, port)
            except BaseException:
                logs = await self.run("logs", self.container)
                sys.stderr.write(f"--- coach run's log ---\n{logs.out}{logs.err}\n")
                raise
            await self._stops_cleanly(telegram.token)

    async def _serving(self, telegram: FakeTelegram, port: int) -> None:
        base = f"http://127.0.0.1:{port}"
        _status, body = await self._until(f"{base}/healthz", lambda s, _b: s == 200, within=60)
        check(json.loads(body) == {"status": "ok"}, "/healthz answered something else", body)
        ok(f"coach run serves /healthz on HEALTH_PORT ({body.strip()})")

        pid = (await self.run("inspect", "--format", "{{.State.Pid}}", self.container)).out
        uids = _status_field(Path(f"/proc/{pid.strip()}/status"), "Uid")
        check(set(uids) == {str(COACH_UID)}, "coach run does not run as uid 10001", uids)
        ok(f"the coach run process runs as uid {COACH_UID} (pid {pid.strip()} on the host)")

        telegram.user_message(MAYA, "/start")
        await telegram.wait_for(lambda: bool(telegram.messages(MAYA)), timeout=30)
        reply = telegram.last(MAYA).plain_text
        check("artist name" in reply, "/start on Telegram got another answer", reply)
        ok("a musician's /start on the fake Telegram got the coach's first question")

        _status, body = await self._until(f"{base}/readyz", lambda s, _b: s == 200, within=60)
        ready = json.loads(body)
        check(ready["checks"].get("telegram") == "ok", "/readyz: telegram not ok", body)
        ok(f"/readyz is 200: {', '.join(f'{k} {v}' for k, v in ready['checks'].items())}")

        health = await self.run("healthcheck", "run", self.container)
        check(health.status == 0, "the image's HEALTHCHECK failed", health.out + health.err)
        ok("the image's HEALTHCHECK passes (podman healthcheck run: exit status 0)")
        # The same command where nothing listens must fail: the check can tell.
        config = await self.run("image", "inspect", self.image)
        test = json.loads(config.out)[0]["Healthcheck"]["Test"]
        check(test[0] == "CMD", "the HEALTHCHECK is not in exec form", test)
        closed = await self.run(
            "exec", f"--env=HEALTH_PORT={free_port()}", self.container, *test[1:]
        )
        check(closed.status == 1, "the HEALTHCHECK passed with nothing listening", closed)
        ok("the HEALTHCHECK command fails (exit 1) against a port where nothing listens")

    async def _until(
        self, url: str, done: Callable[[int, str], bool], *, within: float
    ) -> tuple[int, str]:
        """GET ``url`` until ``done(status, body)``: the process may still be starting."""
        deadline = asyncio.get_running_loop().time() + within
        last: object = "no answer"
        while True:
            try:
                answer = await asyncio.to_thread(http_get, url)
                if done(*answer):
                    return answer
                last = answer
            except OSError as exc:
                last = exc
            if asyncio.get_running_loop().time() > deadline:
                state = await self.run("inspect", "--format", "{{.State.Status}}", self.container)
                raise SmokeFailure(
                    f"{url}: never as expected in {within:.0f} s; last: {last}; "
                    f"container {state.out.strip()}"
                )
            await asyncio.sleep(0.25)

    async def _stops_cleanly(self, token: str) -> None:
        stopped = await self.run("stop", "--time=30", self.container, within=60)
        check(stopped.status == 0, "podman stop failed", stopped.err)
        code = await self.run("inspect", "--format", "{{.State.ExitCode}}", self.container)
        logs = await self.run("logs", self.container)
        log = logs.out + logs.err
        check(code.out.strip() == "0", f"coach run exited with {code.out.strip()}", log)
        secret = token.split(":", 1)[1]
        check(secret not in log, "the bot token is in coach run's log", log)
        check("Traceback" not in log, "coach run's log has a traceback", log)
        lines = [line for line in log.splitlines() if line.strip()]
        check(bool(lines), "coach run logged nothing")
        for line in lines:
            try:
                json.loads(line)
            except ValueError:
                raise SmokeFailure(f"not a JSON log line (LOG_FORMAT=json): {line!r}") from None
        ok(f"SIGTERM stopped coach run with exit status 0; {len(lines)} JSON log lines, no token")

    async def clean_up(self) -> None:
        """Remove what we started, by name; drop the database."""
        await self.run("rm", "--force", "--time=0", self.container, within=60)
        await self.run("volume", "rm", "--force", self.volume, within=60)
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            await self.drop_database()


def _status_field(path: Path, name: str) -> list[str]:
    """A field of ``/proc/PID/status`` (``Uid``: real, effective, saved, filesystem)."""
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key == name:
            return value.split()
    return []


async def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--image", required=True)
    parser.add_argument("--prefix", required=True, help="names of the container and volume")
    parser.add_argument("podman", nargs="+", help="the podman command, after --")
    args = parser.parse_args(argv)
    admin_url = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    smoke = Smoke(args.podman, args.image, args.prefix, admin_url)
    try:
        await smoke.create_database()
    except (OSError, asyncpg.PostgresError) as exc:
        server = make_url(admin_url).render_as_string(hide_password=True)
        print(f"image-smoke: FAILED cannot create a database on {server}: {exc}", file=sys.stderr)
        return 1
    try:
        await smoke.migrations()
        await smoke.chat()
        await smoke.sqlite_default()
        await smoke.coach_run()
    except SmokeFailure as exc:
        print(f"image-smoke: FAILED {exc}", file=sys.stderr)
        return 1
    finally:
        await smoke.clean_up()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
