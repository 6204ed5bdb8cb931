"""What the bands feature answers in a band's server chat: ``/band …``, ``/assign``, the band's
artist name, the band's reminder settings, and the reset confirmation — and, while someone
types, the band's tasks and members (:mod:`core.bands.suggestions`).

Every route here is declared for the ``band`` place and runs through the ``band`` door: the
engine hands the event to :func:`core.bands.guild.handle`, which finds the server's band,
checks the sender (member, manager) and locks the band's turn before calling the handler with a
:class:`~core.bands.guild.BandCall`. Every other command in a band chat (``/today``, ticks,
answers) is the journey's, run on the band's profile.
"""

from __future__ import annotations

from core.accounts.linking import AccountCall
from core.bands import digest, flows, invites, store, suggestions, words
from core.bands import reminders as band_reminders
from core.bands.buttons import BAND_RESET
from core.bands.guild import BandCall, band_sub
from core.bands.states import BandAwaiting
from core.coaching.streaks import flows as streak_flows
from core.coaching.streaks.routes import STREAK_HELP, STREAK_OPTIONS
from core.coaching.streaks.words import FreezeAsk, Unfreeze
from core.journey import country
from core.journey.buttons import COUNTRY
from core.journey.routes import COUNTRY_HELP, change_country, country_picked
from core.kernel.markup import bold, esc
from core.kernel.payloads import Payload
from core.kernel.registry import SOLO, Asked, Feature, Option, Place, Subcommand, Suggestion
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound
from core.reminders.buttons import SETTING
from core.reminders.routes import (
    QUIET_HELP,
    QUIET_OPTIONS,
    REMIND_HELP,
    REMIND_OPTIONS,
    TIMEZONE_HELP,
    TIMEZONE_OPTIONS,
)

bands = Feature("bands")
BAND: frozenset[Place] = frozenset({"band"})


@bands.command(
    "band",
    "Your band: create, join, progress, members, and managers' settings",
    usage="[create <name> | join | leave | progress | members | digest | invite | rename | "
    "remove | role | channel | milestones | reset]",
    subcommands=(
        Subcommand("progress", "The band's stages and who did what"),
        Subcommand("members", "Who is in the band"),
        Subcommand(
            "digest",
            "The band's week now; managers: on, off, or a day and time for the weekly one",
            options=(
                Option("when", "on, off, or a day and 24-hour time (monday 9:00)", rest=True),
            ),
        ),
        Subcommand("join", "Join this server's band"),
        Subcommand("leave", "Leave this server's band"),
        Subcommand(
            "create",
            "Start this server's band (needs Manage Server)",
            options=(
                Option("role", "Everyone with this role is in the band", kind="role"),
                Option("name", "The band's name", required=True, rest=True),
            ),
        ),
        Subcommand(
            "invite",
            "An invite code and link to join the band from a private chat (managers)",
            options=(Option("uses", "How many people it lets in (1 to 25), or revoke", rest=True),),
            audience="managers",
            refused_as="band.invite",
        ),
        Subcommand(
            "rename",
            "Rename the band (managers)",
            options=(Option("name", "The new name", required=True, rest=True),),
            audience="managers",
            refused_as="band.rename",
        ),
        Subcommand(
            "remove",
            "Remove a member from the band (managers)",
            options=(Option("member", "Who to remove", required=True, suggest="band_members"),),
            audience="managers",
            refused_as="band.remove",
        ),
        Subcommand(
            "role",
            "Bind a role: its holders are members (managers)",
            options=(Option("role", "The role; leave empty to unbind", kind="role"),),
            audience="managers",
            refused_as="band.role",
        ),
        Subcommand(
            "channel",
            "Post band updates and reminders here (managers)",
            audience="managers",
            refused_as="band.channel",
        ),
        Subcommand(
            "milestones",
            "Announce the band's milestones in its updates channel: on or off (managers)",
            options=(Option("switch", "on or off", choices=("on", "off")),),
            audience="managers",
            refused_as="band.milestones",
        ),
        Subcommand(
            "reset",
            "Wipe the band's progress, after a confirmation (managers)",
            audience="managers",
            refused_as="band.reset",
        ),
        Subcommand("help", "Every band command, one line each"),
    ),
    places=BAND,
    door="band",
)
async def _band(call: BandCall, args: str) -> list[Outbound]:
    sub, rest = band_sub(args)
    turn, band = call.turn, call.band
    match sub:
        case "progress":
            return await flows.progress(turn, band)
        case "members":
            return await flows.members_list(turn, band)
        case "digest":
            return await digest.command(
                turn, band, rest, is_manager=call.is_manager, deny=call.deny
            )
        case "leave":
            await store.remove_member(turn.ex, band.id, turn.rec.user_id)
            return [Message(text=f"You've left {bold(esc(band.name))}. Come back any time.")]
        case "invite":
            return await invites.command(turn, band.id, band.name, rest, call.links)
        case "rename":
            return await flows.rename(turn, band, rest)
        case "remove":
            return await flows.remove(turn, band, rest)
        case "role":
            return await flows.bind_role(turn, band, rest)
        case "channel":
            return await flows.set_channel(turn, band)
        case "milestones":
            return await flows.announce_milestones(turn, band, rest)
        case "reset":
            return flows.ask_reset(turn, band)
    help_ = flows.band_help(turn.inbound.platform)
    return [Message(text=f"I don't know `/band {esc(sub[:20])}`.\n\n{help_}")]


