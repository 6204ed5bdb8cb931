"""Reading ``/metrics`` output in tests."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the first sample named ``name`` whose labels include ``labels`` in
    Prometheus' text format (0 when there is none)."""
    for line in text.splitlines():
        match = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return 0.0


def metric_names(text: str) -> set[str]:
    """Every sample name in Prometheus' text format."""
    return {m.group(1) for m in re.finditer(r"^(\w+)(?:\{| )", text, re.MULTILINE)}


def exposed_names(text: str) -> set[str]:
    """Every name a query may use: the samples, and each declared family's names even before
    it has a sample (a counter's ``_total``, a histogram's ``_bucket``/``_sum``/``_count``)."""
    names = metric_names(text)
    for match in re.finditer(r"^# TYPE (\w+) (\w+)$", text, re.MULTILINE):
        name, kind = match.groups()
        names.add(name)
        if kind == "counter":
            names.add(name if name.endswith("_total") else f"{name}_total")
        elif kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana-dashboard.json"


def dashboard_queries() -> set[str]:
    """The metric names the Grafana dashboard queries (panels and variables)."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs: list[str] = []
    for panel in dashboard["panels"]:
        exprs += [target["expr"] for target in panel.get("targets", [])]
    exprs += [v.get("query", "") for v in dashboard["templating"]["list"]]
    return {name for expr in exprs for name in re.findall(r"\bcoach_[a-z_]+\b", expr)}


async def get_text(url: str) -> tuple[int, str]:
    """GET ``url``: its status and body (``/metrics`` is text)."""
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def get_json(url: str) -> tuple[int, dict[str, Any]]:
    """GET ``url``: its status and JSON body."""
    status, text = await get_text(url)
    return status, json.loads(text)


async def until_json(
    url: str, ok: Callable[[int, dict[str, Any]], bool], *, within: float = 30
) -> tuple[int, dict[str, Any]]:
    """GET ``url`` until ``ok(status, body)`` (a process may still be starting)."""
    deadline = asyncio.get_running_loop().time() + within
    last: tuple[int, dict[str, Any]] | None = None
    while True:
        try:
            last = await get_json(url)
            if ok(*last):
                return last
        except aiohttp.ClientConnectionError:
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{url}: never as expected; last answer {last}")
        await asyncio.sleep(0.1)
