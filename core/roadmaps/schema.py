"""The roadmap content schema: what a file under ``roadmaps/`` may say.

Roadmaps are data written by people, so the schema is strict (``extra="forbid"``) and every model
is frozen: a typo in a field name is an error, never a silently ignored key. Slugs are the stable
identity used by the database sync, so editing a title keeps every musician's progress.

Task slugs are unique across *all* roadmaps (not just one): a button payload names a task by slug
alone and still knows which roadmap it came from, which keeps payloads under Telegram's 64 bytes.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Annotated, Literal, Self

from babel import Locale
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
#: Task slugs appear in button payloads, so they are short.
TASK_SLUG_MAX = 32
#: Checklist item keys appear in button payloads too.
ITEM_KEY_MAX = 16

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, min_length=2, max_length=40)]
TaskSlug = Annotated[
    str, StringConstraints(pattern=SLUG_PATTERN, min_length=2, max_length=TASK_SLUG_MAX)
]
ItemKey = Annotated[
    str, StringConstraints(pattern=SLUG_PATTERN, min_length=1, max_length=ITEM_KEY_MAX)
]
MetricName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=120)]
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1500)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputType(enum.StrEnum):
    """What kind of answer a data-input task expects; each has its own parser."""

    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"
    PERCENT = "percent"
    DATE = "date"
    DURATION = "duration"
    URL = "url"
    CHOICE = "choice"
    TEXT = "text"


#: Types whose answers are numbers (and so can have min/max and feed a numeric metric).
NUMERIC_TYPES = frozenset(
    {InputType.INTEGER, InputType.DECIMAL, InputType.MONEY, InputType.PERCENT, InputType.DURATION}
)


class Verdict(enum.StrEnum):
    """How a value reads against a reference: the coach's tone follows it."""

    GOOD = "good"
    OK = "ok"
    WARN = "warn"
    BAD = "bad"


class ValueBand(_Frozen):
    """A half-open band of values: ``at_least <= value < below`` (either end may be open)."""

    at_least: Decimal | None = None
    below: Decimal | None = None

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.at_least is None and self.below is None:
            raise ValueError("give at_least, below or both")
        if self.at_least is not None and self.below is not None and self.at_least >= self.below:
            raise ValueError(f"at_least ({self.at_least}) must be below below ({self.below})")
        return self

    def holds(self, value: Decimal) -> bool:
        """Whether ``value`` lies in the band."""
        if self.at_least is not None and value < self.at_least:
            return False
        return self.below is None or value < self.below


class Reference(ValueBand):
    """What a value in this band means and the one thing to do about it.

    ``says`` and ``advice`` may use ``{value}`` (the answer as shown), ``{gap}`` (the distance
    from the spec's ``target``, as shown) and ``{ratio}`` (the answer ÷ the ``of`` metric, as a
    percentage). With ``of``, the band applies to that ratio (a fraction: ``at_least: 0.9`` is
    90 %), not to the raw answer, and the
    reference is skipped while the musician has no value of that metric yet. References are
    tried in order; the first band that holds wins. Every reference cites its source in a YAML
    comment next to it (content rule, checked by review, not by the loader).
    """

    verdict: Verdict
    says: Body
    advice: Body
    of: MetricName | None = None


class Suspect(ValueBand):
    """A band of values that is probably a typo: the coach asks ``ask`` before saving."""

    ask: Body


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MonthDay = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
AnchorName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=24)]


class Blackout(_Frozen):
    """A yearly window to avoid (``12-18`` to ``01-04`` wraps the new year), and why."""

    start: MonthDay
    end: MonthDay
    why: Body


class DateRules(_Frozen):
    """Rules a date answer should follow; a date that breaks one gets the reason and the
    nearest good dates as buttons, and the musician may still insist."""

    weekday: Weekday | None = None
    min_days_ahead: int | None = Field(default=None, ge=0, le=3650)
    max_days_ahead: int | None = Field(default=None, ge=0, le=3650)
    avoid: tuple[Blackout, ...] = ()
    #: Why the rules exist, shown once with the suggested dates.
    why: Body | None = None

    @model_validator(mode="after")
    def _window(self) -> Self:
        lo, hi = self.min_days_ahead, self.max_days_ahead
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"min_days_ahead ({lo}) is greater than max_days_ahead ({hi})")
        return self


