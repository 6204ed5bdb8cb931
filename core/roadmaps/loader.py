"""Load the roadmap YAML files and report every problem in every file, with its file and line.

Roadmaps are written by people, so a check run should list everything that is wrong at once, each
finding as one line a text editor can jump to::

    touring-band.yaml:42: unknown field 'titel'; did you mean 'title'? (stages[1].tasks[3])

Line numbers come from the YAML node tree: :class:`_LineLoader` composes the document, records the
line of every key and list entry under its path (``("stages", 1, "tasks", 3, "titel")``) and only
then builds the Python objects. A pydantic error's ``loc`` is such a path, so it maps straight
to a line. Errors raised by a model validator carry the path of the object it validated, so they
point at the first line of that object.

Checks that span objects or files (a task slug used twice, anywhere; a roadmap slug used by two
files) run on the raw parsed data, so they are reported even when a file has other errors. Tasks
that feed one metric must agree on its type, unit, better and track (one time series is one
kind of number); that is checked across the valid files, and so are the placeholders of the
references and suspects (only ``{value}``, ``{gap}`` with a target, ``{ratio}`` with ``of``).
"""

from __future__ import annotations

import difflib
import re
import string
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

import roadmaps as roadmaps_package
from core.errors import RoadmapContentError
from core.roadmaps.schema import SLUG_PATTERN, InputSpec, Roadmap

#: File name endings read as roadmaps; anything else in the directory is ignored.
ROADMAP_SUFFIXES = (".yaml", ".yml")

Loc = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_PATTERN_NAMES = {
    SLUG_PATTERN: "a slug (lowercase letters, digits and dashes, e.g. 'first-release')",
    r"^[a-z][a-z0-9_]*$": "a metric name (lowercase letters, digits and underscores, e.g. "
    "'monthly_listeners')",
}


def bundled_roadmaps_dir() -> Path:
    """The directory of the installed ``roadmaps`` package, where the shipped YAML files live.

    Found through the package rather than relative to this file, so it also works for a wheel
    installed outside the source tree.
    """
    location = roadmaps_package.__file__
    if location is None:  # a namespace package: the __init__.py was lost
        raise RoadmapContentError(["the 'roadmaps' package has no __init__.py; reinstall"])
    return Path(location).parent


def load_roadmaps(directory: Path | None = None) -> list[Roadmap]:
    """Load and validate every roadmap file in ``directory`` (default: the bundled ones).

    Returns:
        The roadmaps sorted by ``(position, slug)``.

    Raises:
        RoadmapContentError: listing every problem found in every file, one line each, in the
            form ``"<file>:<line>: <what is wrong> (<dotted path>)"``.
    """
    found, problems = check_roadmaps(directory)
    if problems:
        raise RoadmapContentError(problems)
    return found


def check_roadmaps(directory: Path | None = None) -> tuple[list[Roadmap], list[str]]:
    """Like :func:`load_roadmaps`, but return the problems instead of raising.

    Returns:
        The roadmaps whose file is valid on its own, sorted by ``(position, slug)``, and every
        problem (sorted by file and line). Use the roadmaps only when the problem list is empty:
        a valid file can still clash with another one.
    """
    directory = bundled_roadmaps_dir() if directory is None else directory
    if not directory.is_dir():
        return [], [f"{directory}: no such directory"]
    paths = sorted(
        p
        for p in directory.iterdir()
        if p.suffix in ROADMAP_SUFFIXES and p.is_file() and not p.name.startswith(".")
    )
    if not paths:
        return [], [f"{directory}: no roadmap files (*.yaml) found"]

    problems: list[_Problem] = []
    parsed: list[_Parsed] = []
    for path in paths:
        document, file_problems = _parse_file(path)
        problems.extend(file_problems)
        if document is not None:
            parsed.append(document)

    slug_problems = _slug_problems(parsed)
    problems.extend(slug_problems)
    clashing_files = {p.file for p in slug_problems}

    valid: list[Roadmap] = []
    read: list[tuple[_Parsed, Roadmap]] = []
    for document in parsed:
        try:
            roadmap = Roadmap.model_validate(document.data)
        except ValidationError as exc:
            # The only root-level validator checks duplicate slugs, which _slug_problems has
            # already reported with better lines; skip its copy.
            skip_root = document.file in clashing_files
            problems.extend(_validation_problems(document, exc, skip_root=skip_root))
        else:
            valid.append(roadmap)
            read.append((document, roadmap))
    problems.extend(_metric_problems(read))
    problems.extend(_placeholder_problems(read))

    problems.sort(key=lambda p: (p.file, p.line))
    valid.sort(key=lambda r: (r.position, r.slug))
    return valid, [str(p) for p in problems]


