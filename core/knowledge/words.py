"""How a musician's question becomes a search: words, stop words, synonyms, a light stem.

Pure functions, the same for both backends, so PostgreSQL and SQLite are asked the same thing:

* the question is split into words (accents folded, apostrophes dropped: "what's" → "whats");
* musicians' synonyms are added as alternatives (:data:`SYNONYMS`: "PRO" ↔ "performing rights",
  "split sheet" ↔ "songwriting splits", "gig" ↔ "show"), longest phrase first, so "logic pro"
  is a DAW and not a performing-rights society;
* stop words and question fillers ("how do I", "what's the best way to") are dropped: the
  backends' own stop lists differ (FTS5 has none), and an OR of "get" would match everything;
* a word the content never uses is corrected against its vocabulary
  (:mod:`core.knowledge.spelling`): "spotfy" → "spotify";
* every remaining word or phrase is OR-ed: a question rarely uses all the words of the task
  that answers it, and ranking (title words weigh most) puts the best cover first.

:func:`coverage` then says how much of the question a task really covers, which decides
between "here is what I know" and an honest "I don't know that one".
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

#: At most this many terms are searched: a 4 000-character message is read, not all of it.
MAX_TERMS = 24

_WORD = re.compile(r"[a-z0-9]+")

#: Words that carry no topic: English stop words (PostgreSQL's ``english`` list, which FTS5
#: lacks) and the fillers of a question ("how do I", "any tips on", "what's the best way").
STOP_WORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can cannot could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    s t d ll m o re ve y don dont didnt doesnt isnt arent wasnt im ive id youre whats hows
    whens wheres whos thats theres lets cant wont shouldnt couldnt wouldnt
    get gets getting got gotten make makes making made need needs needed want wants wanted
    know knows tell explain help helps please pls plz thanks thank hi hey hello yo guys
    tip tips advice best good better way ways thing things stuff idea ideas really actually
    anyone someone somebody something anything everything u ur ya gonna wanna gotta kinda sorta
    like also even still much many lot lots bit well go goes going went one ones able
    should shall might must may us okay ok yeah yes nah hmm mean means meaning
    properly correctly right exactly basically literally honestly
    """.split()
)

#: Groups of words and phrases musicians use for the same thing; a query that contains one also
#: searches the others. Phrases are written as the words they tokenise to.
SYNONYMS: tuple[tuple[str, ...], ...] = (
    (
        "pro",
        "performing rights",
        "performing right",
        "performing rights organisation",
        "performing rights organization",
        "prs",
        "ascap",
        "bmi",
        "gema",
        "sacem",
        "socan",
        "apra",
    ),
    (
        "split sheet",
        "songwriting splits",
        "splits",
        "split agreement",
        "song splits",
        "writer splits",
        "who owns the song",
    ),
    ("gig", "gigs", "show", "shows", "concert", "concerts", "live show", "booking"),
    ("merch", "merchandise", "tshirts", "t shirts", "shirts", "tees"),
    ("epk", "press kit", "electronic press kit", "one sheet", "onesheet"),
    ("distro", "distributor", "distribution", "distrokid", "tunecore", "cd baby", "amuse"),
    ("royalty", "royalties", "get paid", "paid for streams", "publishing", "mechanicals"),
    ("lufs", "loudness", "loud", "how loud"),
    ("insta", "ig", "instagram"),
    ("tiktok", "tik tok", "short form", "reels", "shorts", "short videos"),
    ("presave", "pre save", "pre saves", "presaves"),
    ("mailing list", "email list", "newsletter", "emails", "email", "mailchimp"),
    (
        "playlist",
        "playlists",
        "playlisting",
        "editorial",
        "editors",
        "curators",
        "curator",
        "release radar",
    ),
    ("people", "ppl", "audience", "fans", "punters"),
    ("what day", "which day", "what date", "which date", "date", "friday"),
    ("label", "labels", "record label", "record labels"),
    ("demo", "demos"),
    ("artwork", "cover art", "album art", "album cover", "single cover", "cover image"),
    ("daw", "ableton", "fl studio", "logic pro", "cubase", "reaper", "bitwig"),
    ("contract", "deal memo", "agreement"),
    ("door deal", "guarantee", "versus deal", "door split", "the deal"),
    ("rider", "tech rider", "hospitality rider", "technical rider"),
    ("stage plot", "input list", "stageplot"),
    ("settlement", "settle", "settle up", "paid at the end of the night", "payout"),
    ("day sheet", "itinerary", "run sheet"),
    ("routing", "route", "tour route", "plan a tour", "plan the tour"),
    ("van", "travel", "hotel", "hotels", "sleep", "accommodation"),
    ("isrc", "isrc code", "isrc codes", "upc", "upc code", "barcode", "metadata", "credits"),
    ("tracks", "tunes", "track", "tune", "songs", "song", "bangers", "beats"),
    ("quits", "quit", "leaves", "leave", "breaks up", "split up", "splits up", "band splits"),
    (
        "how far ahead",
        "how early",
        "how far in advance",
        "in advance",
        "ahead",
        "weeks before",
        "before release",
    ),
    ("organise", "organize", "sort out", "gather", "one place"),
    ("monthly listeners", "listeners", "spotify numbers"),
    ("save rate", "saves", "saved"),
    ("dj", "djs", "deejay", "dj set"),
    ("promo pool", "dj pool", "record pool"),
    ("stems", "multitracks", "multitrack", "parts"),
    ("festival", "festivals", "fest", "fests"),
    ("insurance", "insure", "insured", "stolen"),
    ("artist name", "stage name", "alias", "band name"),
    ("copyright", "copywrite", "copywright", "copyrights"),
    ("reference tracks", "reference track", "references", "reference"),
    ("mixdown", "mix", "mixing", "mixed"),
    ("mastering", "master", "mastered", "masters"),
    ("true peak", "dbtp", "clipping", "peaks"),
    ("acoustic treatment", "room treatment", "treat my room", "acoustics", "monitors"),
    ("budget", "costs", "cost", "spend", "money"),
    ("release date", "drop date", "when to release", "release day"),
    ("open rate", "opens"),
    ("venue", "venues", "club", "clubs", "promoter", "promoters"),
    ("merch stand", "merch table", "merch booth"),
    ("band agreement", "band contract", "band members agreement"),
    ("fee", "fees", "pay", "guarantee"),
    ("draw", "crowd", "people came", "ticket sales", "tickets"),
    ("spotify pitch", "pitch to spotify", "spotify editors", "spotify for artists"),
)

