"""A small roadmap with tracked numbers, for the numbers feature's tests (issue #13 §3).

The bundled YAML is content another change marks up; these tests build their own roadmap from
the schema, so they do not depend on which metrics the shipped content tracks.
"""

from __future__ import annotations

from typing import Any

from core.roadmaps.schema import Roadmap

LISTENERS = "monthly_listeners"
FOLLOWERS = "instagram_followers"
STREAMS = "streams_total"


def _number(slug: str, metric: str, **extra: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": f"Count your {metric.replace('_', ' ')}",
        "description": "A number the coach keeps over time.",
        "type": "data_input",
        "input": {
            "type": "integer",
            "question": f"How many {metric.replace('_', ' ')} do you have?",
            "unit": "listeners" if metric == LISTENERS else None,
            "min": 0,
            "max": 100_000_000,
            "metric": metric,
            **extra,
        },
    }


def tracked_roadmap() -> Roadmap:
    """Two stages; monthly listeners (monthly, aliases), followers (weekly) and an untracked
    number."""
    return Roadmap.model_validate(
        {
            "slug": "numbers-test",
            "name": "Numbers Test",
            "pitch": "A roadmap that tracks a few numbers over time.",
            "description": "For the numbers feature's tests.",
            "stages": [
                {
                    "slug": "baseline",
                    "title": "Baseline",
                    "intro": "Your numbers today.",
                    "tasks": [
                        _number(
                            "nt-listeners",
                            LISTENERS,
                            track="monthly",
                            aliases=["listeners", "spotify listeners"],
                            better="higher",
                        ),
                        _number("nt-followers", FOLLOWERS, track="weekly", aliases=["followers"]),
                        _number("nt-streams", STREAMS),
                    ],
                },
                {
                    "slug": "later",
                    "title": "Later",
                    "intro": "Onwards.",
                    "tasks": [
                        {
                            "slug": "nt-plan",
                            "title": "Make a plan",
                            "description": "Tick it.",
                            "type": "checklist",
                            "items": [{"key": "a", "text": "Write it down"}],
                        }
                    ],
                },
            ],
        }
    )