def format_summary(roadmaps: Sequence[Roadmap]) -> str:
    """A few lines for ``coach roadmaps check``: stages, tasks, checklists and data inputs."""
    lines: list[str] = []
    totals = [0, 0, 0, 0]
    for roadmap in roadmaps:
        tasks = [task for _stage, task in roadmap.iter_tasks()]
        checklists = sum(1 for t in tasks if t.type == "checklist")
        counts = [len(roadmap.stages), len(tasks), checklists, len(tasks) - checklists]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        lines.append(f"{roadmap.slug} ({roadmap.name}): {_describe_counts(counts)}")
    lines.append(f"{_plural(len(roadmaps), 'roadmap')} OK: {_describe_counts(totals)}")
    return "\n".join(lines)


def _describe_counts(counts: list[int]) -> str:
    stages, tasks, checklists, inputs = counts
    return (
        f"{_plural(stages, 'stage')}, {_plural(tasks, 'task')} "
        f"({_plural(checklists, 'checklist')}, {_plural(inputs, 'data input')})"
    )


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {plural or noun + 's'}"


# --------------------------------------------------------------------------------------------
# Problems


@dataclass(frozen=True)
class _Problem:
    file: str
    line: int
    message: str
    loc: Loc = ()

    def __str__(self) -> str:
        where = f" ({_dotted(self.loc)})" if self.loc else ""
        return f"{self.file}:{self.line}: {self.message}{where}"