@bands.command(
    "join",
    "Join a band with the invite code a manager gave you",
    usage="<code>",
    options=(Option("code", "the invite code (from /band invite)", required=True),),
    places=SOLO,
    door="account",
    before_setup=True,
)
async def _join(call: AccountCall, args: str) -> list[Outbound]:
    """Redeemed on the account, like ``/link``: joining a band is the person's, not a turn's."""
    return await invites.redeem(call, args)


@bands.command(
    "assign",
    "Make a task a band member's job",
    usage="<task> @member",
    options=(
        Option("task", "the task (its title or part of it)", required=True, suggest="band_tasks"),
        Option("member", "who does it", required=True, kind="member"),
    ),
    places=BAND,
    door="band",
)
async def _assign(call: BandCall, args: str) -> list[Outbound]:
    return await flows.assign(call.turn, call.band, args)


@bands.command(
    "name",
    "Rename the band",
    usage="<new name>",
    options=(Option("name", "The band's new name", required=True, rest=True),),
    places=BAND,
    door="band",
    audience="managers",
    refused_as="band.rename",
)
async def _name(call: BandCall, args: str) -> list[Outbound]:
    return await flows.rename(call.turn, call.band, args)


@bands.button(BAND_RESET, places=BAND, door="band", audience="managers", refused_as="band.reset")
async def _reset(call: BandCall, _payload: Payload) -> list[Outbound]:
    turn = call.turn
    if turn.awaiting is BandAwaiting.RESET:
        turn.audit("band.reset", "ok", f"band:{call.band.id}")
    return await flows.reset(turn, call.band)


@bands.on_cancel(BandAwaiting.RESET)
async def _keep(turn: Turn) -> list[Outbound]:
    turn.set_state(None)
    return [Message(text="OK, nothing was reset.", edit=True)]


async def _reminder(call: BandCall, name: str, args: str) -> list[Outbound]:
    return await band_reminders.handle(
        call.turn, call.band, name, args, None, is_manager=call.is_manager, deny=call.deny
    )


@bands.command(
    "remind", REMIND_HELP[0], usage=REMIND_HELP[1], options=REMIND_OPTIONS, places=BAND, door="band"
)
async def _remind(call: BandCall, args: str) -> list[Outbound]:
    return await _reminder(call, "remind", args)


@bands.command(
    "timezone",
    TIMEZONE_HELP[0],
    usage=TIMEZONE_HELP[1],
    options=TIMEZONE_OPTIONS,
    places=BAND,
    door="band",
)
async def _timezone(call: BandCall, args: str) -> list[Outbound]:
    return await _reminder(call, "timezone", args)


@bands.command(
    "quiet", QUIET_HELP[0], usage=QUIET_HELP[1], options=QUIET_OPTIONS, places=BAND, door="band"
)
async def _quiet(call: BandCall, args: str) -> list[Outbound]:
    return await _reminder(call, "quiet", args)


@bands.button(SETTING, places=BAND, door="band")
async def _setting(call: BandCall, payload: Payload) -> list[Outbound]:
    return await band_reminders.handle(
        call.turn, call.band, None, "", payload, is_manager=call.is_manager, deny=call.deny
    )


@bands.suggests("band_tasks")
async def _tasks(asked: Asked) -> list[Suggestion]:
    return await suggestions.tasks(asked)


@bands.suggests("band_members")
async def _members(asked: Asked) -> list[Suggestion]:
    return await suggestions.members(asked)


@bands.command(
    "streak",
    "The band's streak: weeks in a row with a step done; managers freeze it for a tour",
    usage=STREAK_HELP[1],
    options=STREAK_OPTIONS,
    places=BAND,
    door="band",
)
async def _streak(call: BandCall, args: str) -> list[Outbound]:
    """The band's streak is the band's: every member sees it, only managers freeze it (a
    member's try is refused and audited)."""
    request = streak_flows.request_of(call.turn, args)
    if isinstance(request, FreezeAsk | Unfreeze) and not call.is_manager:
        call.deny("band.streak", f"band:{call.band.id}", args=args)
        return [
            Message(
                text=words.only_managers(call.turn.inbound.platform, "freeze the band's streak"),
                ephemeral=True,
            )
        ]
    return await streak_flows.run(call.turn, request)


@bands.command(
    "country",
    "The band's country, for tax and funding advice; managers change it",
    usage=COUNTRY_HELP[1],
    options=COUNTRY_HELP[2],
    places=BAND,
    door="band",
)
async def _country(call: BandCall, args: str) -> list[Outbound]:
    """The band's country is the band's: every member sees it, only managers set it (a
    member's try is refused and audited)."""
    if not args.strip():
        return [country.show(call.turn)]
    if not call.is_manager:
        call.deny("band.country", f"band:{call.band.id}", args=args[:60])
        return [
            Message(
                text=words.only_managers(call.turn.inbound.platform, "change the band's country"),
                ephemeral=True,
            )
        ]
    return await change_country(call.turn, args)


@bands.button(COUNTRY, places=BAND, door="band", audience="managers", refused_as="band.country")
async def _country_button(call: BandCall, payload: Payload) -> list[Outbound]:
    """A manager's answer to the band's country question (a member's press is refused and
    audited by the band's door)."""
    return await country_picked(call.turn, payload.args[0])
