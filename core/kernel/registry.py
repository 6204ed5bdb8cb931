"""The registry: every command, button and awaited answer the coach handles, declared by the
feature that owns it, read by every door.

A feature (``core/<feature>/routes.py``) makes a :class:`Feature` and declares on it, the way a
discord.py cog or a python-telegram-bot handler group owns its routes:

* its **commands** — name, one line of help, typed options, where they are offered (a private
  chat, a group, a band's server chat), who may use them (everyone, band managers, bot admins),
  how they run (the :data:`Door`) and the handler;
* its **buttons** — a :class:`~core.kernel.payloads.ButtonAction` (the wire code) and the
  handler of a press;
* its **conversation states** — a ``StrEnum`` of what it can wait for, and the handlers of free
  text and of "cancel" while it waits;
* its **suggestions** — the values only it knows (timezones, a band's tasks and members), which a
  front end offers while someone types an option that names them (Discord's autocomplete).

:class:`core.app.engine.Coach` builds one :class:`Registry` from the list of features and routes
every event by lookup; ``/help``, Telegram's command menus and Discord's command tree are built
from the same registry. Adding a command or a button touches the feature's own package only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeVar

from core.db.engine import Database
from core.kernel.audit import AuditAction
from core.kernel.payloads import ButtonAction, Payload
from core.kernel.turn import Turn
from core.kernel.types import ChatType, Inbound, Outbound
from core.roadmaps.catalog import CatalogCache

#: Where a command is offered: a person's private chat with the bot, a group chat (Telegram),
#: a band's server chat (a Discord guild; every event there acts on the band).
Place = Literal["private", "group", "band"]
EVERYWHERE: frozenset[Place] = frozenset({"private", "group", "band"})
SOLO: frozenset[Place] = frozenset({"private", "group"})
#: Who a command is for: the menus offer it only to them; the handler still checks on every call.
Audience = Literal["everyone", "managers", "admins"]
#: How a command or a button runs:
#: ``turn``    — in the event's transaction on the locked profile (the musician's, or in a band
#:               chat the band's): ``handler(turn, args)`` / ``handler(turn, payload)``;
#: ``account`` — on the account itself, before any turn (``/link`` may merge two accounts):
#:               ``handler(call, args)`` with :class:`core.accounts.linking.AccountCall`;
#: ``band``    — a band's own command in its server chat, after the band's checks:
#:               ``handler(call, args|payload)`` with :class:`core.bands.guild.BandCall`;
#: ``desk``    — admin and privacy work in transactions of its own:
#:               ``handler(desk, inbound, args|payload)`` with :class:`core.admin.desk.AdminDesk`.
Door = Literal["turn", "account", "band", "desk"]
#: What an option holds. ``choice`` offers ``choices``; ``member`` is a person of the chat and
#: ``role`` a server role, which a platform with a picker offers natively (Discord's user and
#: role options) and which reach the core as mentions (``<@id>``, ``<@&id>``) in the text.
OptionKind = Literal["text", "integer", "choice", "member", "role"]
#: Values only the core knows, which a front end offers while someone types (Discord's
#: autocomplete): each is answered by the feature that declared it (:meth:`Feature.suggests`),
#: through :meth:`core.app.engine.Coach.suggest`.
Suggest = Literal["timezones", "band_tasks", "band_members", "metrics"]
#: The most suggestions one answer holds (Discord shows at most 25 autocomplete choices).
MAX_SUGGESTIONS = 25

Handler = Callable[..., Awaitable[list[Outbound]]]
TextHandler = Callable[..., Awaitable[list[Outbound] | None]]
H = TypeVar("H", bound=Handler)
T = TypeVar("T", bound=TextHandler)


def place_of(chat_type: ChatType) -> Place:
    """The registry's place for a chat: a Discord guild chat is a band's place."""
    return "band" if chat_type == "guild" else chat_type


@dataclass(frozen=True, slots=True)
class Option:
    """One typed argument of a command, in the order it is typed after the command."""

    name: str
    help: str
    kind: OptionKind = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    suggest: Suggest | None = None
    #: The option takes the rest of the line (a name with spaces, a message).
    rest: bool = False


@dataclass(frozen=True, slots=True)
class Subcommand:
    """One word of a command that takes a sub-command first (``/band create <name>``): its
    own help and options. The core still reads the whole line (``/band create Owls``); a
    platform with sub-commands (Discord) offers each as its own entry with typed options."""

    name: str
    help: str
    options: tuple[Option, ...] = ()
    #: Who may run it (the command's own check refuses others, audited as ``refused_as``);
    #: Discord cannot set permissions per sub-command, so this is the core's alone.
    audience: Audience = "everyone"
    refused_as: AuditAction | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """A command as people see it and as the core runs it."""

    name: str
    help: str
    feature: str
    handler: Handler
    door: Door = "turn"
    usage: str = ""
    options: tuple[Option, ...] = ()
    #: Sub-commands (``/band join``); a command has these or ``options``, never both.
    subcommands: tuple[Subcommand, ...] = ()
    places: frozenset[Place] = EVERYWHERE
    audience: Audience = "everyone"
    #: Answered before the musician has an artist name (else: "let's get you set up first").
    before_setup: bool = False
    #: Also understood as a bare word without the slash ("skip", "undo", "today").
    bare: bool = False
    #: Listed in /help and the platforms' menus (False: an alias).
    listed: bool = True
    #: The audit action of a refusal to someone outside the audience.
    refused_as: AuditAction | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """The handler of one button action."""

    action: ButtonAction
    feature: str
    handler: Handler
    door: Door = "turn"
    places: frozenset[Place] = EVERYWHERE
    before_setup: bool = False
    audience: Audience = "everyone"
    #: The audit action of a refusal to someone outside the audience.
    refused_as: AuditAction | None = None


@dataclass(frozen=True, slots=True)
class TextRoute:
    """What free text means while a state waits: ``handler(turn, text)``.

    ``first``: the state takes every text, even a bare command word (a yes/no question, a name);
    ``empty``: it also takes an empty message. A handler that returns ``None`` lets the text fall
    through to the idle handler (typed words that are not ticks, say).
    """

    state: StrEnum
    feature: str
    handler: TextHandler
    first: bool = False
    empty: bool = False


@dataclass(frozen=True, slots=True)
class Setup:
    """What every profile needs before anything else (the artist name): while it is missing,
    free text answers ``state`` and other commands are met with ``prompt(turn)``."""

    feature: str
    state: StrEnum
    prompt: Callable[[Turn], list[Outbound]]
    needed: Callable[[Turn], bool]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One value offered while someone types: ``label`` is what they see, ``value`` what goes
    into the command text the core parses (a task's title shown, its slug sent)."""

    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Asked:
    """A request for suggestions: what was typed so far, and who is typing where (the band of
    ``inbound.server_id``, say). Read-only: a suggester opens its own short transaction."""

    db: Database
    catalogs: CatalogCache
    inbound: Inbound
    typed: str


