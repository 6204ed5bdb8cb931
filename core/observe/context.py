"""Who and what a log line is about, carried by ``contextvars`` through one event's handling.

The coach sets the context where an event enters the core (``Coach.handle``); every line
logged while that event is handled — in the coach, a store, the database retry, a task it
spawns, which copies the context — then carries the platform, the update or interaction id
and a *hashed* person id. The JSON log formatter (:mod:`core.logging`) writes them as fields;
text lines stay as they were.

The person id is hashed so that lines about one person can be followed without the logs
holding their platform id: HMAC-SHA256 under a key derived from the deployment's link secret
when there is one (the same on every worker, so lines correlate across workers; without a
secret key a short numeric id could be found again by trying every number), cut to 12 hex
digits. Lines outside an event that concern a chat (a notice that failed) name it by
:func:`ref`, the same hash: a person's private chat and the person hash alike.

The key is process-wide, set once in ``main()`` (:func:`use_key`) next to the logging set-up,
which is process-wide too.
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
    """The fields an event adds to every log line logged while it is handled. The person's
    hash is made when a line (or a Sentry event) asks for it: most events log nothing, and
    the HMAC would otherwise be paid on every one."""

    platform: str
    event_id: str | None
    user_id: str

    @property
    def person(self) -> str:
        """The hashed person (:func:`person_hash`)."""
        return person_hash(self.platform, self.user_id)


_current: ContextVar[EventContext | None] = ContextVar("coach_event", default=None)


_key: list[bytes] = [DEFAULT_KEY]


def use_key(secret: str | None) -> None:
    """Hash ids under a key derived from ``secret`` (``COACH_LINK_SECRET``): one secret
    configured, its two uses kept apart. ``None``: the public default key."""
    _key[0] = (
        hmac.new(secret.encode(), b"log-person", hashlib.sha256).digest() if secret else DEFAULT_KEY
    )


def person_hash(platform: str, user_id: str) -> str:
    """A stable, non-reversible (with a secret key) short id for ``platform:user_id``."""
    digest = hmac.new(_key[0], f"{platform}:{user_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:12]


def ref(platform: str, chat_id: object) -> str:
    """How a log line names a chat: ``#`` and its hash (never the platform's id)."""
    return "#" + person_hash(platform, str(chat_id))


def current() -> EventContext | None:
    """The event being handled in this task, if any."""
    return _current.get()


@contextlib.contextmanager
def event(platform: str, user_id: str, event_id: str | None) -> Iterator[EventContext]:
    """Within the block, log lines carry this event's platform, id and hashed person."""
    ctx = EventContext(platform, event_id, user_id)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
