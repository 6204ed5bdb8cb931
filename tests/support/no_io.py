"""The unit layer's rule made a fixture: no socket connections, no SQLite files, no child
processes (``tests/unit/conftest.py`` applies it to every unit test)."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
from typing import Any, NoReturn

import pytest


class UnitTestIO(AssertionError):
    """A unit test reached for a socket, a database file or a child process."""


def _refuse(what: str) -> Any:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise UnitTestIO(f"a unit test may not use {what}: move it to the integration tests")

    return refuse


def refuse_io(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every way out of the process fail the test, until ``monkeypatch`` undoes it.

    Asyncio's connections and subprocesses end in these same calls (``socket.connect``,
    ``subprocess.Popen``), and so do asyncpg and aiosqlite.
    """
    monkeypatch.setattr(socket.socket, "connect", _refuse("the network (socket.connect)"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse("the network (socket.connect_ex)"))
    monkeypatch.setattr(socket, "create_connection", _refuse("the network"))
    monkeypatch.setattr(sqlite3, "connect", _refuse("a database (sqlite3.connect)"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refuse("a subprocess"))
