"""A small roadmap with the coaching marks the next-step chooser reads: key tasks, tasks timed
from the release date, a tracked metric — built here rather than taken from ``roadmaps/*.yaml``,
so the tests of ``/today`` do not move when the content's marks are edited.

Stages (slugs in brackets):

1. Basics — *Register your rights* [kr-rights] (key checklist), *Take a photo* [kr-photo]
2. Release — *Release date* [kr-date] (date, sets the ``release`` anchor), *Upload to your
   distributor* [kr-upload] (key, due T−28), *Release budget* [kr-budget]
3. Campaign — *Pitch to editors* [kr-pitch] (key, due T−7), *28-day streams* [kr-streams]
   (opens and due T+28), *Release-week posts* [kr-posts] (opens T−3, due T+3), *Monthly
   listeners* [kr-listeners] (tracked monthly, alias "listeners")
"""

from __future__ import annotations

from typing import Any

from core.roadmaps.schema import Roadmap

SLUG = "key-release"
NAME = "Key Release"


def _checklist(slug: str, title: str, description: str, **marks: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "description": description,
        "type": "checklist",
        "items": [
            {"key": "one", "text": f"{title}: first step"},
            {"key": "two", "text": f"{title}: second step"},
        ],
        **marks,
    }


def _question(slug: str, title: str, spec: dict[str, Any], **marks: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "description": f"{title}, in one figure.",
        "type": "data_input",
        "input": spec,
        **marks,
    }


def key_roadmap() -> Roadmap:
    """The roadmap (validated by the real schema)."""
    return Roadmap.model_validate(
        {
            "slug": SLUG,
            "name": NAME,
            "pitch": "A test roadmap with key tasks and a release date plan.",
            "description": "Key tasks, a release date and a tracked number, for tests.",
            "position": 0,
            "stages": [
                {
                    "slug": "basics",
                    "title": "Basics",
                    "intro": "The groundwork.",
                    "tasks": [
                        _checklist(
                            "kr-rights",
                            "Register your rights",
                            "Every stream pays the songwriter and the performer. Register so "
                            "nothing goes unclaimed.",
                            key=True,
                        ),
                        _checklist("kr-photo", "Take a photo", "One good photo. That's all."),
                    ],
                },
                {
                    "slug": "release",
                    "title": "Release",
                    "intro": "The date and the delivery.",
                    "tasks": [
                        _question(
                            "kr-date",
                            "Release date",
                            {"type": "date", "question": "Which Friday?", "anchor": "release"},
                        ),
                        _checklist(
                            "kr-upload",
                            "Upload to your distributor",
                            "Stores need the files weeks ahead. Upload early.",
                            key=True,
                            when={"anchor": "release", "due": -28},
                        ),
                        _question(
                            "kr-budget",
                            "Release budget",
                            {"type": "money", "question": "Your budget?", "unit": "EUR"},
                        ),
                    ],
                },
                {
                    "slug": "campaign",
                    "title": "Campaign",
                    "intro": "The weeks around release day.",
                    "tasks": [
                        _checklist(
                            "kr-pitch",
                            "Pitch to editors",
                            "Editors only take unreleased songs. Pitch in time.",
                            key=True,
                            when={"anchor": "release", "due": -7},
                        ),
                        _question(
                            "kr-streams",
                            "28-day streams",
                            {"type": "integer", "question": "Streams in 28 days?"},
                            when={"anchor": "release", "due": 28, "opens": 28},
                        ),
                        _checklist(
                            "kr-posts",
                            "Release-week posts",
                            "Post every day of release week.",
                            when={"anchor": "release", "due": 3, "opens": -3},
                        ),
                        _question(
                            "kr-listeners",
                            "Monthly listeners",
                            {
                                "type": "integer",
                                "question": "Monthly listeners now?",
                                "metric": "monthly_listeners",
                                "track": "monthly",
                                "aliases": ["listeners"],
                            },
                        ),
                    ],
                },
            ],
        }
    )
