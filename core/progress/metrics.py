"""Human names for stats metrics (``master_lufs`` → "Master LUFS")."""

from __future__ import annotations

_WORDS = {
    "lufs": "LUFS",
    "dbtp": "dBTP",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "instagram": "Instagram",
    "bandcamp": "Bandcamp",
    "28d": "(28 days)",
}


def metric_label(metric: str) -> str:
    """A metric's name as a person would write it."""
    words = [_WORDS.get(w, w) for w in metric.split("_")]
    first = words[0]
    return " ".join([first[:1].upper() + first[1:], *words[1:]])