def _dotted(loc: Loc) -> str:
    """``("stages", 1, "tasks", 3)`` -> ``"stages[1].tasks[3]"``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --------------------------------------------------------------------------------------------
# Parsing with line numbers


@dataclass
class _Parsed:
    file: str
    data: Any
    #: path -> line of the key that introduces the value there (of the entry, in a list; of
    #: the document's first line, for the root ``()``).
    lines: dict[Loc, int]
    plain_text: dict[Loc, str]

    def line(self, loc: Loc) -> int:
        """The line of ``loc``, or of the nearest enclosing object that is in the file."""
        while loc not in self.lines and loc:
            loc = loc[:-1]
        return self.lines.get(loc, 1)


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that records, by path, the line of every key and list entry, then builds.

    ``duplicates`` collects keys repeated in one mapping, which plain PyYAML silently resolves
    by keeping the last value.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[Loc, int] = {}
        #: path -> source text of unquoted scalars, to explain YAML's conversions ("no" -> false)
        self.plain_text: dict[Loc, str] = {}
        self.duplicates: list[tuple[int, str, Loc]] = []

    def load_with_lines(self) -> tuple[Node | None, Any]:
        """Compose the single document, record lines, then construct it."""
        node = self.get_single_node()
        if node is None:
            return None, None
        line = node.start_mark.line + 1
        self._record(node, (), line, active=set())
        return node, self.construct_document(node)

    def _record(self, node: Node, loc: Loc, line: int, active: set[int]) -> None:
        self.lines[loc] = line
        if isinstance(node, ScalarNode) and node.style is None:
            self.plain_text[loc] = node.value
        if id(node) in active:  # a recursive alias; its lines are already recorded
            return
        active.add(id(node))
        if isinstance(node, MappingNode):
            first_seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                # Merge keys (<<) and complex keys keep their parent's line; rare in roadmaps.
                if key_node.tag == _MERGE_TAG or not isinstance(key_node, ScalarNode):
                    continue
                key = self.construct_object(key_node)
                key_line = key_node.start_mark.line + 1
                if key in first_seen:
                    message = f"duplicate key {key!r} (first at line {first_seen[key]})"
                    self.duplicates.append((key_line, message, loc))
                else:
                    first_seen[key] = key_line
                self._record(value_node, (*loc, key), key_line, active)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self._record(item, (*loc, index), item.start_mark.line + 1, active)
        active.discard(id(node))


def _parse_file(path: Path) -> tuple[_Parsed | None, list[_Problem]]:
    """Read one file; return the parsed document (if it is a mapping) and any problems."""
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [_Problem(name, 1, f"cannot read the file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start : exc.start + 1].hex()
        return None, [_Problem(name, line, f"not valid UTF-8 text (byte 0x{bad})")]

    try:
        loader = _LineLoader(text)  # the reader rejects control characters right away
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        message = f"YAML error: the control character U+{exc.character:04X} is not allowed"
        return None, [_Problem(name, line, message)]
    try:
        node, data = loader.load_with_lines()
    except yaml.MarkedYAMLError as exc:
        return None, [_yaml_problem(name, exc)]
    finally:
        loader.dispose()

    if node is None:
        return None, [
            _Problem(
                name,
                1,
                "the file is empty; a roadmap needs slug, name, pitch, description and stages",
            )
        ]
    problems = [_Problem(name, line, message, loc) for line, message, loc in loader.duplicates]
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({_show(data)})"
        problems.append(
            _Problem(
                name,
                node.start_mark.line + 1,
                f"the file must be a mapping of roadmap fields (slug: …, name: …, stages: …), "
                f"not {kind}",
            )
        )
        return None, problems
    return _Parsed(name, data, loader.lines, loader.plain_text), problems


def _yaml_problem(name: str, exc: yaml.MarkedYAMLError) -> _Problem:
    syntax = isinstance(exc, yaml.scanner.ScannerError | yaml.parser.ParserError)
    what = "YAML syntax error" if syntax else "YAML error"
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    message = f"{what}: {exc.problem or exc.context or 'cannot parse'}"
    if exc.problem and exc.context:
        context = exc.context
        if exc.context_mark is not None and exc.context_mark.line + 1 != line:
            context += f" on line {exc.context_mark.line + 1}"
        message += f" ({context})"
    return _Problem(name, line, message)


# --------------------------------------------------------------------------------------------
# Checks across objects and files


def _slug_problems(parsed: Sequence[_Parsed]) -> list[_Problem]:
    """Duplicate roadmap slugs (across files), stage slugs (in a file) and task slugs (anywhere)."""
    roadmap_uses: dict[str, list[tuple[_Parsed, Loc]]] = {}
    task_uses: dict[str, list[tuple[_Parsed, Loc]]] = {}
    problems: list[_Problem] = []
    for document in parsed:
        slug = document.data.get("slug")
        if isinstance(slug, str):
            roadmap_uses.setdefault(slug, []).append((document, ("slug",)))
        stage_uses: dict[str, list[tuple[_Parsed, Loc]]] = {}
        for stage_loc, stage in _entries(document.data, "stages"):
            if isinstance(stage.get("slug"), str):
                stage_uses.setdefault(stage["slug"], []).append((document, (*stage_loc, "slug")))
            for task_loc, task in _entries(stage, "tasks", stage_loc):
                if isinstance(task.get("slug"), str):
                    task_uses.setdefault(task["slug"], []).append((document, (*task_loc, "slug")))
        problems.extend(_duplicate_problems("stage", stage_uses))
    problems.extend(_duplicate_problems("roadmap", roadmap_uses))
    problems.extend(_duplicate_problems("task", task_uses))
    return problems


def _entries(
    parent: dict[Any, Any], key: str, base: Loc = ()
) -> Iterator[tuple[Loc, dict[Any, Any]]]:
    """The mapping entries of the list ``parent[key]``, with their paths; others are skipped."""
    items = parent.get(key)
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, dict):
            yield (*base, key, index), item


def _duplicate_problems(
    kind: str, uses: dict[str, list[tuple[_Parsed, Loc]]]
) -> Iterator[_Problem]:
    """One problem per slug used more than once, placed at its second use."""
    for slug, places in uses.items():
        if len(places) < 2:
            continue
        where = [f"{document.file}:{document.line(loc)}" for document, loc in places]
        document, loc = places[1]
        yield _Problem(
            document.file,
            document.line(loc),
            f"{kind} slug {slug!r} is used by {_join(where)}",
            loc,
        )


#: What every task feeding one metric must say alike: one time series has one kind of value,
#: one unit, one direction and one check-in cadence (``/update``, ``/stats``, the goals and the
#: check-ins read the metric, not the task).
METRIC_FIELDS = ("type", "unit", "better", "track")


def _metric_problems(read: Sequence[tuple[_Parsed, Roadmap]]) -> Iterator[_Problem]:
    """Tasks (in any file) that feed one metric but disagree on what it is: each reported at
    the disagreeing task's ``metric`` line, naming the first task that fed it."""
    first: dict[str, tuple[_Parsed, Loc, str, InputSpec]] = {}
    for document, roadmap in read:
        for stage_no, stage in enumerate(roadmap.stages):
            for task_no, task in enumerate(stage.tasks):
                spec = task.input
                if spec is None or spec.metric is None:
                    continue
                loc: Loc = ("stages", stage_no, "tasks", task_no, "input", "metric")
                seen = first.setdefault(spec.metric, (document, loc, task.slug, spec))
                there, there_loc, there_slug, there_spec = seen
                if there_spec is spec:
                    continue
                for name in METRIC_FIELDS:
                    mine, theirs = getattr(spec, name), getattr(there_spec, name)
                    if mine == theirs:
                        continue
                    yield _Problem(
                        document.file,
                        document.line(loc),
                        f"metric {spec.metric!r} has {name} {_field_value(mine)} here but "
                        f"{_field_value(theirs)} in task {there_slug!r} "
                        f"({there.file}:{there.line(there_loc)}); every task that feeds a "
                        f"metric must agree on its {_join(METRIC_FIELDS)}",
                        loc[:-1],
                    )


