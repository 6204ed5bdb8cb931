"""What the admin and privacy features answer: ``/admin``, ``/export``, ``/forget``,
``/broadcasts`` and the desk's buttons. All of them run through the ``desk`` door, in every
place (the desk itself refuses ``/export`` and ``/forget`` outside a private chat), in
transactions of their own (:class:`~core.admin.desk.AdminDesk`), replay-safe through the update
id, and every admin call is checked against the roles in the database, whatever the menus show.
"""

from __future__ import annotations

from core.admin.buttons import (
    ADMIN_NO,
    ADMIN_PICK,
    BROADCAST_DROP,
    BROADCAST_SEND,
    FORGET_ME,
    RESET_USER,
)
from core.admin.desk import AdminDesk
from core.kernel.registry import Feature, Option

admin = Feature("admin")
privacy = Feature("privacy")

admin.command(
    "admin",
    "Admin tools (bot admins only; /admin help)",
    usage="<command>",
    options=(
        Option(
            "command",
            "stats, broadcast, broadcasts, roadmaps, user, reset, audit, grant, revoke, help",
            rest=True,
        ),
    ),
    door="desk",
    audience="admins",
    before_setup=True,
)(AdminDesk.admin)
for _action in (BROADCAST_SEND, BROADCAST_DROP, RESET_USER, ADMIN_PICK, ADMIN_NO):
    admin.button(_action, door="desk", before_setup=True)(AdminDesk.press)

privacy.command(
    "export",
    "Get everything I store about you, as a file",
    door="desk",
    before_setup=True,
)(AdminDesk.export)
privacy.command(
    "forget",
    "Delete everything I store about you (asks first)",
    door="desk",
    before_setup=True,
)(AdminDesk.forget)
privacy.command(
    "broadcasts",
    "Turn announcements to everyone off or on",
    usage="off|on",
    options=(Option("choice", "off or on", kind="choice", choices=("off", "on")),),
    door="desk",
    before_setup=True,
)(AdminDesk.broadcasts)
privacy.button(FORGET_ME, door="desk", before_setup=True)(AdminDesk.press)
