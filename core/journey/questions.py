"""A musician's question answered from the coach's own content (issue #15 §4).

"how do I get on playlists?", "what's a split sheet?" — the roadmaps already hold the answer
in some task's explanation and checklist. The question is read (:mod:`core.knowledge.words`:
synonyms, stop words, spelling corrected against the content's vocabulary), the search index is
asked (PostgreSQL text search or SQLite FTS5, :mod:`core.knowledge.search`), and the best task
is shown short — its explanation and checklist — with a button to open it (when it is on the
musician's roadmap) and the next two as buttons that show theirs. When no task covers enough of
the question, the coach says so instead of guessing: advice people act on must fit the question.

Nothing here writes: a question changes no progress and no conversation state, so asking while
a checklist or a number is open leaves it open.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass

from core.db.executor import Executor
from core.journey.answers import is_postpone
from core.journey.buttons import GUIDE, OPEN
from core.journey.cards import short
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound, Toast
from core.knowledge.index import body_of
from core.knowledge.search import search
from core.knowledge.spelling import Vocabulary
from core.knowledge.words import (
    SYNONYMS,
    Query,
    good_enough,
    looks_like_question,
    opens_with_question_word,
    read_query,
    stems_of,
    weights,
    words,
)
from core.progress.parsing.countries import OTHER, country_name, named_in
from core.roadmaps.catalog import Catalog, TaskInfo
from core.roadmaps.schema import InputType

__all__ = [
    "answers_for",
    "ask",
    "guide",
    "is_question",
    "is_question_while_asked",
    "knowledge_of",
]

#: How many tasks an answer names: the best one shown, the next ones as buttons.
SHOWN = 3
#: The index is asked for a few more, since a hit that covers too little of the question is
#: dropped (:func:`core.knowledge.words.good_enough`).
ASKED = 6
#: Most checklist lines in an answer: it stays short; the task's card has them all.
ITEMS_MAX = 6
#: Longest explanation shown before it is cut.
EXPLANATION_MAX = 420
#: Vocabularies kept for content snapshots (a catalog reloaded with the same content shares it).
_KEPT = 4


def task_body(task: TaskInfo) -> str:
    """A task's searchable words besides its title, as :mod:`core.roadmaps.sync` indexes
    them: the explanation, then the checklist items or the question, its help and choices."""
    parts: list[str | None] = [item.text for item in task.items]
    if task.input is not None:
        parts += [task.input.question, task.input.help, *(task.input.choices or ())]
    return body_of(task.description, parts)


@dataclass(frozen=True, slots=True)
class Knowledge:
    """What reading a question needs of the content: its vocabulary (for spelling) and each
    task's word stems (how much of a question a task covers)."""

    vocabulary: Vocabulary
    stems: dict[str, frozenset[str]]
    #: The documents a word's rarity is counted over (:func:`~core.knowledge.words.weights`):
    #: every task, except that a task's countries' versions count as one document together —
    #: eight near-twins would make their words look common and every other answer weaker.
    documents: tuple[frozenset[str], ...] = ()


_cache: OrderedDict[int, Knowledge] = OrderedDict()


def _texts(catalog: Catalog) -> dict[str, tuple[str, str]]:
    return {
        t.slug: (t.title, task_body(t)) for t in catalog.tasks_by_slug.values() if not t.archived
    }


def build_knowledge(catalog: Catalog) -> Knowledge:
    """The catalog's :class:`Knowledge`, built now (a few tens of milliseconds)."""
    texts = _texts(catalog)
    synonyms = (w for group in SYNONYMS for phrase in group for w in words(phrase))
    vocabulary = Vocabulary((f"{t}\n{b}" for t, b in texts.values()), extra=synonyms)
    stems = {slug: stems_of(pair) for slug, pair in texts.items()}
    families: dict[str, frozenset[str]] = {}
    documents: list[frozenset[str]] = []
    for slug, found in stems.items():
        family = catalog.tasks_by_slug[slug].variant_of
        if family is None:
            documents.append(found)
        else:
            families[family] = families.get(family, frozenset()) | found
    return Knowledge(vocabulary, stems, (*documents, *families.values()))