#: One-way expansions: how musicians name a goal, and the words of the task that reaches it
#: ("getting on playlists" is done by pitching to Spotify's editors). One way only: "pitch our
#: band to venues" is not about playlists.
EXPANSIONS: dict[str, tuple[str, ...]] = {
    "playlist": ("pitch", "spotify pitch"),
    "playlists": ("pitch", "spotify pitch"),
    "playlisting": ("pitch", "spotify pitch"),
    "more gigs": ("gigs", "booking", "venues"),
    "more shows": ("shows", "booking", "venues"),
    "book gigs": ("gigs", "booking", "venues"),
    "find gigs": ("gigs", "booking", "venues"),
    "land gigs": ("gigs", "booking", "venues"),
}

#: Alternatives of each phrase (its own group's other members, its expansions), by phrase.
_ALTERNATIVES: dict[str, tuple[str, ...]] = {}
for _group in SYNONYMS:
    for _phrase in _group:
        _ALTERNATIVES[_phrase] = tuple(
            dict.fromkeys(_ALTERNATIVES.get(_phrase, ()) + tuple(p for p in _group if p != _phrase))
        )
for _phrase, _extra in EXPANSIONS.items():
    _ALTERNATIVES[_phrase] = tuple(dict.fromkeys(_ALTERNATIVES.get(_phrase, ()) + _extra))
_LONGEST = max(len(p.split()) for p in _ALTERNATIVES)


def fold(text: str) -> str:
    """Lower case, accents dropped ("Café" → "cafe"), apostrophes glued ("what's" → "whats")."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"['’`´]", "", text)


def words(text: str) -> list[str]:
    """The words of ``text``, folded (letters and digits; everything else separates)."""
    return _WORD.findall(fold(text))


def stem(word: str) -> str:
    """A light English stem for comparing words ("royalties" and "royalty", "mastering" and
    "master", "playlists" and "playlist"). Not the backends' stemmer — only used to decide
    whether a word is known and how much of a question a task covers."""
    w = word
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith("sses"):
        w = w[:-2]
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
                w = w[:-1]  # "planning" → "plann" → "plan"
            break
    return w


class Speller(Protocol):
    """What the query reader needs of a vocabulary (:class:`core.knowledge.spelling.Vocabulary`)."""

    def known(self, word: str) -> bool:
        """The content uses this word (or a word with its stem)."""
        ...

    def correct(self, word: str) -> str | None:
        """The content's closest word, when ``word`` is a likely misspelling of it."""
        ...


@dataclass(frozen=True, slots=True)
class Term:
    """One thing the question asks about: what was typed (a word or phrase) and the
    alternatives searched with it (its synonyms, its spelling correction)."""

    typed: str
    alternatives: tuple[str, ...] = ()

    @property
    def phrases(self) -> tuple[str, ...]:
        """Every phrase searched for this term, what was typed first."""
        return (self.typed, *self.alternatives)


@dataclass(frozen=True, slots=True)
class Query:
    """A question read for searching: its terms (empty: nothing worth searching)."""

    terms: tuple[Term, ...]

    @property
    def phrases(self) -> tuple[str, ...]:
        """Every phrase searched, once each, in order."""
        return tuple(dict.fromkeys(p for t in self.terms for p in t.phrases))

    def __bool__(self) -> bool:
        return bool(self.terms)


