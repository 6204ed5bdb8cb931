"""The core's reply markup: escaping is lossless and styles nest as the front ends expect."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.kernel.markup import Span, bold, esc, italic, parse, to_plain

_TEXT = st.text(alphabet=st.sampled_from(list("ab *_`\\\n é😀<&")), max_size=60)


@given(_TEXT)
def test_escaped_text_comes_back_unchanged(text: str) -> None:
    assert to_plain(esc(text)) == text


@given(_TEXT.filter(bool))
def test_escaped_text_in_bold_is_one_bold_span(text: str) -> None:
    assert parse(bold(esc(text))) == [Span(text, bold=True)]


def test_styles_combine_and_code_is_literal() -> None:
    assert parse(f"a {bold(italic('b'))} `x*_y` \\* c") == [
        Span("a "),
        Span("b", bold=True, italic=True),
        Span(" "),
        Span("x*_y", code=True),
        Span(" * c"),
    ]


def test_unbalanced_markers_close_at_the_end_and_a_lone_backslash_stays() -> None:
    assert parse("*open and \\ back") == [Span("open and \\ back", bold=True)]
    assert parse("") == []
    assert parse("plain") == [Span("plain")]