def knowledge_of(catalog: Catalog) -> Knowledge:
    """The catalog's :class:`Knowledge`, built once per content: memoised on the snapshot,
    and by the content's fingerprint across the snapshot's reloads (every 30 s)."""
    memo = catalog.memo.get(Knowledge)
    if isinstance(memo, Knowledge):
        return memo
    fingerprint = hash(tuple(sorted(_texts(catalog).items())))
    known = _cache.get(fingerprint)
    if known is None:
        known = _cache[fingerprint] = build_knowledge(catalog)
        while len(_cache) > _KEPT:
            _cache.popitem(last=False)
    _cache.move_to_end(fingerprint)
    catalog.memo[Knowledge] = known
    return known


def is_question(text: str) -> bool:
    """Free text that asks something (see :func:`core.knowledge.words.looks_like_question`)."""
    return looks_like_question(text)


def is_question_while_asked(task: TaskInfo | None, text: str) -> bool:
    """Whether text typed while ``task``'s question waits is a question of the musician's own
    rather than the answer. A number, a date, a link or a choice never reads as a question,
    so anything that does ("what's a good save rate?") is one; a free-text answer may be
    anything, so there it takes a question word *and* a question mark ("what should my
    pitch say?")."""
    if task is None or task.input is None or is_postpone(text) or not looks_like_question(text):
        return False  # "not sure?", "idk?" put the question off (core/journey/answers.py)
    if task.input.type is InputType.TEXT:
        return text.rstrip(" !.").endswith("?") and opens_with_question_word(text)
    return True


async def find(turn: Turn, text: str) -> tuple[Query, list[TaskInfo]]:
    """The question read, and the tasks that answer it well enough, best first (at most
    :data:`SHOWN`); the musician's own roadmap preferred, and their country's version of a
    task that has one."""
    return await answers_for(
        turn.ex, turn.catalog, text, prefer=turn.rec.roadmap_id, country=turn.rec.country
    )


async def answers_for(
    ex: Executor,
    catalog: Catalog,
    text: str,
    *,
    prefer: uuid.UUID | None,
    country: str | None = None,
) -> tuple[Query, list[TaskInfo]]:
    """:func:`find` without a turn (the question test set and ``benchmarks/search.py`` run
    exactly this). A country the question names ("tax in the UK") wins over the profile's."""
    knowledge = knowledge_of(catalog)
    query = read_query(text, knowledge.vocabulary)
    # countries' versions of one task are near-twins: ask for more, then keep the right one
    hits = await search(ex, query, prefer=prefer, limit=ASKED * COUNTRY_TWINS)
    if not hits:
        return query, []
    term_weights = weights(query, knowledge.documents)
    found: list[TaskInfo] = []
    for hit in hits:
        task = catalog.tasks_by_slug.get(hit.slug)
        stems = knowledge.stems.get(hit.slug)
        if task is None or task.archived or stems is None:
            continue
        if not good_enough(query, stems, term_weights):
            continue
        found.append(task)
    found = for_country(catalog, found, named_in(text) or country)
    return query, found[:SHOWN]


#: How many more hits are fetched than shown, for the countries' versions of a task.
COUNTRY_TWINS = 5


def for_country(catalog: Catalog, tasks: list[TaskInfo], country: str | None) -> list[TaskInfo]:
    """The hits as a musician of ``country`` should see them: another country's version of a
    task dropped, a general task replaced by the country's version (at its place), each
    family once. Without a known country the general task speaks for its family, and a
    country's version stays only when the question matched it alone (the KSK is German)."""
    known = country is not None and country != OTHER
    out: list[TaskInfo] = []
    seen: set[str] = set()
    for hit in tasks:
        family = hit.variant_of or hit.slug
        if family in seen:
            continue
        if known and hit.countries is not None and country not in hit.countries:
            continue
        shown = hit
        if known:
            shown = _version_for(catalog, family, country) or hit
        elif hit.countries is not None and any(t.slug == family for t in tasks):
            continue  # the general task is among the hits: it answers for everyone
        seen.add(family)
        out.append(shown)
    return out