def read_query(text: str, speller: Speller | None = None) -> Query:
    """The terms of a question: synonyms first (longest phrase wins), then the stop words
    dropped, then unknown words corrected against the content's vocabulary."""
    tokens = words(text)
    terms: list[Term] = []
    seen: set[str] = set()
    i = 0
    while i < len(tokens) and len(terms) < MAX_TERMS:
        for size in range(min(_LONGEST, len(tokens) - i), 0, -1):
            phrase = " ".join(tokens[i : i + size])
            if phrase in _ALTERNATIVES:
                if phrase not in seen:  # "distrokid or cd baby": one term, not two
                    term = Term(phrase, _ALTERNATIVES[phrase])
                    seen.update(term.phrases)
                    terms.append(term)
                i += size
                break
        else:
            word = tokens[i]
            i += 1
            if word in STOP_WORDS or word in seen or (word.isdigit() and len(word) < 2):
                continue
            term = _spelled(word, speller)
            seen.update(term.phrases)
            terms.append(term)
    return Query(tuple(terms))


def _spelled(word: str, speller: Speller | None) -> Term:
    """A single word as a term: a misspelling gets its correction (and that word's synonyms)
    as alternatives; the word itself stays, since the backend's stemmer may still know it."""
    if speller is None or word.isdigit() or speller.known(word):
        return Term(word)
    fixed = speller.correct(word)
    if fixed is None:
        return Term(word)
    extra = _ALTERNATIVES.get(fixed, ())
    return Term(word, tuple(dict.fromkeys((fixed, *extra))))


def websearch_text(query: Query) -> str:
    """The query for PostgreSQL's ``websearch_to_tsquery``: every phrase OR-ed, phrases of
    several words quoted (``playlist or "split sheet"``). Only letters, digits and spaces
    reach it, so nothing typed can become an operator."""
    return " or ".join(f'"{p}"' if " " in p else p for p in query.phrases)


def fts5_text(query: Query) -> str:
    """The query for SQLite FTS5's ``MATCH``: every phrase quoted and OR-ed
    (``"playlist" OR "split sheet"``); quoting keeps words like ``or``/``near`` plain."""
    return " OR ".join(f'"{p}"' for p in query.phrases)


def stems_of(texts: Iterable[str]) -> frozenset[str]:
    """Every word's stem in ``texts``."""
    return frozenset(stem(w) for text in texts for w in words(text))


def _covered(phrase: str, stems: frozenset[str]) -> bool:
    return all(stem(w) in stems for w in phrase.split() if w not in STOP_WORDS)


def covers(term: Term, stems: frozenset[str]) -> bool:
    """Whether a document (given by its word stems) contains the term in some form: what was
    typed, a synonym, or the spelling correction."""
    return any(_covered(p, stems) for p in term.phrases)


def weights(query: Query, documents: Sequence[frozenset[str]]) -> list[float]:
    """How much each term says about the topic: its inverse document frequency over the
    content. A word every task uses ("song", "fans") says little; a word no task uses
    ("football") says the most — the question is about something the content doesn't hold."""
    n = len(documents)
    return [
        0.0  # a number ("40 voice memos", "-14") is not a topic
        if t.typed.isdigit()
        else math.log((n + 1) / (max(1, sum(1 for d in documents if covers(t, d))) + 0.5))
        for t in query.terms
    ]


#: The share of a question's weight (:func:`weights`) a task must cover to be an answer.
ENOUGH = 0.5


def coverage(query: Query, stems: frozenset[str], term_weights: Sequence[float]) -> float:
    """The share of the question's weight that a document covers (0 for no terms)."""
    total = sum(term_weights)
    if not query.terms or total <= 0:
        return 0.0
    hit = sum(w for t, w in zip(query.terms, term_weights, strict=True) if covers(t, stems))
    return hit / total


def good_enough(query: Query, stems: frozenset[str], term_weights: Sequence[float]) -> bool:
    """Whether a found task answers the question well enough to be shown: it covers more
    than :data:`ENOUGH` of the question's weight. The backends rank; this decides whether the
    best of them is an answer at all, the same way on both."""
    return coverage(query, stems, term_weights) > ENOUGH


#: Words that open a question ("how …", "what's …", "any tips …").
_OPENERS = frozenset(
    {
        "how", "hows", "what", "whats", "when", "whens", "where", "wheres", "why", "who",
        "whos", "which", "should", "shall", "can", "could", "would", "do", "does", "did", "is",
        "are", "any", "tips", "explain", "tell", "help", "pls", "please",
    }
)  # fmt: skip


def opens_with_question_word(text: str) -> bool:
    """The message's first word is a question word ("how", "what's", "any", "should")."""
    first = words(text)[:1]
    return bool(first) and first[0] in _OPENERS


def looks_like_question(text: str) -> bool:
    """A message that asks something: it ends with a question mark, or opens with a question
    word and has a few words ("how do I get on playlists", "any tips for mastering"). A short
    statement ("finished my mix", "80") does not."""
    stripped = text.strip()
    if not stripped:
        return False
    tokens = words(stripped)
    if not tokens:
        return False
    if stripped.rstrip(" !.").endswith("?"):
        return True
    return len(tokens) >= 3 and tokens[0] in _OPENERS