Suggester = Callable[[Asked], Awaitable[list[Suggestion]]]
S = TypeVar("S", bound=Suggester)


@dataclass
class Feature:
    """One feature's declarations. Made once per package, at import, and handed to the
    :class:`Registry` by the application (core/app/features.py)."""

    name: str
    commands: list[Command] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    texts: dict[StrEnum, TextRoute] = field(default_factory=dict)
    cancels: dict[StrEnum, Handler] = field(default_factory=dict)
    #: Free text when nothing is awaited (one feature may declare it: the journey).
    idle_text: Handler | None = None
    #: What a profile needs first (one feature may declare it: the journey's artist name).
    setup_gate: Setup | None = None
    #: Who answers each source of suggestions this feature knows the values of.
    suggesters: dict[Suggest, Suggester] = field(default_factory=dict)

    def command(self, name: str, help: str, **spec: Any) -> Callable[[H], H]:
        """Declare a command answered by the decorated handler."""

        def add(handler: H) -> H:
            self.commands.append(Command(name, help, self.name, handler, **spec))
            return handler

        return add

    def button(self, action: ButtonAction, **spec: Any) -> Callable[[H], H]:
        """Declare the handler of presses of ``action``."""

        def add(handler: H) -> H:
            self.buttons.append(Button(action, self.name, handler, **spec))
            return handler

        return add

    def on_text(
        self, state: StrEnum, *, first: bool = False, empty: bool = False
    ) -> Callable[[T], T]:
        """Declare what free text means while ``state`` waits."""

        def add(handler: T) -> T:
            self.texts[state] = TextRoute(state, self.name, handler, first, empty)
            return handler

        return add

    def setup(
        self,
        state: StrEnum,
        prompt: Callable[[Turn], list[Outbound]],
        needed: Callable[[Turn], bool],
    ) -> None:
        """Declare what every profile needs first (see :class:`Setup`)."""
        self.setup_gate = Setup(self.name, state, prompt, needed)

    def on_cancel(self, state: StrEnum) -> Callable[[H], H]:
        """Declare what "cancel" (the button or /cancel) does while ``state`` waits."""

        def add(handler: H) -> H:
            self.cancels[state] = handler
            return handler

        return add

    def when_idle(self, handler: H) -> H:
        """Declare what free text means when nothing is awaited."""
        self.idle_text = handler
        return handler

    def suggests(self, source: Suggest) -> Callable[[S], S]:
        """Declare the decorated coroutine as the answer to ``source`` (options that name it
        get their values from it while someone types)."""

        def add(suggester: S) -> S:
            self.suggesters[source] = suggester
            return suggester

        return add


