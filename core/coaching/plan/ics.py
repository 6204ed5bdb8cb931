"""The plan as an iCalendar file (RFC 5545) that phones and calendar apps import.

Built with the maintained ``icalendar`` library rather than by hand: its escaping, folding of
long lines and ``VALUE=DATE`` handling are what calendar apps are picky about. One all-day
event per timed task on its due date, plus the release day itself. Each event's UID is derived
from the profile and the task (uuid5), so importing a newer file after the date moved updates
the same events instead of adding copies; ``DTSTAMP`` is the injected clock's now.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event

from core.coaching.plan.dates import Entry, t_label

#: The namespace of the events' UIDs (uuid5 of ``<profile>:<task>`` in it).
UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "stardom-coach:plan")
PRODID = "-//Stardom Coach//Release plan//EN"
_MARKS = {"done": "✅ ", "skipped": "⏭️ ", "overdue": "⚠️ "}


def event_uid(profile_id: uuid.UUID, key: str) -> str:
    """The stable UID of one event of one profile's plan."""
    return f"{uuid.uuid5(UID_NAMESPACE, f'{profile_id}:{key}')}@stardom-coach"


def _event(uid: str, day: date, summary: str, description: str, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    event.add("transp", "TRANSPARENT")  # a deadline, not a meeting: the day stays free
    return event


def calendar_file(
    profile_id: uuid.UUID,
    anchor: str,
    anchor_day: date,
    plan: list[Entry],
    now: datetime,
    *,
    name: str = "Release plan",
) -> bytes:
    """The plan of one profile as an ``.ics`` file."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add_component(
        _event(
            event_uid(profile_id, f"anchor:{anchor}"),
            anchor_day,
            f"🚀 {anchor.replace('_', ' ').capitalize()} day",
            "The day everything in this plan is counted from.",
            now,
        )
    )
    for entry in plan:
        task = entry.task
        when = f"{t_label(entry.offset)}: due {entry.due.isoformat()}"
        if entry.opens is not None:
            when += f", opens {entry.opens.isoformat()}"
        cal.add_component(
            _event(
                event_uid(profile_id, task.slug),
                entry.due,
                f"{_MARKS.get(entry.standing, '')}{task.title}",
                f"{when}\n\n{task.description}",
                now,
            )
        )
    data: bytes = cal.to_ical()
    return data
