"""How a band's place and its managers are called on each platform.

The band logic is one for every platform; only the words differ. A Discord band lives in a
*server* and its managers hold *Manage Server*; a Telegram band lives in a *group* and its
managers are the group's *admins* (read from Telegram's member status by the front end) — a
Telegram user has never seen a "Manage Server" permission, so a refusal that names it would
tell them nothing.
"""

from __future__ import annotations


def place(platform: str) -> str:
    """Where the band lives: ``group`` on Telegram, ``server`` elsewhere (Discord)."""
    return "group" if platform == "telegram" else "server"


def managers(platform: str) -> str:
    """Who manages a band, with the platform's word for the permission that makes them one."""
    if platform == "telegram":
        return "the band's managers (group admins)"
    return "server managers (Manage Server)"


def permission(platform: str) -> str:
    """What makes someone a band's manager on the platform (besides being promoted)."""
    return "group admins" if platform == "telegram" else "Manage Server"


def only_managers(platform: str, what: str) -> str:
    """``Only <managers> can <what>.`` — a refusal's words."""
    who = managers(platform)
    return f"Only {who} can {what}."