class Cadence(enum.StrEnum):
    """How often a tracked metric is checked in."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class Timing(_Frozen):
    """When a task is due, in days from an anchor date (``release``: the release date).

    ``due`` is the deadline (negative: before the anchor). ``opens`` is when the task may be
    done at the earliest; a data question about numbers that do not exist yet (the first 28
    days of streams) opens on its date and is not asked before. Without ``opens`` the task may
    be done any time before ``due``.
    """

    anchor: AnchorName
    due: int = Field(ge=-730, le=730)
    opens: int | None = Field(default=None, ge=-730, le=730)

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.opens is not None and self.opens > self.due:
            raise ValueError(f"opens ({self.opens}) is after due ({self.due})")
        return self


class ChecklistItem(_Frozen):
    """One tickable line of a checklist. ``key`` is stable; ``text`` may be edited freely."""

    key: ItemKey
    text: Title


class InputSpec(_Frozen):
    """How to ask for, parse and validate one data-input answer.

    ``unit`` is shown to the musician ("listeners", "LUFS", "EUR"). For ``money`` it is the ISO
    currency code the amount is stored in. For ``duration`` values are stored in seconds.
    ``min``/``max`` bound numeric answers (and the length of ``text`` answers). ``metric`` names
    the stats time series the answer feeds (``monthly_listeners``); answers without a metric are
    stored only on the task.
    """

    type: InputType
    question: Body
    unit: str | None = Field(default=None, max_length=24)
    min: Decimal | None = None
    max: Decimal | None = None
    help: Body | None = None
    #: A realistic answer for a musician at this stage, as they would type it ("350", "€800",
    #: "-14"), shown in the "e.g." hint. Written by people because a value computed from the
    #: bounds reads as nonsense ("€500000" for a first single). Not for dates (see below).
    example: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)] | None
    ) = None
    metric: MetricName | None = None
    choices: tuple[Annotated[str, StringConstraints(min_length=1, max_length=60)], ...] | None = (
        None
    )
    #: What values mean and what to do about them (numeric types), first match wins.
    references: tuple[Reference, ...] = ()
    #: The value a professional aims for (``{gap}`` in a reference is the distance from it).
    target: Decimal | None = None
    #: Which way is better, for comparisons with the previous value and with a goal.
    better: Literal["higher", "lower"] | None = None
    #: Values that are probably a mistake: asked about before saving.
    suspect: tuple[Suspect, ...] = ()
    #: Rules a date answer should follow (type ``date`` only).
    rules: DateRules | None = None
    #: The anchor date this answer sets (type ``date`` only), e.g. ``release``.
    anchor: AnchorName | None = None
    #: The metric is tracked over time: a check-in is asked on this cadence (needs ``metric``).
    track: Cadence | None = None
    #: Words a musician may use for the metric in ``/update`` ("listeners"), besides its name.
    aliases: tuple[Annotated[str, StringConstraints(min_length=2, max_length=40)], ...] = ()

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if self.type is InputType.CHOICE:
            if not self.choices or len(self.choices) < 2:
                raise ValueError("a choice input needs at least two choices")
            if len({c.casefold() for c in self.choices}) != len(self.choices):
                raise ValueError("choices must be distinct")
        elif self.choices is not None:
            raise ValueError(f"choices are only allowed on type 'choice', not '{self.type}'")
        if (
            self.type not in NUMERIC_TYPES
            and self.type is not InputType.TEXT
            and (self.min is not None or self.max is not None)
        ):
            raise ValueError(f"min/max make no sense for type '{self.type}'")
        if self.type is InputType.MONEY and not self.unit:
            raise ValueError("a money input needs a currency code as its unit (e.g. EUR)")
        numeric = self.type in NUMERIC_TYPES
        if (self.references or self.suspect or self.target is not None) and not numeric:
            raise ValueError(
                f"references, suspect and target need a numeric type, not '{self.type}'"
            )
        if self.better is not None and not numeric:
            raise ValueError(f"better needs a numeric type, not '{self.type}'")
        if (self.rules is not None or self.anchor is not None) and self.type is not InputType.DATE:
            raise ValueError(f"rules and anchor are only for type 'date', not '{self.type}'")
        if (self.track is not None or self.aliases) and self.metric is None:
            raise ValueError("track and aliases need a metric")
        if self.track is not None and not numeric:
            raise ValueError(f"a tracked metric needs a numeric type, not '{self.type}'")
        return self

    @model_validator(mode="after")
    def _example_fits(self) -> Self:
        """What can be checked here; whether a numeric example parses, lies in bounds and is no
        suspect is checked by the content tests, because the schema must not import the parser."""
        if self.example is None:
            return self
        if self.type is InputType.DATE:
            raise ValueError(
                "a date question takes no example: a fixed date goes stale, so the coach "
                "computes one from today"
            )
        choices = {c.casefold() for c in self.choices or ()}
        if self.type is InputType.CHOICE and self.example.casefold() not in choices:
            raise ValueError(f"example '{self.example}' is not one of the choices")
        return self


#: Babel's region codes that are no country (the EU, the eurozone, the UN, "Outlying
#: Oceania", pseudo-regions, CLDR's "Unknown Region").
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})
#: Every ISO 3166-1 alpha-2 country code (CLDR's territories, through Babel).
COUNTRY_CODES: frozenset[str] = frozenset(
    str(code)
    for code in Locale.parse("en").territories
    if len(str(code)) == 2 and str(code).isalpha() and code not in _NOT_COUNTRIES
)
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class Condition(_Frozen):
    """A task that only applies after a certain answer to an earlier choice question, or
    only to musicians of certain countries (or both).

    ``only_if: {task: iss-recording-setup, answer: [With a producer, Studio with an engineer]}``:
    the task is shown, counted and chosen only while that question's stored answer is one of
    ``answer``. Until the question is answered (or when it was skipped) the task applies, so
    nothing is hidden from a musician who has not told the coach yet. The roadmap checks that
    ``task`` is a choice question earlier in the same roadmap and that every answer is one of
    its choices, so a renamed choice is a load error, not a task that silently never shows.

    ``only_if: {country: [GB, IE]}``: the task is shown, counted and chosen only for a profile
    whose country (``/country``, issue #15) is one of these ISO 3166-1 alpha-2 codes; an
    unknown code is a load error. Unlike an answer, an unknown country shows *no* country task:
    the general advice is for everyone whose country is not known or not covered. A country
    task that replaces a general one names it with ``variant_of`` (:class:`Task`).
    """

    task: TaskSlug | None = None
    answer: tuple[Annotated[str, StringConstraints(min_length=1, max_length=60)], ...] | None = (
        Field(default=None, min_length=1)
    )
    country: tuple[CountryCode, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _one_or_many(cls, data: object) -> object:
        """``answer: Home studio`` is read as a list of one."""
        if isinstance(data, dict):
            for name in ("answer", "country"):
                if isinstance(data.get(name), str):
                    data = {**data, name: (data[name],)}
        return data

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if (self.task is None) != (self.answer is None):
            raise ValueError("a condition on an answer needs both task and answer")
        if self.task is None and self.country is None:
            raise ValueError("a condition needs task and answer, or country")
        unknown = sorted(set(self.country or ()) - COUNTRY_CODES)
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)} is not an ISO 3166-1 alpha-2 country code (GB, US, DE …)"
            )
        return self

    def for_country(self, country: str | None) -> bool:
        """Whether a profile of ``country`` (``None``: not known) may see the task: always,
        without a country condition; else only when its country is one of them."""
        return self.country is None or (country is not None and country in self.country)

    def holds(self, value: str | None) -> bool:
        """Whether a stored answer (``None``: not answered) lets the task apply."""
        if value is None or self.answer is None:
            return True
        folded = value.casefold()
        return any(folded == choice.casefold() for choice in self.answer)


#: A repeating cycle's name, as the coach says it ("your next release", "release 2").
CycleNoun = Annotated[
    str, StringConstraints(pattern=r"^[a-z][a-z ]*$", min_length=3, max_length=20)
]


class Task(_Frozen):
    """A task: either a checklist (with items) or a data input (with an ``input`` spec)."""

    slug: TaskSlug
    title: Title
    description: Body
    type: Literal["checklist", "data_input"]
    optional: bool = False
    #: A key task (rights, registration, upload, pitch): skipping it comes back when it matters,
    #: and the stage shows it as skipped rather than a clean 100 %.
    key: bool = False
    #: When the task is due, relative to an anchor date (see :class:`Timing`).
    when: Timing | None = None
    items: tuple[ChecklistItem, ...] | None = None
    input: InputSpec | None = None
    #: The task applies only after one of these answers to an earlier choice question, or
    #: only in these countries.
    only_if: Condition | None = None
    #: Done once, not every cycle: in a stage that repeats (``repeats:``), the next cycle does
    #: not reopen it (a YouTube channel or a tax registration is set up once).
    once: bool = False
    #: A country's version of the general task of this slug (same stage): for a profile of
    #: one of its ``only_if.country`` it is shown instead of the general one (which everyone
    #: else sees).
    variant_of: TaskSlug | None = None

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.type == "checklist":
            if not self.items:
                raise ValueError(f"checklist task '{self.slug}' has no items")
            if self.input is not None:
                raise ValueError(f"checklist task '{self.slug}' must not have an input")
            keys = [i.key for i in self.items]
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                raise ValueError(f"task '{self.slug}' repeats item keys: {', '.join(dupes)}")
            if len(self.items) > 12:
                raise ValueError(f"checklist task '{self.slug}' has more than 12 items")
        else:
            if self.input is None:
                raise ValueError(f"data_input task '{self.slug}' has no input")
            if self.items is not None:
                raise ValueError(f"data_input task '{self.slug}' must not have items")
        return self


class Stage(_Frozen):
    """An ordered stage of a roadmap; the next stage unlocks when this one is done."""

    slug: Slug
    title: Title
    intro: Body
    tasks: tuple[Task, ...] = Field(min_length=1)
    #: The stage belongs to a cycle that repeats (``release``): once every stage of the cycle
    #: is done the musician is offered the next one, whose tasks start fresh (the earlier
    #: cycles' answers are kept and carried forward as baselines).
    repeats: CycleNoun | None = None

    @model_validator(mode="after")
    def _has_required(self) -> Self:
        if all(t.optional for t in self.tasks):
            raise ValueError(f"stage '{self.slug}' has only optional tasks")
        if all(t.only_if is not None for t in self.tasks):
            raise ValueError(f"stage '{self.slug}' has only conditional tasks")
        once = [t.slug for t in self.tasks if t.once]
        if once and not self.repeats:
            raise ValueError(
                f"task '{once[0]}' is marked once, but stage '{self.slug}' does not repeat: "
                "every task outside a cycle is done once already"
            )
        if once and len(once) == len(self.tasks):
            raise ValueError(f"stage '{self.slug}' repeats but all its tasks are once-only")
        return self


class Roadmap(_Frozen):
    """A whole Path to Stardom for one kind of musician."""

    slug: Slug
    name: Title
    pitch: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=140)]
    description: Body
    audience: Literal["solo", "band", "any"] = "any"
    position: int = 0
    stages: tuple[Stage, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_slugs(self) -> Self:
        stage_slugs = [s.slug for s in self.stages]
        dupes = sorted({s for s in stage_slugs if stage_slugs.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate stage slug(s): {', '.join(dupes)}")
        task_slugs = [t.slug for s in self.stages for t in s.tasks]
        dupes = sorted({s for s in task_slugs if task_slugs.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate task slug(s): {', '.join(dupes)}")
        self._check_conditions()
        self._check_variants()
        self._check_cycle()
        anchors = {t.input.anchor for _, t in self.iter_tasks() if t.input and t.input.anchor}
        for _, task in self.iter_tasks():
            if task.when is not None and task.when.anchor not in anchors:
                raise ValueError(
                    f"task '{task.slug}' is timed from anchor '{task.when.anchor}', which no "
                    "date question of this roadmap sets"
                )
        return self

    def _check_conditions(self) -> None:
        """Every ``only_if`` names a choice question earlier in this roadmap, and its answers
        are among that question's choices."""
        earlier: dict[str, Task] = {}
        for _, task in self.iter_tasks():
            cond = task.only_if
            if cond is not None and cond.task is not None:
                source = earlier.get(cond.task)
                if source is None:
                    raise ValueError(
                        f"task '{task.slug}' depends on '{cond.task}', which is not a task "
                        "before it in this roadmap"
                    )
                spec = source.input
                if spec is None or spec.type is not InputType.CHOICE or not spec.choices:
                    raise ValueError(
                        f"task '{task.slug}' depends on '{cond.task}', which is not a choice "
                        "question"
                    )
                if source.only_if is not None and source.only_if.task is not None:
                    raise ValueError(
                        f"task '{task.slug}' depends on '{cond.task}', which is conditional "
                        "itself; depend on an unconditional question"
                    )
                choices = {c.casefold() for c in spec.choices}
                unknown = [a for a in cond.answer or () if a.casefold() not in choices]
                if unknown:
                    raise ValueError(
                        f"task '{task.slug}': {', '.join(repr(a) for a in unknown)} is not a "
                        f"choice of '{cond.task}' ({', '.join(spec.choices)})"
                    )
            earlier[task.slug] = task

    def _check_variants(self) -> None:
        """Every ``variant_of`` names a general task of the same stage; a variant is for
        certain countries (``only_if.country``), and two variants of one task share none."""
        for stage in self.stages:
            general = {t.slug: t for t in stage.tasks if t.variant_of is None}
            claimed: dict[tuple[str, str], str] = {}
            for task in stage.tasks:
                countries = task.only_if.country if task.only_if is not None else None
                if task.variant_of is None:
                    continue
                base = general.get(task.variant_of)
                if base is None:
                    raise ValueError(
                        f"task '{task.slug}' is a variant of '{task.variant_of}', which is not "
                        f"a general task of stage '{stage.slug}'"
                    )
                if base.only_if is not None and base.only_if.country is not None:
                    raise ValueError(
                        f"task '{task.slug}' is a variant of '{base.slug}', which is for certain "
                        "countries itself; a variant replaces the general task"
                    )
                if not countries:
                    raise ValueError(
                        f"task '{task.slug}' is a variant of '{base.slug}' but names no country "
                        "(only_if: {country: [GB]})"
                    )
                for code in countries:
                    other = claimed.setdefault((base.slug, code), task.slug)
                    if other != task.slug:
                        raise ValueError(
                            f"task '{task.slug}': {code} already has a variant of "
                            f"'{base.slug}' ('{other}')"
                        )

    def _check_cycle(self) -> None:
        """The repeating stages are one run of neighbours with one name, and no conditional
        task depends on a question inside the cycle from outside it (its answer is reset)."""
        marked = [i for i, stage in enumerate(self.stages) if stage.repeats]
        if not marked:
            return
        if marked != list(range(marked[0], marked[-1] + 1)):
            raise ValueError("the repeating stages (repeats: …) must follow one another")
        if len({self.stages[i].repeats for i in marked}) > 1:
            raise ValueError("the repeating stages must name the same cycle")
        inside = {t.slug for i in marked for t in self.stages[i].tasks}
        for stage in self.stages:
            for task in stage.tasks:
                cond = task.only_if
                if cond and cond.task and cond.task in inside and task.slug not in inside:
                    raise ValueError(
                        f"task '{task.slug}' depends on '{cond.task}', which starts fresh "
                        "every cycle; move one of them"
                    )

    @property
    def cycle(self) -> str | None:
        """The name of the roadmap's repeating cycle, if it has one."""
        return next((s.repeats for s in self.stages if s.repeats), None)

    def iter_tasks(self) -> list[tuple[Stage, Task]]:
        """Every task with its stage, in roadmap order."""
        return [(stage, task) for stage in self.stages for task in stage.tasks]
