"""The button payload codec and the reply markup (property tests with hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import core.app.engine  # noqa: F401 - imports every feature, so every button is declared
from core.kernel.commands import parse_command
from core.kernel.markup import esc, parse, to_plain
from core.kernel.payloads import (
    MAX_BYTES,
    ButtonAction,
    Payload,
    PayloadError,
    declared,
    decode,
    encode,
)
from core.roadmaps.loader import load_roadmaps
from core.roadmaps.schema import ITEM_KEY_MAX, TASK_SLUG_MAX

slug = st.from_regex(r"[a-z0-9][a-z0-9-]{0,30}", fullmatch=True)
actions = st.sampled_from(sorted(declared(), key=lambda a: a.name))


@given(action=actions, args=st.lists(slug, min_size=0, max_size=3))
@settings(max_examples=400)
def test_roundtrip_and_size(action: ButtonAction, args: list[str]) -> None:
    if len(args) != action.arity:
        with pytest.raises(PayloadError):
            Payload(action.name, tuple(args)).encode()
        return
    expected = ":".join(("v1", action.code, *args))
    if len(expected.encode()) > MAX_BYTES:
        with pytest.raises(PayloadError):
            encode(action.name, *args)
        return
    wire = action.encode(*args)
    assert wire == expected == encode(action.name, *args)
    assert decode(wire) == Payload(action.name, tuple(args)) == action.of(*args)


def test_every_feature_declares_its_buttons() -> None:
    names = {a.name for a in declared()}
    assert {"tick", "untick", "skip", "nudge", "reminders", "band_reset", "admin_pick"} <= names
    assert {"cmd", "cancel"} <= names, "the kernel's own"


def test_a_clashing_declaration_is_refused() -> None:
    tick = next(a for a in declared() if a.name == "tick")
    assert ButtonAction("tick", tick.code, tick.arity) == tick  # declaring it again is harmless
    with pytest.raises(PayloadError, match="clashes"):
        ButtonAction("tick-twice", tick.code, 1)  # a second action on the same wire code
    with pytest.raises(PayloadError, match="clashes"):
        ButtonAction("tick", "zzz", 2)  # the same name with another code
    with pytest.raises(PayloadError, match="lowercase"):
        ButtonAction("bad", "TK", 1)
    with pytest.raises(PayloadError, match="no button action"):
        encode("no-such-action")


@given(st.text(max_size=120))
@settings(max_examples=500)
def test_decode_never_raises(junk: str) -> None:
    result = decode(junk)
    assert result is None or result.encode() == junk


def test_longest_real_payload_fits_64_bytes() -> None:
    worst = "v1:ut:" + "a" * TASK_SLUG_MAX + ":" + "b" * ITEM_KEY_MAX
    assert len(worst.encode()) <= MAX_BYTES
    for roadmap in load_roadmaps():
        for _stage, task in roadmap.iter_tasks():
            for item in task.items or ():
                assert decode(encode("untick", task.slug, item.key)) is not None


def test_versions_and_shapes_are_checked() -> None:
    assert decode("v2:tk:a:b") is None
    assert decode("v1:tk:a") is None
    assert decode("v1:tk:A:b") is None
    assert decode("v1:no") == Payload("cancel")


@given(st.text(max_size=200))
@settings(max_examples=500)
def test_escaped_user_text_is_shown_literally(text: str) -> None:
    assert to_plain(esc(text)) == text
    assert all(not (s.bold or s.italic or s.code) for s in parse(esc(text)))


def test_markup_styles() -> None:
    spans = parse("a *b* _c_ `d*e`")
    assert [(s.text, s.bold, s.italic, s.code) for s in spans] == [
        ("a ", False, False, False),
        ("b", True, False, False),
        (" ", False, False, False),
        ("c", False, True, False),
        (" ", False, False, False),
        ("d*e", False, False, True),
    ]


@pytest.mark.parametrize(
    ("text", "name", "args"),
    [
        ("/today", "today", ""),
        ("/Today@StardomBot", "today", ""),
        ("/name  DJ Kat ", "name", "DJ Kat"),
    ],
)
def test_parse_command(text: str, name: str, args: str) -> None:
    parsed = parse_command(text)
    assert parsed is not None
    assert (parsed.name, parsed.args) == (name, args)


@pytest.mark.parametrize("text", ["/", "today", "", " / x"])
def test_not_a_command(text: str) -> None:
    assert parse_command(text) is None
