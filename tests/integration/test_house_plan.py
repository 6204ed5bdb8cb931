"""The house plan is checked, not just drawn: ``lint-imports`` keeps the core packages in one
direction (pyproject.toml, ``[tool.importlinter]``), and it really fails on a cycle."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
#: What another package would have to write to reach /stage or its button.
_NAMES_STAGE = re.compile(
    r"stage_view|journey\.buttons import[^\n]*\bOPEN\b"
    r"|command\(\s*[\"']stage[\"']|/stage\b|[\"']op[\"']"
)


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(  # noqa: S603 - our own venv's tool on our own tree
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contracts_hold_for_the_code_as_it_is() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("module", "upward_import"),
    [
        # the kernel reaching up into a feature closes a cycle (journey imports the kernel)
        ("core/kernel/markup.py", "from core.journey import cards"),
        # a feature reaching up into a feature above it: reminders -> bands -> reminders
        ("core/reminders/schedule.py", "import core.bands.flows"),
        # an import hidden inside a function counts too
        ("core/accounts/linking.py", "def _later() -> None:\n    import core.app.engine"),
    ],
)
def test_an_upward_import_breaks_the_build(tmp_path: Path, module: str, upward_import: str) -> None:
    for part in ("core", "bot"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + "\n\n" + upward_import + "\n")
    result = _lint(tmp_path)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout or "broken" in result.stdout
    assert "1 broken" in result.stdout, result.stdout


def test_a_command_and_a_button_live_in_their_feature_package() -> None:
    """``/stage`` and its "open" button were added the registry's way: declared and answered
    inside core/journey, routed, listed in /help and the menus without any other file naming
    them."""
    outside = [
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "core").rglob("*.py")
        if "journey" not in path.parts and _NAMES_STAGE.search(path.read_text())
    ]
    assert outside == []
    for own in ("routes.py", "buttons.py"):  # the check sees them where they are
        assert _NAMES_STAGE.search((ROOT / "core" / "journey" / own).read_text())
    from core.app.engine import Coach  # noqa: PLC0415 - imports every feature
    from core.db.engine import Database  # noqa: PLC0415

    coach = Coach(Database("sqlite+aiosqlite:///:memory:"))
    stage = coach.registry.command("stage", "private")
    assert stage is not None
    assert stage.feature == "journey"
    assert "stage" in [c.name for c in coach.registry.menu("private")]
    assert "stage" in [c.name for c in coach.registry.menu("band")]


def test_no_package_reaches_into_another_packages_internals() -> None:
    """A feature uses another's public names only (``chat.parse_schedule``, never
    ``chat._parse_schedule``): what starts with an underscore may change without notice."""
    found: list[str] = []
    for path in (ROOT / "core").rglob("*.py"):
        package = path.relative_to(ROOT / "core").parts[0]
        tree = ast.parse(path.read_text())
        origin: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("core."):
                other = node.module.split(".")[1]
                for alias in node.names:
                    if other != package and alias.name.startswith("_"):
                        found.append(f"{path.name}: from {node.module} import {alias.name}")
                    origin[alias.asname or alias.name] = other
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and origin.get(node.value.id, package) != package
            ):
                found.append(f"{path.name}: {node.value.id}.{node.attr}")
    assert found == []
