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
    metric: MetricName | None = None
    choices: tuple[Annotated[str, StringConstraints(min_length=1, max_length=60)], ...] | None = (
        None
    )

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
        return self


class Task(_Frozen):
    """A task: either a checklist (with items) or a data input (with an ``input`` spec)."""

    slug: TaskSlug
    title: Title
    description: Body
    type: Literal["checklist", "data_input"]
    optional: bool = False
    items: tuple[ChecklistItem, ...] | None = None
    input: InputSpec | None = None

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

    @model_validator(mode="after")
    def _has_required(self) -> Self:
        if all(t.optional for t in self.tasks):
            raise ValueError(f"stage '{self.slug}' has only optional tasks")
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
        return self

    def iter_tasks(self) -> list[tuple[Stage, Task]]:
        """Every task with its stage, in roadmap order."""
        return [(stage, task) for stage in self.stages for task in stage.tasks]
