"""Account creation: a person with an identity, a solo profile and its conversation state row.

Every path that meets someone new goes through here — a first message (``core/app/engine.py``),
a band member's first press (``core/bands/guild.py``), ``/link``'s fresh account
(``core/accounts/linking.py``) — and a band's profile is made by :func:`create_profile` too, so
"every profile has exactly one state row" holds in one place.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import bindparam, insert, update

from core.db.executor import Executor
from core.db.tables import identities, profiles, states, users
from core.kernel.store import TurnRecord
from core.kernel.types import Inbound

_INSERT_USER = insert(users)
_INSERT_IDENTITY = insert(identities)
_INSERT_PROFILE = insert(profiles)
_INSERT_STATE = insert(states)
#: The first tag only: where someone came from stays what it was.
_TAG_ARRIVAL = (
    update(users)
    .where(users.c.id == bindparam("uid"), users.c.start_tag.is_(None))
    .values(start_tag=bindparam("tag"))
)


async def create_musician(
    ex: Executor,
    *,
    platform: str,
    external_id: str,
    display_name: str | None,
    locale: str | None,
    now: datetime,
) -> TurnRecord:
    """A new user with their identity, an empty solo profile and a conversation state row."""
    user_id, profile_id = await create_user(ex, display_name=display_name, locale=locale, now=now)
    await ex.run(
        _INSERT_IDENTITY,
        {
            "id": uuid.uuid4(),
            "user_id": user_id,
            "platform": platform,
            "external_id": external_id,
            "username": None,
            "created_at": now,
        },
    )
    return TurnRecord(
        user_id=user_id,
        timezone="UTC",
        user_last_active_at=now,
        profile_id=profile_id,
        artist_name=None,
        current_stats={},
        roadmap_id=None,
        current_stage_id=None,
        last_activity_at=now,
        awaiting=None,
        state_task_id=None,
        state_data={},
        undo=None,
        locale=locale,
    )


async def create_user(
    ex: Executor, *, display_name: str | None, locale: str | None, now: datetime
) -> tuple[uuid.UUID, uuid.UUID]:
    """A new person with an empty solo profile (and its state row); no identity yet. Returns
    the user id and the profile id."""
    user_id, profile_id = uuid.uuid4(), uuid.uuid4()
    await ex.run(
        _INSERT_USER,
        {
            "id": user_id,
            "display_name": display_name,
            "locale": locale,
            "timezone": "UTC",
            "roles": [],
            "broadcasts_opt_out": False,
            "unreachable": False,
            "created_at": now,
            "last_active_at": now,
        },
    )
    await create_profile(ex, profile_id, user_id=user_id, now=now)
    return user_id, profile_id


async def create_profile(
    ex: Executor,
    profile_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None = None,
    band_id: uuid.UUID | None = None,
    artist_name: str | None = None,
    now: datetime,
) -> None:
    """An empty profile (a person's or a band's) and its conversation state row: every profile
    has exactly one state row, which the engine locks with it."""
    await ex.run(
        _INSERT_PROFILE,
        {
            "id": profile_id,
            "user_id": user_id,
            "band_id": band_id,
            "artist_name": artist_name,
            "roadmap_id": None,
            "current_stage_id": None,
            "current_stats": {},
            "anchors": {},
            "created_at": now,
            "updated_at": now,
            "last_activity_at": now,
        },
    )
    await ex.run(
        _INSERT_STATE,
        {
            "profile_id": profile_id,
            "awaiting": None,
            "task_id": None,
            "data": {},
            "undo": None,
            "updated_at": now,
        },
    )


async def musician_of(ex: Executor, inbound: Inbound, now: datetime) -> TurnRecord:
    """The new person who sent ``inbound``: their identity on its platform, their platform
    name and locale (as the platform gave them, already cleaned by ``Inbound``)."""
    return await create_musician(
        ex,
        platform=inbound.platform,
        external_id=inbound.user_id,
        display_name=inbound.display_name,
        locale=inbound.locale,
        now=now,
    )


async def tag_arrival(ex: Executor, user_id: uuid.UUID, tag: str) -> None:
    """Note the tracking tag a person arrived with (``/start src-<tag>``), unless they have one."""
    await ex.run(_TAG_ARRIVAL, {"uid": user_id, "tag": tag})
