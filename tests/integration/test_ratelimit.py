"""The per-person inbound limit: a burst of 20 in 10 s, then one "slow down", then silence."""

from __future__ import annotations

import pytest
from coachkit import Driver

from core.admin.ratelimit import SLOW_DOWN, RateLimit, RateLimiter, Verdict
from core.app.engine import Coach
from core.db.engine import Database


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_one_warning_then_silence_until_it_passes() -> None:
    clock = Clock()
    limiter = RateLimiter(RateLimit(20, 10), clock=clock)
    verdicts = []
    for _ in range(25):
        verdicts.append(limiter.check("telegram:1"))
        clock.now += 0.1
    assert verdicts == [Verdict.ALLOW] * 20 + [Verdict.WARN] + [Verdict.DROP] * 4
    assert limiter.check("telegram:2") is Verdict.ALLOW  # others are not affected
    clock.now += 7  # 9.5 s after the first event: still over the limit, still silent
    assert limiter.check("telegram:1") is Verdict.DROP
    clock.now += 1  # the first event is now 10.5 s old: room for one more
    assert limiter.check("telegram:1") is Verdict.ALLOW
    # a second flood gets its own single warning
    while limiter.check("telegram:1") is Verdict.ALLOW:
        pass
    assert limiter.check("telegram:1") is Verdict.DROP


def test_memory_is_bounded() -> None:
    limiter = RateLimiter(RateLimit(1, 10), clock=Clock(), max_keys=100)
    for n in range(1000):
        limiter.check(f"telegram:{n}")
    assert len(limiter._windows) == 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20/10", RateLimit(20, 10)), (" 5 / 2.5s ", RateLimit(5, 2.5)), ("off", None), ("0", None)],
)
def test_parse(text: str, expected: RateLimit | None) -> None:
    assert RateLimit.parse(text) == expected


@pytest.mark.parametrize("text", ["20", "fast", "0/10", "20/0", "-1/5"])
def test_parse_refuses_typos(text: str) -> None:
    with pytest.raises(ValueError, match="COACH_RATE_LIMIT"):
        RateLimit.parse(text)


async def test_the_coach_applies_it(database: Database) -> None:
    coach = Coach(database, rate_limit=RateLimit(20, 10))
    assert coach.limiter is not None
    clock = Clock()
    coach.limiter.clock = clock
    maya = Driver(coach, "maya")
    answered = [await maya.say("/help") for _ in range(20)]
    assert all(replies and replies[0].text != SLOW_DOWN for replies in answered)
    assert [r.text for r in await maya.say("/help")] == [SLOW_DOWN]
    assert await maya.say("/help") == []
    assert await maya.press_payload("v1:c:help") == []
    # another musician is served as usual
    assert "everything I can do" in "".join(r.text for r in await Driver(coach, "ana").say("/help"))
    clock.now += 10
    assert "everything I can do" in "".join(r.text for r in await maya.say("/help"))
