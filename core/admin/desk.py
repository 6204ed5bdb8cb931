"""The admin and privacy desk: ``/admin …``, ``/export``, ``/forget``, ``/broadcasts``.

:class:`~core.app.engine.Coach` hands these events here before its hot path (they are
rare, and each runs in short transactions of its own, so a denial is audited even when nothing
else happens). Every ``/admin`` command and every admin button press is checked here, in the
core, each time — a front end that shows or hides a menu decides nothing.

Confirmation buttons carry what they confirm and when they were offered (``ar:<user>:<minute>``,
``af:<minute>``, ``ap:<u|g|r>:<user>:<minute>``); a press older than :data:`CONFIRM_MINUTES` is
refused as expired, and a double-tapped one finds nothing left to do.

``/admin user|grant|revoke|reset`` act at once only on a handle (``platform:id``, user id). A
name is what anyone can call themselves, so it only shows the account(s) it fits, each with a
button; the press (admin re-checked) acts on exactly the account shown.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from pathlib import Path
from typing import Final

from core.admin import broadcast, people, privacy, stats
from core.admin.access import NOT_ALLOWED, Access, Actor
from core.admin.buttons import (
    ADMIN_NO,
    ADMIN_PICK,
    BROADCAST_DROP,
    BROADCAST_SEND,
    FORGET_ME,
    RESET_USER,
)
from core.admin.commands import AUDIT_ACTIONS, USAGE, AdminRequest, BadRequest, audit_action, parse
from core.clock import Clock
from core.db.engine import Database
from core.kernel import audit
from core.kernel.audit import AuditAction
from core.kernel.markup import bold, esc, italic
from core.kernel.payloads import Payload
from core.kernel.types import (
    Button,
    Document,
    Inbound,
    Message,
    Outbound,
    Picture,
    Toast,
    clean_text,
)
from core.roadmaps.catalog import CatalogCache
from core.roadmaps.loader import check_roadmaps
from core.roadmaps.sync import sync_roadmaps

logger = logging.getLogger(__name__)

#: Commands this desk answers (the hot path never sees them).
#: A confirmation button works for this many minutes.
CONFIRM_MINUTES: Final = 10
#: Most roadmap problems listed in a refused reload.
MAX_PROBLEMS: Final = 15
EXPIRED: Final = "That question has expired — nothing changed. Please ask again."
PRIVATE_ONLY: Final = "For your privacy, send /{command} in a private chat with me."


def _minute(now: datetime) -> int:
    return int(now.timestamp() // 60)


def _fresh(stamp: str, now: datetime) -> bool:
    return stamp.isdecimal() and 0 <= _minute(now) - int(stamp) <= CONFIRM_MINUTES


def _no_button() -> Button:
    return Button(label="Cancel", payload=ADMIN_NO.encode())


def _private(replies: list[Outbound]) -> list[Outbound]:
    """Mark replies for the asker's eyes only: what an admin sees about others (profiles,
    identities, the audit log, figures) and a musician's own data are never shown in a shared
    chat (core/app/private_replies.py decides where they go instead)."""
    return [r.model_copy(update={"private": True}) for r in replies]


#: The ``ap:`` button's code for each subcommand that acts on one musician (reset has its own
#: ``ar:`` button), and what the button says.
_PICK_CODES: Final[dict[str, str]] = {"user": "u", "grant": "g", "revoke": "r"}
_PICKED: Final[dict[str, str]] = {code: sub for sub, code in _PICK_CODES.items()}
_PICK_LABELS: Final[dict[str, str]] = {
    "user": "Show {}",
    "grant": "Make {} an admin",
    "revoke": "Take admin from {}",
    "reset": "Yes, reset {}",
}


def _pick_button(sub: str, person: people.Person, stamp: str) -> Button:
    """The button that confirms ``sub`` on exactly this account (its user id, minute-stamped)."""
    label = _PICK_LABELS[sub].format(person.handle)
    if sub == "reset":
        return Button(label=label, payload=RESET_USER.encode(person.user_id.hex, stamp))
    return Button(
        label=label, payload=ADMIN_PICK.encode(_PICK_CODES[sub], person.user_id.hex, stamp)
    )


def _account_card(person: people.Person) -> list[str]:
    """Everything that tells an account from a look-alike: each platform account (id,
    username, first seen), display and artist name, user id and when they joined."""
    lines = [f"👤 {bold(esc(person.name))}"]
    for account in person.accounts:
        username = f" @{esc(account.username)}" if account.username else ""
        lines.append(
            f"• `{esc(account.handle)}`{username} — first seen {account.first_seen:%Y-%m-%d}"
        )
    if not person.accounts:
        lines.append("• no platform account")
    lines += [
        f"Display name: {esc(person.display_name or '—')} · "
        f"artist name: {esc(person.artist_name or '—')}",
        f"User id: `{person.user_id}` · joined {person.created_at:%Y-%m-%d}",
    ]
    return lines


class AdminDesk:
    """Answers the admin and privacy commands and their buttons."""

    def __init__(
        self,
        db: Database,
        *,
        access: Access,
        catalog: CatalogCache,
        clock: Clock,
        roadmaps_dir: Path | None = None,
    ) -> None:
        self.db = db
        self.access = access
        self.catalog = catalog
        self._clock = clock
        self.roadmaps_dir = roadmaps_dir

    @property
    def clock(self) -> Clock:
        """The coach's clock (shared, never copied: ``/admin stats`` must see the same now)."""
        return self._clock

    async def export(self, inbound: Inbound, _args: str) -> list[Outbound]:
        """``/export``: the person's data as a file, in their private chat only."""
        if inbound.chat_type != "private":
            # refused rather than sent privately: a file of someone's data is not made (nor its
            # export audited) on a word typed in a shared chat
            return [Message(text=PRIVATE_ONLY.format(command="export"), ephemeral=True)]
        return _private(await self._export(inbound))

    async def forget(self, inbound: Inbound, _args: str) -> list[Outbound]:
        """``/forget``: ask before deleting everything, in the private chat only."""
        if inbound.chat_type != "private":
            return [Message(text=PRIVATE_ONLY.format(command="forget"), ephemeral=True)]
        return _private(await self._ask_forget(inbound))

    async def broadcasts(self, inbound: Inbound, args: str) -> list[Outbound]:
        """``/broadcasts off|on``: the person's announcement opt-out."""
        return await self._opt(inbound, args)

    async def admin(self, inbound: Inbound, args: str) -> list[Outbound]:
        """``/admin …``: checked against the admin roles on every call."""
        return await self._admin(inbound, args)

    async def press(self, inbound: Inbound, payload: Payload) -> list[Outbound]:
        """A press of one of the desk's buttons (re-checked: who, and whether still fresh)."""
        return await self._on_button(inbound, payload)

    # ------------------------------------------------------------------ /admin

    async def _admin(self, inbound: Inbound, args: str) -> list[Outbound]:
        action, typed = audit_action(args)
        actor = await self.access.require_admin(inbound, action, details=typed)
        if actor is None:
            return [Message(text=NOT_ALLOWED)]
        try:
            request = parse(args)
        except BadRequest as exc:
            return [Message(text=esc(str(exc)))]
        return _private(await self._admin_answer(actor, inbound, request))

    async def _admin_answer(
        self, actor: Actor, inbound: Inbound, request: AdminRequest
    ) -> list[Outbound]:
        match request.sub:
            case "stats":
                return await self._stats(actor)
            case "broadcast":
                return await self._draft(actor, inbound, request)
            case "broadcasts":
                return await self._broadcasts()
            case "roadmaps":
                return await self._reload(actor)
            case "user":
                return await self._user(actor, request)
            case "reset":
                return await self._ask_reset(request)
            case "audit":
                await self._audit_ok(actor, "admin.audit")
                return await self._audit(request.count)
            case "grant" | "revoke":
                return await self._role(actor, request)
        lines = [bold("Admin commands:"), *(esc(u) for u in USAGE.values())]
        return [Message(text="\n".join(lines))]

    async def _stats(self, actor: Actor) -> list[Outbound]:
        async with self.db.transaction() as session:
            figures = await stats.collect(session, self.clock())
        lines = [
            bold("Stardom Coach in numbers"),
            f"Musicians: {figures.musicians:,} · bands: {figures.bands:,}",
            f"Active: {figures.active_7d:,} in 7 days, {figures.active_30d:,} in 30 days",
            f"This week: {figures.tasks_completed_7d:,} tasks and "
            f"{figures.stages_completed_7d:,} stages completed",
            f"Reminders this week: {figures.reminders_sent_7d:,} sent, "
            f"{figures.reminders_failed_7d:,} failed",
        ]
        if figures.funnel:
            lines += ["", bold("Where they are:")]
            lines += [
                f"{esc(f.roadmap)} · {esc(f.stage or 'finished')}: {f.profiles:,}"
                for f in figures.funnel
            ]
        else:
            lines += ["", italic("Nobody has picked a roadmap yet.")]
        if figures.tags:  # /start src-<tag> links: where people came from
            lines += ["", bold("Came by a tagged link:")]
            lines += [f"{esc(tag)}: {n:,}" for tag, n in figures.tags]
        chart = await stats.funnel_chart(figures.funnel)
        await self._audit_ok(actor, "admin.stats")
        text = "\n".join(lines)
        if chart is None:
            return [Message(text=text)]
        return [Picture(text=text, image=chart, name="funnel.png")]

    async def _draft(self, actor: Actor, inbound: Inbound, request: AdminRequest) -> list[Outbound]:
        text = clean_text(request.text or "")
        if not text:
            return [Message(text=f"Usage: {esc(USAGE['broadcast'])}")]
        who = await broadcast.audience(self.db)
        if who.recipients == 0:
            return [
                Message(
                    text="Nobody would receive that right now: "
                    f"{who.opted_out:,} opted out, {who.unreachable:,} unreachable, "
                    f"{who.no_inbox:,} only on the terminal."
                )
            ]
        broadcast_id = await broadcast.draft(
            self.db,
            text,
            created_by=actor.user_id,
            report_platform=inbound.platform,
            report_chat=inbound.chat_id,
            now=self.clock(),
        )
        skipped = (
            f"Skipped: {who.opted_out:,} opted out, {who.unreachable:,} unreachable, "
            f"{who.no_inbox:,} only on the terminal."
        )
        preview = (
            f"{bold('Broadcast preview')} — to {who.recipients:,} musicians. {skipped}\n\n"
            f"{broadcast.message(text)[0].text}"
        )
        buttons = (
            (
                Button(
                    label=f"Send to {who.recipients:,}",
                    payload=BROADCAST_SEND.encode(broadcast_id.hex),
                ),
                Button(label="Cancel", payload=BROADCAST_DROP.encode(broadcast_id.hex)),
            ),
        )
        return [Message(text=preview, buttons=buttons)]

    async def _broadcasts(self) -> list[Outbound]:
        found = await broadcast.recent(self.db)
        if not found:
            return [Message(text="No broadcasts yet.")]
        lines = [bold("Latest broadcasts:")]
        for p in found:
            snippet = p.text if len(p.text) <= 40 else p.text[:39] + "…"
            lines.append(
                f"{p.created_at:%Y-%m-%d %H:%M} {esc(p.status)} — {p.recipients:,} recipients, "
                f"{p.summary()}: {italic(esc(snippet))}"
            )
        return [Message(text="\n".join(lines))]

    async def _reload(self, actor: Actor) -> list[Outbound]:
        found, problems = check_roadmaps(self.roadmaps_dir)
        if problems:
            await audit.record(
                self.db,
                actor=actor.label,
                action="admin.roadmaps_reload",
                outcome="refused",
                actor_user_id=actor.user_id,
                details={"problems": len(problems)},
            )
            shown = [f"• `{esc(p)}`" for p in problems[:MAX_PROBLEMS]]
            more = len(problems) - len(shown)
            tail = [f"…and {more} more."] if more > 0 else []
            header = bold(f"Not reloaded: {len(problems)} problem(s), nothing changed.")
            return [Message(text="\n".join([header, *shown, *tail]))]
        async with self.db.transaction() as session:
            report = await sync_roadmaps(session, found)
        self.catalog.invalidate()
        await self._audit_ok(actor, "admin.roadmaps_reload", details={"summary": report.summary()})
        return [
            Message(
                text=f"{bold('Roadmaps reloaded.')} {esc(report.summary())}\n"
                + italic("Other workers pick the change up within 30 seconds.")
            )
        ]

    async def _resolve(self, who: str, sub: str) -> people.Person | list[Outbound]:
        """The person a handle (``platform:id``, user id) names; for a name, its account(s)
        shown in full with a button each — anyone can take a name, so acting on one waits
        for the admin to pick the exact account (``sub`` is what the button then does)."""
        async with self.db.transaction() as session:
            lookup = await people.find(session, who)
        if lookup.exact and lookup.person is not None:
            return lookup.person
        if not lookup.candidates:
            return [Message(text=f"I found nobody called {bold(esc(who))}.")]
        if len(lookup.candidates) == 1:
            head = f"Anyone can call themselves {bold(esc(who))}: is this the account you mean?"
        else:
            head = f"Several people are called {bold(esc(who))} — which account do you mean?"
        stamp = str(_minute(self.clock()))
        lines, rows = [head], []
        for person in lookup.candidates:
            lines += ["", *_account_card(person)]
            rows.append((_pick_button(sub, person, stamp),))
        if lookup.more:
            lines += ["", italic("…and more: name them by platform:id.")]
        return [Message(text="\n".join(lines), buttons=(*rows, (_no_button(),)))]

    async def _user(self, actor: Actor, request: AdminRequest) -> list[Outbound]:
        found = await self._resolve(request.who or "", "user")
        if not isinstance(found, people.Person):
            return found
        return await self._show(actor, found)

    async def _show(self, actor: Actor, found: people.Person) -> list[Outbound]:
        async with self.db.transaction() as session:
            where = await people.standing(session, found.user_id)
        await self._audit_ok(actor, "admin.user", target=found.handle)  # reading personal data
        last = f"{found.last_active_at:%Y-%m-%d %H:%M} UTC" if found.last_active_at else "never"
        flags = [
            *(["admin"] if "admin" in found.roles else []),
            *(["opted out of broadcasts"] if found.broadcasts_opt_out else []),
            *(["unreachable"] if found.unreachable else []),
        ]
        lines = [
            bold(esc(found.name)),
            f"Identities: {esc(', '.join(found.identities) or 'none')}",
            f"User id: `{found.user_id}`",
            f"Display name: {esc(found.display_name or '—')}",
            f"Roadmap: {esc(where.roadmap or 'not chosen')}",
            f"Stage: {esc(where.stage or ('finished' if where.roadmap else '—'))}",
            f"Progress: {where.completed}/{where.total} tasks done, {where.skipped} skipped",
            f"Joined: {found.created_at:%Y-%m-%d} · last active: {last}",
        ]
        if flags:
            lines.append(f"Flags: {', '.join(flags)}")
        return [Message(text="\n".join(lines))]

    async def _ask_reset(self, request: AdminRequest) -> list[Outbound]:
        found = await self._resolve(request.who or "", "reset")
        if not isinstance(found, people.Person):
            return found
        stamp = str(_minute(self.clock()))
        text = (
            f"Reset {bold(esc(found.name))} (`{esc(found.handle)}`)? Their progress, numbers "
            "and roadmap choice are deleted; they keep their name and start over."
        )
        return [
            Message(
                text="\n\n".join([text, "\n".join(_account_card(found))]),
                buttons=((_pick_button("reset", found, stamp), _no_button()),),
            )
        ]

    async def _audit(self, count: int) -> list[Outbound]:
        entries = await audit.latest(self.db, count)
        if not entries:
            return [Message(text="The audit log is empty.")]
        lines = [bold(f"Latest {len(entries)} audit entries:")]
        for e in entries:
            target = f" → {esc(e.target)}" if e.target else ""
            repeats = e.details.get(audit.SUPPRESSED)
            more = f" (+{repeats} earlier repeats)" if isinstance(repeats, int) else ""
            lines.append(
                f"`{e.at:%m-%d %H:%M:%S}` {esc(e.action)} {esc(e.outcome)} "
                f"by {esc(e.actor)}{target}{more}"
            )
        return [Message(text="\n".join(lines))]

    async def _role(self, actor: Actor, request: AdminRequest) -> list[Outbound]:
        found = await self._resolve(request.who or "", request.sub)
        if not isinstance(found, people.Person):
            return found
        return await self._set_role(actor, found, grant=request.sub == "grant")

    async def _set_role(self, actor: Actor, found: people.Person, *, grant: bool) -> list[Outbound]:
        if not grant and any(h in self.access.bootstrap for h in found.identities):
            return [
                Message(
                    text=f"{bold(esc(found.name))} is an admin from `COACH_ADMINS`; remove them "
                    "there (and restart) to take it away."
                )
            ]
        async with self.db.transaction() as session:
            changed = await people.set_admin(session, found.user_id, admin=grant)
        await audit.record(
            self.db,
            actor=actor.label,
            action="role.grant" if grant else "role.revoke",
            outcome="ok" if changed else "unchanged",
            target=found.handle,
            actor_user_id=actor.user_id,
            details={"role": "admin"},
        )
        if changed:  # menus that offer admin commands to admins only are redrawn
            await self.access.roles_changed(found.identities)
        name = bold(esc(found.name))
        if not changed:
            state = "already" if grant else "not"
            return [Message(text=f"{name} is {state} an admin — nothing changed.")]
        return [Message(text=f"{name} is {'now' if grant else 'no longer'} a bot admin.")]

    # ------------------------------------------------------------------ buttons

    async def _on_button(self, inbound: Inbound, payload: Payload) -> list[Outbound]:
        args = payload.args
        match payload.action:
            case "admin_no":
                return [Message(text="OK, nothing done.", edit=True)]
            case "forget_me":
                if inbound.chat_type != "private":  # only ever offered there: hand-made
                    return [Toast(text=PRIVATE_ONLY.format(command="forget"))]
                if not _fresh(args[0], self.clock()):
                    return [Toast(text=EXPIRED)]
                return _private(await self._forget(inbound))
            case "reset_user":
                return _private(await self._reset(inbound, args[0], args[1]))
            case "admin_pick":
                return _private(await self._pick(inbound, *args))
            case "broadcast_send" | "broadcast_drop":
                return await self._confirm_broadcast(inbound, payload)
        return [Toast(text="That button doesn't work anymore.")]

    async def _pressed_on(
        self, inbound: Inbound, action: AuditAction, user_hex: str, stamp: str
    ) -> tuple[Actor, uuid.UUID] | list[Outbound]:
        """An admin's press on a button about one account: the presser is still an admin (re-read
        now, a denial audited), the button is younger than 10 minutes, and it names a user id.
        Their actor and that id, or the toast that says why not."""
        actor = await self.access.require_admin(inbound, action)
        if actor is None:
            return [Toast(text=NOT_ALLOWED)]
        if not _fresh(stamp, self.clock()):
            return [Toast(text=EXPIRED)]
        try:
            return actor, uuid.UUID(hex=user_hex)
        except ValueError:
            return [Toast(text="That button doesn't work anymore.")]

    async def _reset(self, inbound: Inbound, user_hex: str, stamp: str) -> list[Outbound]:
        pressed = await self._pressed_on(inbound, "admin.reset", user_hex, stamp)
        if isinstance(pressed, list):
            return pressed
        actor, user_id = pressed
        async with self.db.transaction() as session:
            found = (await people.find(session, str(user_id))).person
            if found is None:
                return [Message(text="That musician isn't here anymore.", edit=True)]
            deleted = await people.reset(session, user_id, self.clock())
        await self._audit_ok(
            actor, "admin.reset", target=found.handle, details={"progress_rows": deleted}
        )
        return [
            Message(
                text=f"{bold(esc(found.name))} starts over ({deleted} progress rows removed).",
                edit=True,
            )
        ]

    async def _pick(self, inbound: Inbound, code: str, user_hex: str, stamp: str) -> list[Outbound]:
        """The admin picked the account shown for ``/admin user|grant|revoke <name>``: admin
        re-checked, the button's age too, then the action runs on exactly that account."""
        sub = _PICKED.get(code)
        if sub is None:
            return [Toast(text="That button doesn't work anymore.")]
        pressed = await self._pressed_on(inbound, AUDIT_ACTIONS[sub], user_hex, stamp)
        if isinstance(pressed, list):
            return pressed
        actor, user_id = pressed
        async with self.db.transaction() as session:
            found = (await people.find(session, str(user_id))).person
        if found is None:
            return [Message(text="That musician isn't here anymore.", edit=True)]
        if sub == "user":
            replies = await self._show(actor, found)
        else:
            replies = await self._set_role(actor, found, grant=sub == "grant")
        return [reply.model_copy(update={"edit": True}) for reply in replies]

    async def _confirm_broadcast(self, inbound: Inbound, payload: Payload) -> list[Outbound]:
        action: AuditAction = (
            "admin.broadcast" if payload.action == "broadcast_send" else "admin.broadcast_drop"
        )
        actor = await self.access.require_admin(inbound, action)
        if actor is None:
            return [Toast(text=NOT_ALLOWED)]
        try:
            broadcast_id = uuid.UUID(hex=payload.args[0])
        except ValueError:
            return [Toast(text="That button doesn't work anymore.")]
        if payload.action == "broadcast_drop":
            if await broadcast.drop(self.db, broadcast_id):
                await self._audit_ok(actor, "admin.broadcast_drop", target=broadcast_id.hex)
                return [Message(text="OK, broadcast dropped — nothing was sent.", edit=True)]
            return [Toast(text="That broadcast is no longer a draft.")]
        result = await broadcast.confirm(self.db, broadcast_id, self.clock())
        if not result.ok:
            notes = {
                "expired": EXPIRED,
                "sending": "Already on its way ✓",
                "done": "Already sent ✓",
                "cancelled": "That broadcast was dropped.",
            }
            return [Toast(text=notes.get(result.reason, EXPIRED))]
        await self._audit_ok(
            actor,
            "admin.broadcast",
            target=f"broadcast:{broadcast_id.hex}",
            details={"recipients": result.recipients},
        )
        return [
            Message(
                text=f"📣 Sending to {result.recipients:,} musicians. I'll report progress here "
                "(or see /admin broadcasts).",
                edit=True,
            )
        ]

    # ------------------------------------------------------------------ privacy

    async def _export(self, inbound: Inbound) -> list[Outbound]:
        actor = await self.access.actor(inbound.platform, inbound.user_id)
        if actor.user_id is None:
            return [Message(text="I have no data about you — there is nothing to export.")]
        now = self.clock()
        async with self.db.transaction() as session:
            found = await privacy.footprint(session, actor.user_id)
        data = privacy.export_json(found, now)
        await self._audit_ok(actor, "privacy.export", details={"rows": found.count()})
        return [
            Document(
                text=f"Here is everything I store about you: {found.count()} records, as JSON.",
                file=data,
                name=f"stardom-coach-export-{now:%Y%m%d}.json",
            )
        ]

    async def _ask_forget(self, inbound: Inbound) -> list[Outbound]:
        actor = await self.access.actor(inbound.platform, inbound.user_id)
        if actor.user_id is None:
            return [Message(text="I have no data about you — there is nothing to forget.")]
        stamp = str(_minute(self.clock()))
        yes = Button(label="Yes, delete everything", payload=FORGET_ME.encode(stamp))
        return [
            Message(
                text=f"{bold('Delete everything I know about you?')} Your progress, numbers, "
                "reminders and linked accounts are deleted for good; this can't be undone. "
                "(/export first if you want a copy.)",
                buttons=((yes, _no_button()),),
            )
        ]

    async def _forget(self, inbound: Inbound) -> list[Outbound]:
        actor = await self.access.actor(inbound.platform, inbound.user_id)
        if actor.user_id is None:
            return [Message(text="Done — I have nothing about you.", edit=True)]
        pseudonym = privacy.new_pseudonym()
        async with self.db.transaction() as session:
            found = await privacy.footprint(session, actor.user_id)
            deleted = await privacy.forget(session, found, pseudonym)
        await audit.record(
            self.db,
            actor=pseudonym,
            action="privacy.forget",
            outcome="ok",
            details={"rows_deleted": deleted},
        )
        return [
            Message(
                text="Done — everything I knew about you is deleted. If you write to me again, "
                "we start fresh. Good luck out there! 🎶",
                edit=True,
            )
        ]

    async def _opt(self, inbound: Inbound, args: str) -> list[Outbound]:
        choice = args.strip().casefold()
        if choice not in {"on", "off"}:
            return [
                Message(
                    text="Use /broadcasts off to stop announcements, /broadcasts on to get "
                    "them again."
                )
            ]
        actor = await self.access.actor(inbound.platform, inbound.user_id)
        if actor.user_id is None:
            return [Message(text="I don't know you yet — /start first.")]
        async with self.db.transaction() as session:
            await people.set_opt_out(session, actor.user_id, opt_out=choice == "off")
        if choice == "off":
            return [Message(text="OK — no more announcements. /broadcasts on brings them back.")]
        return [Message(text="OK — you'll get announcements again.")]

    async def _audit_ok(
        self,
        actor: Actor,
        action: AuditAction,
        *,
        target: str | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        await audit.record(
            self.db,
            actor=actor.label,
            action=action,
            outcome="ok",
            target=target,
            actor_user_id=actor.user_id,
            details=details,
        )
