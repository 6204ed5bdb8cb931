"""Who and what a log line is about, carried by ``contextvars`` through one event's handling.

The coach sets the context where an event enters the core (``Coach.handle``); every line
logged while that event is handled — in the coach, a store, the database retry, a task it
spawns, which copies the context — then carries the platform, the update or interaction id
and a *hashed* person id. The JSON log formatter (:mod:`core.logging`) writes them as fields;
text lines stay as they were.

The person id is hashed so that lines about one person can be followed without the logs
holding their platform id: HMAC-SHA256 keyed with the deployment's link secret when there is
one (the same on every worker, so lines correlate across workers; without the key a short
numeric id could be found again by trying every number), cut to 12 hex digits.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

#: Used when the deployment has no key: lines still correlate, but the hash is a public function.
DEFAULT_KEY = b"stardom-coach/log-person"


@dataclass(frozen=True, slots=True)
class EventContext:
    """The fields an event adds to every log line logged while it is handled."""

    platform: str
    event_id: str | None
    person: str


_current: ContextVar[EventContext | None] = ContextVar("coach_event", default=None)


def derive_key(secret: bytes) -> bytes:
    """The hashing key for log lines, derived from a deployment secret (the link codes' key):
    one secret configured, two uses kept apart."""
    return hmac.new(secret, b"log-person", hashlib.sha256).digest()


def person_hash(platform: str, user_id: str, key: bytes = DEFAULT_KEY) -> str:
    """A stable, non-reversible (with a secret key) short id for ``platform:user_id``."""
    digest = hmac.new(key, f"{platform}:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:12]


def current() -> EventContext | None:
    """The event being handled in this task, if any."""
    return _current.get()


@contextlib.contextmanager
def event(
    platform: str, user_id: str, event_id: str | None, *, key: bytes = DEFAULT_KEY
) -> Iterator[EventContext]:
    """Within the block, log lines carry this event's platform, id and hashed person."""
    ctx = EventContext(platform, event_id, person_hash(platform, user_id, key))
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
