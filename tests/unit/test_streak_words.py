"""How ``/streak`` is typed (core/coaching/streaks/words.py): lengths in weeks and days, a
start date, and a clear answer to everything else — negatives, too long, emoji, overlong
text. ``today`` is an argument, so no date here depends on the wall clock."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.coaching.streaks.words import (
    FreezeAsk,
    Refused,
    Show,
    Unfreeze,
    parse,
)
from core.kernel.markup import to_plain

TODAY = date(2026, 12, 10)


@pytest.mark.parametrize("args", ["", "   "])
def test_nothing_shows_it(args: str) -> None:
    assert parse(args, TODAY) == Show()


@pytest.mark.parametrize("args", ["unfreeze", "UNFREEZE", "thaw", "freeze off", "freeze cancel"])
def test_unfreeze_words(args: str) -> None:
    assert parse(args, TODAY) == Unfreeze()


@pytest.mark.parametrize(
    ("args", "days"),
    [
        ("freeze 2w", 14),
        ("freeze 2 w", 14),
        ("freeze 2 weeks", 14),
        ("Freeze 1 Week", 7),
        ("freeze a week", 7),
        ("freeze two weeks", 14),
        ("freeze 4w", 28),
        ("freeze 10d", 10),
        ("freeze 1 day", 1),
        ("freeze 28 days", 28),
        ("freeze 3", 21),  # a bare count is weeks
        ("freeze +2w", 14),
    ],
)
def test_lengths(args: str, days: int) -> None:
    ask = parse(args, TODAY)
    assert ask == FreezeAsk(days, TODAY)
    assert isinstance(ask, FreezeAsk)
    assert ask.ends_on == TODAY + timedelta(days=days - 1)


def test_a_start_date() -> None:
    ask = parse("freeze 2w from 2026-12-20", TODAY)
    assert ask == FreezeAsk(14, date(2026, 12, 20))
    assert isinstance(ask, FreezeAsk)
    assert ask.ends_on == date(2027, 1, 2)
    assert parse("freeze 10d from today", TODAY) == FreezeAsk(10, TODAY)
    assert parse("freeze 1w from tomorrow", TODAY) == FreezeAsk(7, TODAY + timedelta(days=1))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ("freeze -2w", "1 day to 4 weeks"),
        ("freeze −2w", "1 day to 4 weeks"),
        ("freeze 0d", "1 day to 4 weeks"),
        ("freeze 99w", "at most 4 weeks"),
        ("freeze 29d", "at most 4 weeks"),
        ("freeze 999999w", "at most 4 weeks"),
        ("freeze 🎸🎸", "didn't get how long"),
        ("freeze 2 fortnights", "didn't get how long"),
        ("freeze 12.5k", "didn't get how long"),
        ("freeze", "How long?"),
        ("freeze from 2026-12-20", "How long?"),
        ("freeze 2w from", "From when?"),
        ("freeze 2w from 2026-12-01", "can't start in the past"),
        ("freeze 2w from yesterday", "can't start in the past"),
        ("freeze 2w from 2027-06-30", "more than 90 days"),
        ("freeze 2w from 🎸", "I need a date"),
        ("melt", "I don't know"),
        ("🔥🔥🔥", "I don't know"),
        ("unfreeze now please", "I don't know"),
    ],
)
def test_bad_input_gets_a_clear_answer(args: str, says: str) -> None:
    result = parse(args, TODAY)
    assert isinstance(result, Refused), result
    assert says in to_plain(result.text)


def test_overlong_and_markup_input_is_cut_and_escaped() -> None:
    result = parse("freeze " + "*_`" * 500, TODAY)
    assert isinstance(result, Refused)
    assert len(result.text) < 300
    plain = to_plain(result.text)
    assert "…" in plain
    assert "*_`*_`" in plain, "what was typed is quoted as text, not read as markup"
    assert plain.count("*") <= 10, "and only its first 30 characters"
