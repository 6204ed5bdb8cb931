"""Reading a musician's question (issue #15 §4): words, synonyms, spelling, what is a question.

Pure: the same reading goes to PostgreSQL and to SQLite, so it is tested once, here.
"""

from __future__ import annotations

import pytest
from support.memory import bundled_catalog

from core.journey.questions import is_question_while_asked, knowledge_of
from core.knowledge.spelling import Vocabulary, distance
from core.knowledge.words import (
    fts5_text,
    looks_like_question,
    read_query,
    stem,
    websearch_text,
)
from core.roadmaps.catalog import TaskInfo


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return knowledge_of(bundled_catalog()).vocabulary


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("spotfy", "spotify"),
        ("playlistt", "playlist"),
        ("royalites", "royalties"),
        ("mastring", "mastering"),
        ("distrubution", "distribution"),
        ("newsleter", "newsletter"),
        ("festivles", "festivals"),
    ],
)
def test_musicians_spelling_is_corrected_against_the_content(
    vocabulary: Vocabulary, typed: str, meant: str
) -> None:
    assert vocabulary.correct(typed) == meant
    query = read_query(f"how do i get {typed}", vocabulary)
    assert meant in query.phrases
    assert typed in query.phrases  # kept too: the backend's stemmer may know it


@pytest.mark.parametrize(
    "word", ["gig", "spotify", "playlists", "mastering", "x" * 4000, "zzzzzz", "bake", "pizza"]
)
def test_known_short_long_and_hopeless_words_are_left_alone(
    vocabulary: Vocabulary, word: str
) -> None:
    assert vocabulary.correct(word) is None


def test_distance_counts_a_swap_once() -> None:
    assert distance("royalites", "royalties") == 1
    assert distance("spotfy", "spotify") == 1
    assert distance("abc", "abc") == 0
    assert distance("kitten", "sitting") == 3


@pytest.mark.parametrize(
    ("question", "also"),
    [
        ("how do i register with a PRO", "performing rights"),
        ("who is my performing rights organisation", "pro"),
        ("whats a split sheet", "songwriting splits"),
        ("how do we agree songwriting splits", "split sheet"),
        ("how do i get a gig", "show"),
        ("we have a show friday", "gig"),
    ],
)
def test_synonyms_musicians_use_are_searched_too(question: str, also: str) -> None:
    assert also in read_query(question).phrases


def test_logic_pro_is_a_daw_not_a_performing_rights_society() -> None:
    phrases = read_query("should i use logic pro").phrases
    assert "logic pro" in phrases
    assert "performing rights" not in phrases


def test_question_fillers_are_not_searched() -> None:
    assert not read_query("how do i get on it, what should i do?")
    assert [t.typed for t in read_query("how do I get on playlists?").terms] == ["playlists"]


def test_a_long_message_is_cut_to_a_few_terms() -> None:
    query = read_query(" ".join(f"word{n}" for n in range(2000)))
    assert len(query.terms) == 24


def test_nothing_typed_becomes_an_operator() -> None:
    query = read_query('split "sheet" OR -pro NEAR(x) * ^ : ( ) AND NOT')
    for rendered in (websearch_text(query), fts5_text(query)):
        assert "-" not in rendered
        assert "(" not in rendered
        assert "*" not in rendered
        assert "^" not in rendered
    assert '"split sheet"' in fts5_text(read_query("split sheet"))
    assert '"split sheet"' in websearch_text(read_query("split sheet"))


def test_stem_joins_the_forms_musicians_type() -> None:
    assert stem("royalties") == stem("royalty")
    assert stem("playlists") == stem("playlist")
    assert stem("mastering") == stem("master")
    assert stem("planning") == "plan"


@pytest.mark.parametrize(
    "text",
    [
        "how do i get on playlists?",
        "what's a split sheet?",
        "when should I get a manager",
        "any tips for mastering",
        "spotify pitch?",
        "Should we sign this contract",
    ],
)
def test_questions(text: str) -> None:
    assert looks_like_question(text)


@pytest.mark.parametrize(
    "text", ["", "   ", "80", "finished my mix", "how", "what now", "🎸", "done 2", "lol"]
)
def test_not_questions(text: str) -> None:
    assert not looks_like_question(text)


def _task(slug: str) -> TaskInfo:
    return bundled_catalog().tasks_by_slug[slug]


def test_a_question_while_a_number_is_asked() -> None:
    """Any question reads as one while a number, date, link or choice is asked: none of those
    answers looks like a question."""
    listeners = _task("iss-baseline-listeners")  # an integer
    assert is_question_while_asked(listeners, "what's a good number?")
    assert is_question_while_asked(listeners, "how do i find my monthly listeners")
    assert not is_question_while_asked(listeners, "350")
    assert not is_question_while_asked(listeners, "about 350 i think")
    for later in ("not sure?", "idk?", "?", "no idea?"):  # these put the question off
        assert not is_question_while_asked(listeners, later), later


def test_a_free_text_answer_may_end_with_a_question_mark() -> None:
    """A free-text answer may be anything ("…who else?"): only a question word and a question
    mark together make it a question of the musician's own."""
    pitch = _task("tb-pitch-line")  # free text
    assert not is_question_while_asked(pitch, "Loud garage rock for fans of Idles — who else?")
    assert not is_question_while_asked(pitch, "how we sound: loud garage rock")  # no "?"
    assert is_question_while_asked(pitch, "what should my pitch line say?")
    assert not is_question_while_asked(None, "what should my pitch line say?")