@dataclass(frozen=True, slots=True)
class Routed:
    """What an event is, found before any database work: the route the registry gives it (a
    :class:`Command` or a :class:`Button`, or ``None``), the command's name and argument text
    or the button's payload.

    A button that runs a command (:data:`~core.kernel.payloads.RUN_COMMAND`) is that command.
    ``solo_only``: the command exists, but not where it was sent (``/link`` in a band's chat).
    ``band_only``: the other way round — a band's command (``/band digest``, ``/assign``) sent
    from a direct chat, a group or the terminal, where there is no band.
    ``text``: the message as read (control characters dropped), so nothing cleans it twice.
    """

    route: Command | Button | None = None
    command: str | None = None
    args: str = ""
    payload: Payload | None = None
    solo_only: bool = False
    band_only: bool = False
    text: str = ""

    @property
    def door(self) -> Door | None:
        """How the route runs (``None``: no route)."""
        return None if self.route is None else self.route.door


class RegistryError(ValueError):
    """Two features declared the same command, button or state for the same place, or a
    command's options can't be read back (a rest-of-line option before another one, a source
    of suggestions nobody answers)."""


class Registry:
    """Every feature's declarations, checked for clashes and indexed for lookup."""

    def __init__(self, features: Iterable[Feature]) -> None:
        self.features = tuple(features)
        self._commands: dict[tuple[str, Place], Command] = {}
        self._buttons: dict[tuple[str, Place], Button] = {}
        self._texts: dict[StrEnum, TextRoute] = {}
        self._cancels: dict[StrEnum, Handler] = {}
        self._states: dict[str, StrEnum] = {}
        self._suggesters: dict[Suggest, Suggester] = {}
        self.idle_text: Handler | None = None
        self.setup: Setup | None = None
        for feature in self.features:
            self._add(feature)
        for feature in self.features:
            for command in feature.commands:
                self._check_options(command)
        #: Every command name, for "did you mean" suggestions.
        self.names = frozenset(name for name, _place in self._commands)

    def _add(self, feature: Feature) -> None:
        for command in feature.commands:
            for place in command.places:
                _put(self._commands, (command.name, place), command, f"/{command.name}")
        for source, suggester in feature.suggesters.items():
            _put(self._suggesters, source, suggester, f"suggestions of {source}")
        for button in feature.buttons:
            for place in button.places:
                _put(self._buttons, (button.action.name, place), button, button.action.name)
        for state, route in feature.texts.items():
            self._state(state)
            _put(self._texts, state, route, f"text while {state}")
        for state, cancel in feature.cancels.items():
            self._state(state)
            _put(self._cancels, state, cancel, f"cancel while {state}")
        if feature.idle_text is not None:
            if self.idle_text is not None:
                raise RegistryError(f"{feature.name}: idle text is already declared")
            self.idle_text = feature.idle_text
        if feature.setup_gate is not None:
            if self.setup is not None:
                raise RegistryError(f"{feature.name}: the setup gate is already declared")
            self._state(feature.setup_gate.state)
            self.setup = feature.setup_gate

    def _check_options(self, command: Command) -> None:
        """The option lists every door reads must make sense: the core reads the values back
        from one line of text, in order, so a rest-of-line option comes last; every source of
        suggestions has a feature answering it."""
        if command.options and command.subcommands:
            raise RegistryError(f"/{command.name}: options or sub-commands, not both")
        lists = [command.options, *(sub.options for sub in command.subcommands)]
        for options in lists:
            for option in options[:-1]:
                if option.rest:
                    raise RegistryError(f"/{command.name}: {option.name} takes the rest: last")
            for option in options:
                if option.suggest is not None and option.suggest not in self._suggesters:
                    raise RegistryError(f"/{command.name}: nobody suggests {option.suggest}")

    def _state(self, state: StrEnum) -> None:
        known = self._states.get(state.value)
        if known is not None and known is not state:
            raise RegistryError(f"state {state.value!r} is declared twice")
        self._states[state.value] = state

    # ------------------------------------------------------------------ lookup

    def command(self, name: str, place: Place) -> Command | None:
        """The command called ``name`` where the event came from."""
        return self._commands.get((name, place))

    def button(self, payload: Payload, place: Place) -> Button | None:
        """The handler of a press of this payload where the event came from."""
        return self._buttons.get((payload.action, place))

    def text(self, state: StrEnum | None) -> TextRoute | None:
        """What free text means while ``state`` waits."""
        return None if state is None else self._texts.get(state)

    def cancel(self, state: StrEnum | None) -> Handler | None:
        """What "cancel" does while ``state`` waits."""
        return None if state is None else self._cancels.get(state)

    @property
    def states(self) -> Mapping[str, StrEnum]:
        """Stored state names → the owning feature's typed value (what the turn reads)."""
        return self._states

    def menu(
        self,
        place: Place | None = None,
        audiences: Iterable[Audience] = ("everyone", "managers", "admins"),
    ) -> list[Command]:
        """The commands to offer in ``place`` (``None``: anywhere) to people of ``audiences``,
        once per name, in declaration order (features in the application's order): /help and
        the platforms' menus."""
        wanted = set(audiences)
        seen: set[str] = set()
        out: list[Command] = []
        for feature in self.features:
            for command in feature.commands:
                if (
                    command.listed
                    and (place is None or place in command.places)
                    and command.audience in wanted
                    and command.name not in seen
                ):
                    seen.add(command.name)
                    out.append(command)
        return out

    def suggester(self, source: Suggest) -> Suggester | None:
        """Who answers ``source`` (the feature that knows those values)."""
        return self._suggesters.get(source)

    def bare_words(self) -> frozenset[str]:
        """Command names also understood without the slash."""
        return frozenset(c.name for c in self._commands.values() if c.bare)


def _put(table: dict[Any, Any], key: Any, value: Any, what: str) -> None:
    if key in table and table[key] is not value:
        raise RegistryError(f"{what} is declared twice for {key}")
    table[key] = value
