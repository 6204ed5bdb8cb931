"""``deploy/``: the compose file validates with Compose itself, and says what the code needs.

Compose's own check (``docker-compose config``, or ``docker compose config``) runs where either
is installed; ``.ci/run`` installs Debian's ``docker-compose`` and sets
``COACH_REQUIRE_COMPOSE=1``, so there a missing tool is a failure, not a skip. The structural
checks run everywhere: the order of the one-shot services, one Discord worker and any number of
Telegram ones, the health check on the worker's ``/healthz``, ``.env.example`` naming only real
settings, and the systemd unit running ``coach run``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
#: Variables the compose file itself reads from deploy/.env (not settings of the coach).
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "COACH_DOMAIN"}


def _compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"],  # noqa: S607 - the operator's docker on PATH
            capture_output=True,
            check=False,
            timeout=30,
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    return None


def test_compose_itself_accepts_the_file(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        message = "Compose is not installed: apt-get install docker-compose (or the compose plugin)"
        if os.environ.get("COACH_REQUIRE_COMPOSE") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    shutil.copyfile(copy / ".env.example", copy / ".env")  # what an operator starts from
    for profile in ([], ["--profile", "monitoring"]):
        done = subprocess.run(  # noqa: S603 - Compose, on our own file
            [*command, "-f", str(copy / "compose.yaml"), *profile, "config", "-q"],
            capture_output=True,
            text=True,
            cwd=copy,
            check=False,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
    (copy / ".env").write_text("COACH_DOMAIN=bot.example.com\n")  # no database password
    refused = subprocess.run(  # noqa: S603 - Compose, on our own file
        [*command, "-f", str(copy / "compose.yaml"), "config", "-q"],
        capture_output=True,
        text=True,
        cwd=copy,
        check=False,
        timeout=60,
    )
    assert refused.returncode != 0
    assert "POSTGRES_PASSWORD" in refused.stdout + refused.stderr


def test_the_services_start_in_order_and_split_the_platforms() -> None:
    services = _compose()["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["roadmaps"]["command"] == ["roadmaps", "sync"]
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    done = {"condition": "service_completed_successfully"}
    assert services["roadmaps"]["depends_on"] == {"migrate": done}
    for worker in ("telegram", "discord"):
        assert services[worker]["depends_on"] == {"roadmaps": done}
        check = " ".join(services[worker]["healthcheck"]["test"])
        port = services[worker]["environment"]["HEALTH_PORT"]
        assert f"127.0.0.1:{port}/healthz" in check
    # any number of webhook workers, one gateway connection: never both tokens in one service
    assert services["telegram"]["command"] == ["run", "--telegram-webhook"]
    assert services["telegram"]["environment"]["DISCORD_BOT_TOKEN"] == ""
    assert services["discord"]["environment"]["TELEGRAM_BOT_TOKEN"] == ""
    assert services["telegram"]["environment"]["TELEGRAM_WEBHOOK_LISTEN"] == "0.0.0.0"  # noqa: S104
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    caddy = (DEPLOY / "Caddyfile").read_text()
    port = services["telegram"]["environment"]["TELEGRAM_WEBHOOK_PORT"]
    assert f"reverse_proxy telegram:{port}" in caddy


def test_env_example_names_only_real_settings() -> None:
    names = {
        m.group(1)
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if (m := re.match(r"^([A-Z][A-Z0-9_]*)=", line))
    }
    settings = {name.upper() for name in Settings.model_fields}
    assert names - COMPOSE_ONLY <= settings, names - COMPOSE_ONLY - settings
    assert {"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "COACH_LINK_SECRET"} <= names
    compose_text = (DEPLOY / "compose.yaml").read_text()
    for variable in COMPOSE_ONLY:
        assert "${" + variable in compose_text


def test_the_systemd_unit_runs_the_coach() -> None:
    unit = (DEPLOY / "stardom-coach.service").read_text()
    assert re.search(r"^ExecStart=\S+/\.venv/bin/coach run$", unit, re.M)
    assert re.search(r"^EnvironmentFile=/etc/stardom-coach\.env$", unit, re.M)
    assert "Restart=on-failure" in unit
