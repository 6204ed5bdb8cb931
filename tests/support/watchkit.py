"""Reading ``/metrics`` output in tests."""

from __future__ import annotations

import re


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
