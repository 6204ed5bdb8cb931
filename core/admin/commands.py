"""Parsing ``/admin …``: every argument validated by pydantic before anything runs.

The subcommand and its argument become a frozen :class:`AdminRequest`; an argument that is too
long, missing or malformed is answered with the subcommand's usage line, never guessed at.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.admin.broadcast import MAX_TEXT
from core.kernel.audit import AuditAction

Sub = Literal[
    "help", "stats", "broadcast", "broadcasts", "roadmaps", "user", "reset", "audit", "grant",
    "revoke",
]  # fmt: skip

#: The audit action of each subcommand: a refused one is written under it. Anything else a
#: person types is ``admin.unknown``, with what they typed in the row's details — an action
#: name built from their text would give each made-up word its own key past the denial cap.
AUDIT_ACTIONS: Final[dict[str, AuditAction]] = {
    "help": "admin.help",
    "stats": "admin.stats",
    "broadcast": "admin.broadcast",
    "broadcasts": "admin.broadcasts",
    "roadmaps": "admin.roadmaps",
    "user": "admin.user",
    "reset": "admin.reset",
    "audit": "admin.audit",
    "grant": "admin.grant",
    "revoke": "admin.revoke",
}
#: How much of an unknown subcommand the audit row keeps.
MAX_SUBCOMMAND: Final = 32

#: Longest "<id or name>" argument (an identity is ≤ 73 characters, an artist name ≤ 80).
MAX_WHO: Final = 120
#: Most audit rows one ``/admin audit`` shows.
MAX_AUDIT: Final = 50

USAGE: Final[dict[str, str]] = {
    "stats": "/admin stats — musicians, activity, the stage funnel (with a chart)",
    "broadcast": "/admin broadcast <text> — preview, then send to every musician",
    "broadcasts": "/admin broadcasts — the latest broadcasts and their counts",
    "roadmaps": "/admin roadmaps reload — validate the roadmap files, then sync them",
    "user": "/admin user <platform:id, user id or name> — profile, roadmap, progress",
    "reset": "/admin reset <platform:id, user id or name> — start a musician over",
    "audit": "/admin audit [n] — the latest audit entries (up to 50)",
    "grant": "/admin grant <platform:id, user id or name> — make someone a bot admin",
    "revoke": "/admin revoke <platform:id, user id or name> — take bot admin away",
}


class AdminRequest(BaseModel):
    """One parsed ``/admin`` command."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    sub: Sub
    who: str | None = Field(default=None, min_length=1, max_length=MAX_WHO)
    text: str | None = Field(default=None, min_length=1, max_length=MAX_TEXT)
    count: int = Field(default=15, ge=1, le=MAX_AUDIT)


def audit_action(args: str) -> tuple[AuditAction, dict[str, str] | None]:
    """``"stats"`` → ``("admin.stats", None)``; ``"x-junk …"`` → ``("admin.unknown",
    {"subcommand": "x-junk"})``: the action from the closed vocabulary, the typed word (cut to
    :data:`MAX_SUBCOMMAND`) only as a detail."""
    head = args.strip().partition(" ")[0].casefold() or "help"
    action = AUDIT_ACTIONS.get(head)
    if action is None:
        return "admin.unknown", {"subcommand": head[:MAX_SUBCOMMAND]}
    return action, None


class BadRequest(ValueError):
    """A request that can't be run; the message is the answer to show."""


_NEEDS_WHO: Final = frozenset({"user", "reset", "grant", "revoke"})


def parse(args: str) -> AdminRequest:
    """``"user telegram:123"`` → ``AdminRequest(sub="user", who="telegram:123")``.

    Raises:
        BadRequest: with a friendly answer (the usage line of the subcommand).
    """
    head, _, rest = args.strip().partition(" ")
    sub = head.casefold() or "help"
    rest = rest.strip()
    if sub not in USAGE and sub != "help":
        raise BadRequest(f"I don't know /admin {sub[:32]}.")
    try:
        if sub in _NEEDS_WHO:
            if not rest:
                raise BadRequest(f"Usage: {USAGE[sub]}")
            return AdminRequest(sub=sub, who=rest)
        if sub == "broadcast":
            if not rest:
                raise BadRequest(f"Usage: {USAGE[sub]}")
            return AdminRequest(sub="broadcast", text=rest)
        if sub == "roadmaps":
            if rest.casefold() != "reload":
                raise BadRequest(f"Usage: {USAGE[sub]}")
            return AdminRequest(sub="roadmaps")
        if sub == "audit":
            if rest and not rest.isdecimal():
                raise BadRequest(f"Usage: {USAGE[sub]}")
            return AdminRequest(sub="audit", count=int(rest) if rest else 15)
        return AdminRequest(sub=sub)
    except ValidationError as exc:
        problem = exc.errors()[0]
        if problem["type"] == "string_too_long":
            limit = problem.get("ctx", {}).get("max_length")
            raise BadRequest(
                f"That's too long (at most {limit:,} characters). Usage: {USAGE[sub]}"
            ) from None
        raise BadRequest(f"Usage: {USAGE[sub]}") from None