#: The placeholders a reference's ``says``/``advice`` and a suspect's ``ask`` may use.
PLACEHOLDERS = frozenset({"value", "gap", "ratio"})


def _placeholder_problems(read: Sequence[tuple[_Parsed, Roadmap]]) -> Iterator[_Problem]:
    """Placeholders the coach cannot fill: unknown ones, ``{gap}`` without a ``target``,
    ``{ratio}`` outside a reference ``of`` another metric, and stray braces — the reply would
    show them as written."""
    for document, roadmap in read:
        for stage_no, stage in enumerate(roadmap.stages):
            for task_no, task in enumerate(stage.tasks):
                spec = task.input
                if spec is None:
                    continue
                base: Loc = ("stages", stage_no, "tasks", task_no, "input")
                texts: list[tuple[Loc, str, bool]] = []
                for n, reference in enumerate(spec.references):
                    for name in ("says", "advice"):
                        text = getattr(reference, name)
                        texts.append(
                            ((*base, "references", n, name), text, reference.of is not None)
                        )
                for n, band in enumerate(spec.suspect):
                    texts.append(((*base, "suspect", n, "ask"), band.ask, False))
                for loc, text, has_ratio in texts:
                    wrong = _placeholder_wrong(
                        text, has_target=spec.target is not None, has_ratio=has_ratio
                    )
                    if wrong:
                        yield _Problem(document.file, document.line(loc), wrong, loc)


def _placeholder_wrong(text: str, *, has_target: bool, has_ratio: bool) -> str | None:
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(text) if field is not None]
    except ValueError:
        return (
            "a stray { or } (write {{ or }} for a brace); placeholders are {value}, {gap}, {ratio}"
        )
    for name in names:
        if name not in PLACEHOLDERS:
            return f"unknown placeholder {{{name}}}; use {{value}}, {{gap}} or {{ratio}}"
        if name == "gap" and not has_target:
            return "{gap} needs a target on the input"
        if name == "ratio" and not has_ratio:
            return "{ratio} needs the reference to be 'of' another metric"
    return None


def _field_value(value: Any) -> str:
    return "none" if value is None else repr(str(value))


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --------------------------------------------------------------------------------------------
# Pydantic errors as human sentences


def _validation_problems(
    document: _Parsed, exc: ValidationError, *, skip_root: bool
) -> list[_Problem]:
    errors = exc.errors(include_url=False)
    locs = [tuple(e["loc"]) for e in errors]
    problems: list[_Problem] = []
    for error in errors:
        loc: Loc = tuple(error["loc"])
        if skip_root and not loc and error["type"] == "value_error":
            continue
        # A list whose entries all failed also reports "at least 1 item after validation";
        # the entries' own errors say what is wrong.
        if error["type"] == "too_short" and any(
            len(other) > len(loc) and other[: len(loc)] == loc for other in locs
        ):
            continue
        problems.append(_describe(document, error, loc))
    return problems


#: A roadmap-level message about one task: "task 'rap-lease-terms' depends on …".
_TASK_NAMED = re.compile(r"^task '([a-z0-9][a-z0-9-]*)'")


