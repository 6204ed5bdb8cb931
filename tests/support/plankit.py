"""A small roadmap with a ruled release date and dated tasks, for the plan's tests.

The shipped roadmaps carry their own rules and timings (content, edited apart from the code);
the plan's tests build this one instead, so they check the behaviour, not the content's
numbers. ``plan_roadmap()`` is a schema object: ``catalog_from([plan_roadmap()])`` for the
in-memory coach, :func:`write_plan_roadmap` for a coach that syncs YAML from a directory.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from core.roadmaps.schema import Roadmap

RELEASE_TASK = "pl-release-date"
WHY = "Stores need about 4 weeks to ingest a release, and playlists are pitched ahead."


def _checklist(slug: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "slug": slug,
        "title": title,
        "description": f"{title}, done properly.",
        "type": "checklist",
        "items": [{"key": "a", "text": f"{title}: first"}, {"key": "b", "text": f"{title}: then"}],
        **extra,
    }


def plan_content() -> dict[str, Any]:
    """The roadmap as its YAML would read."""
    return {
        "slug": "plan-test",
        "name": "Plan test",
        "pitch": "A roadmap with a release plan, for tests.",
        "description": "Finish, date the release, run the plan.",
        "stages": [
            {
                "slug": "pl-finish",
                "title": "Finish the song",
                "intro": "Get it done.",
                "tasks": [
                    _checklist("pl-master", "Master the song"),
                    {
                        "slug": RELEASE_TASK,
                        "title": "Set your release date",
                        "description": "A Friday, 6 to 8 weeks out.",
                        "type": "data_input",
                        "input": {
                            "type": "date",
                            "question": "What is your release date?",
                            "anchor": "release",
                            "rules": {
                                "weekday": "friday",
                                "min_days_ahead": 28,
                                "max_days_ahead": 180,
                                "avoid": [
                                    {
                                        "start": "12-18",
                                        "end": "01-04",
                                        "why": "the holiday weeks are quiet for new music.",
                                    }
                                ],
                                "why": WHY,
                            },
                        },
                    },
                ],
            },
            {
                "slug": "pl-release",
                "title": "Release it",
                "intro": "The weeks around the release.",
                "tasks": [
                    _checklist(
                        "pl-upload",
                        "Upload to your distributor",
                        when={"anchor": "release", "due": -28},
                    ),
                    _checklist(
                        "pl-pitch",
                        "Pitch to editorial playlists",
                        key=True,
                        when={"anchor": "release", "due": -7},
                    ),
                    {
                        "slug": "pl-streams",
                        "title": "Streams in the first 28 days",
                        "description": "How the first four weeks went.",
                        "type": "data_input",
                        "when": {"anchor": "release", "due": 35, "opens": 28},
                        "input": {"type": "integer", "question": "How many streams in 28 days?"},
                    },
                ],
            },
            {
                "slug": "pl-grow",
                "title": "Grow",
                "intro": "Keep going.",
                "tasks": [_checklist("pl-fans", "Talk to your fans")],
            },
        ],
    }


def plan_roadmap() -> Roadmap:
    """The schema object of :func:`plan_content`."""
    return Roadmap.model_validate(plan_content())


def write_plan_roadmap(directory: Path) -> Path:
    """Write the roadmap as YAML into ``directory`` (a roadmaps directory of its own)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "plan-test.yaml"
    path.write_text(yaml.safe_dump(plan_content(), sort_keys=False), encoding="utf-8")
    return path


def good_friday(today: date, weeks: int = 8) -> date:
    """A Friday about ``weeks`` weeks after ``today`` that follows every rule of the roadmap."""
    day = today + timedelta(days=7 * weeks)
    day += timedelta(days=(4 - day.weekday()) % 7)
    while (day.month, day.day) >= (12, 18) or (day.month, day.day) <= (1, 4):
        day += timedelta(days=7)
    return day


class MovableClock:
    """A clock a test moves forward (the coach reads it through ``clock=``)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move time forward."""
        self.now += timedelta(**delta)