def _version_for(catalog: Catalog, family: str, country: str | None) -> TaskInfo | None:
    """The version of task ``family`` for ``country``, when the content has one."""
    for task in catalog.tasks_by_slug.values():
        if task.variant_of == family and not task.archived and country in (task.countries or ()):
            return task
    return None


async def ask(turn: Turn, text: str, *, waiting: TaskInfo | None = None) -> list[Outbound] | None:
    """Answer a question from the content; ``waiting``: the question of the coach's own that
    stays open meanwhile (it is reminded of, not dropped). ``None`` when the question has no
    words to search ("what is this?", "why?"): the caller answers as it did before."""
    query, found = await find(turn, text)
    if not query:
        return None
    tail = ""
    if waiting is not None:
        tail = "\n\n" + italic(
            f"Your answer to “{esc(waiting.title)}” is still open — type it when you're ready."
        )
    if not found:
        return [
            Message(
                text="🤔 I don't have a good answer to that in my roadmaps, and I'd rather not "
                "guess. Try other words (e.g. "
                f"{italic('how do I register my songs?')}), or see /help for what I can do."
                f"{tail}"
            )
        ]
    return [await answer_card(turn, found[0], found[1:], tail=tail)]


async def answer_card(
    turn: Turn, task: TaskInfo, others: list[TaskInfo], *, tail: str = ""
) -> Message:
    """One task's guidance, short: title, explanation, checklist (or question); where it sits
    for this musician; an open button when it is theirs to do; the other tasks as buttons."""
    lines = [f"💡 {bold(esc(task.title))}", esc(_cut(task.description))]
    if task.is_checklist:
        lines += [f"• {esc(item.text)}" for item in task.items[:ITEMS_MAX]]
        if len(task.items) > ITEMS_MAX:
            lines.append(italic(f"…and {len(task.items) - ITEMS_MAX} more in the task."))
    elif task.input is not None:
        lines.append(f"❓ {esc(task.input.question)}")
        if task.input.help:
            lines.append(italic(esc(task.input.help)))
    where, can_open = await _where(turn, task)
    lines += ["", italic(where)]
    buttons: list[tuple[Button, ...]] = []
    if can_open:
        buttons.append((Button(label="👉 Open this task", payload=OPEN.encode(task.slug)),))
    buttons += [
        (Button(label=short(f"📖 {other.title}"), payload=GUIDE.encode(other.slug)),)
        for other in others
    ]
    return Message(text="\n".join(lines) + tail, buttons=tuple(buttons))


async def _where(turn: Turn, task: TaskInfo) -> tuple[str, bool]:
    """Where the task sits for this musician, and whether an "open" button makes sense (it
    is on their roadmap and not done; ``locate`` still checks the press)."""
    roadmap = turn.catalog.roadmap(task.roadmap_id)
    if roadmap is None:
        return "From a roadmap that isn't available any more.", False
    index = roadmap.stage_index(task.stage_id)
    stage_no = "?" if index is None else str(index + 1)
    if task.countries is not None and turn.rec.country not in task.countries:
        where = ", ".join(country_name(code) for code in task.countries)
        return f"For musicians in {where} (/country sets yours).", False
    if roadmap.id != turn.rec.roadmap_id:
        return f"From the {roadmap.name} roadmap (stage {stage_no}).", False
    row = await turn.task_progress(task)
    if row is not None and row.status == "completed":
        return f"On your roadmap, stage {stage_no} — you've done this one ✅", False
    return f"On your roadmap, stage {stage_no}.", True


async def guide(turn: Turn, task_slug: str) -> list[Outbound]:
    """A press of one of an answer's other tasks: that task's guidance, the same way."""
    task = turn.catalog.tasks_by_slug.get(task_slug)
    if task is None or task.archived:
        return [Toast(text="That task isn't in my roadmaps any more. Ask me again?")]
    return [await answer_card(turn, task, [])]


def _cut(text: str) -> str:
    if len(text) <= EXPLANATION_MAX:
        return text
    return text[: EXPLANATION_MAX - 1].rsplit(" ", 1)[0] + "…"