def _task_loc(document: _Parsed, slug: str) -> Loc | None:
    """Where the task ``slug`` is in the file: its ``only_if`` when it has one."""
    for stage_loc, stage in _entries(document.data, "stages"):
        for task_loc, task in _entries(stage, "tasks", stage_loc):
            if task.get("slug") == slug:
                return (*task_loc, "only_if") if "only_if" in task else task_loc
    return None


def _describe(document: _Parsed, error: ErrorDetails, loc: Loc) -> _Problem:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    field = loc[-1] if loc else ""
    file = document.file

    if kind == "extra_forbidden":
        message = f"unknown field {field!r}"
        suggestion = _closest_field(loc)
        if suggestion:
            message += f"; did you mean {suggestion!r}?"
        return _Problem(file, document.line(loc), message, loc[:-1])
    if kind == "missing":
        return _Problem(file, document.line(loc[:-1]), f"missing field {field!r}", loc[:-1])
    if kind in {"value_error", "assertion_error"}:
        # Raised by a model validator: point at the object it ran on; the roadmap's own
        # checks (a task's only_if) name the task, so they point at its condition instead.
        message = str(ctx["error"]) if "error" in ctx else error["msg"]
        if not loc and (named := _TASK_NAMED.match(message)) is not None:
            loc = _task_loc(document, named.group(1)) or loc
        return _Problem(file, document.line(loc), message, loc)

    line = document.line(loc)
    shown = _show(value)
    if kind in {"model_type", "model_attributes_type", "dict_type"}:
        message = f"expected a mapping of fields (key: value lines), got {shown}"
    elif kind in {"int_parsing", "int_type"}:
        message = f"{shown} is not a valid integer"
    elif kind == "int_from_float":
        message = f"{shown} is not a whole number"
    elif kind in {"decimal_parsing", "decimal_type", "float_parsing", "float_type"}:
        message = f"{shown} is not a valid number"
    elif kind in {"bool_parsing", "bool_type"}:
        message = f"{shown} is not true or false"
    elif kind == "string_type":
        message = f"expected text, got {shown}"
        if isinstance(value, bool | int | float | Decimal | date):
            source = document.plain_text.get(loc)
            if source is not None and source != shown:
                message = f"expected text, got {source}, which YAML reads as {shown}"
            message += "; put it in quotes"
    elif kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        message = f"{shown} is not {_PATTERN_NAMES.get(pattern, f'matching {pattern}')}"
    elif kind == "string_too_short":
        if isinstance(value, str) and not value.strip():
            message = "must not be empty"
        else:
            message = f"{shown} is too short (at least {ctx.get('min_length')} characters)"
    elif kind == "string_too_long":
        length = len(value) if isinstance(value, str) else "?"
        message = f"text is too long ({length} characters, at most {ctx.get('max_length')})"
    elif kind == "too_short":
        minimum = int(ctx.get("min_length", 1))
        message = f"needs at least {_plural(minimum, 'entry', 'entries')}"
    elif kind == "too_long":
        maximum = int(ctx.get("max_length", 0))
        message = f"has more than {_plural(maximum, 'entry', 'entries')}"
    elif kind in {"tuple_type", "list_type"}:
        message = f"expected a list, got {shown}"
    elif kind in {"literal_error", "enum"}:
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        message = f"{shown} is not a valid {_noun(loc)}; allowed: {', '.join(allowed)}"
    else:
        message = f"{error['msg']} (got {shown})"
    return _Problem(file, line, message, loc)


def _noun(loc: Loc) -> str:
    """What a field holds, for "'x' is not a valid <noun>"."""
    field = loc[-1] if loc else "value"
    if field == "type":
        return "input type" if len(loc) >= 2 and loc[-2] == "input" else "task type"
    return str(field) if isinstance(field, str) else "value"


def _show(value: Any) -> str:
    """A value as a YAML author would recognise it."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:37] + "...")
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _closest_field(loc: Loc) -> str | None:
    """For an unknown field at ``loc``, the most similar real field of that object, if close."""
    model = _model_at(loc[:-1])
    if model is None or not isinstance(loc[-1], str):
        return None
    matches = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1, cutoff=0.7)
    return matches[0] if matches else None


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The schema model that validates the object at ``loc`` (``stages[0].tasks[2]`` -> Task)."""
    model: type[BaseModel] = Roadmap
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        nested = _nested_model(info.annotation) if info is not None else None
        if nested is None:
            return None
        model = nested
    return model


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None
