"""The unit layer's rule, checked: each way out of the process is refused (``conftest.py``)."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys

import pytest
from support.no_io import UnitTestIO


def test_no_network() -> None:
    with pytest.raises(UnitTestIO, match="network"):
        socket.create_connection(("127.0.0.1", 5432), timeout=1)
    with socket.socket() as raw, pytest.raises(UnitTestIO, match="network"):
        raw.connect(("127.0.0.1", 5432))


async def test_no_network_from_the_event_loop() -> None:
    with pytest.raises(UnitTestIO, match="network"):
        await asyncio.open_connection("127.0.0.1", 5432)


def test_no_database_file() -> None:
    with pytest.raises(UnitTestIO, match="database"):
        sqlite3.connect(":memory:")


def test_no_subprocess() -> None:
    with pytest.raises(UnitTestIO, match="subprocess"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)


async def test_no_subprocess_from_the_event_loop() -> None:
    with pytest.raises(UnitTestIO, match="subprocess"):
        await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
