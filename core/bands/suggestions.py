"""What a band's options offer while someone types (Discord's autocomplete): the band's tasks
for ``/assign task:``, its members for ``/band remove member:``.

Only for the band of the server the question comes from, and only to someone in it (a member,
a holder of its role, or a server manager — the band path's own test, :mod:`core.bands.guild`):
a stranger, or anyone in a DM, is offered nothing, so typing into an option never shows what
another band is working on. Read-only, in a short transaction of its own.
"""

from __future__ import annotations

from core.bands import store
from core.bands.flows import mention
from core.bands.store import BandRow
from core.db.executor import Executor
from core.kernel.registry import MAX_SUGGESTIONS, Asked, Suggestion


async def _band_of_asker(ex: Executor, asked: Asked) -> BandRow | None:
    """The server's band when the asker may see it, else ``None``."""
    inbound = asked.inbound
    if inbound.server_id is None:
        return None
    band = await store.band_for_server(ex, inbound.platform, inbound.server_id)
    if band is None:
        return None
    if inbound.manages_server or (band.role_id is not None and band.role_id in inbound.role_ids):
        return band
    user_id = await store.user_by_external(ex, inbound.platform, inbound.user_id)
    if user_id is None or await store.member_role(ex, band.id, user_id) is None:
        return None
    return band


async def tasks(asked: Asked) -> list[Suggestion]:
    """The band's tasks whose title (or slug) holds what was typed, in roadmap order: the
    title shown, the slug sent (``/assign`` finds a task by its slug first)."""
    catalog = await asked.catalogs.current(asked.db)
    async with asked.db.unit_of_work() as ex:
        band = await _band_of_asker(ex, asked)
        roadmap_id = None if band is None else await store.roadmap_of(ex, band)
    roadmap = catalog.roadmap(roadmap_id)
    if roadmap is None:
        return []
    typed = asked.typed.strip().casefold()
    found = [
        Suggestion(task.title, task.slug)
        for stage in roadmap.stages
        for task in stage.tasks
        if not task.archived and (typed in task.title.casefold() or typed in task.slug)
    ]
    return found[:MAX_SUGGESTIONS]


async def members(asked: Asked) -> list[Suggestion]:
    """The band's members whose name holds what was typed: the name shown, a mention sent."""
    platform = asked.inbound.platform
    async with asked.db.unit_of_work() as ex:
        band = await _band_of_asker(ex, asked)
        rows = [] if band is None else await store.band_members(ex, band.id, platform)
    names = store.names(rows)
    typed = asked.typed.strip().casefold()
    found = [
        Suggestion(names[member.user_id], mention(member.external_id))
        for member in rows
        if member.external_id is not None and typed in names[member.user_id].casefold()
    ]
    return found[:MAX_SUGGESTIONS]
