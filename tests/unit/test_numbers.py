"""The numbers feature on the in-memory coach: /update, /goal (typed and guided), /stats, a met
goal celebrated once, the answer path's goal check only when a goal exists, and golden texts of
the new cards.

The clock is injected (a fixed instant, moved by hand), so every date below is the coach's,
never the wall clock's.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from coachkit import Driver
from numberskit import FOLLOWERS, LISTENERS, STREAMS, tracked_roadmap
from reminderkit import FakeClock
from support.memory import MemoryCoach

from core.coaching.numbers.checkins import Stale, card, decide
from core.coaching.numbers.goals import add_months
from core.kernel.markup import to_plain
from core.kernel.types import Card, Picture
from core.roadmaps.catalog import catalog_from
from core.roadmaps.schema import Cadence

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)  # a Monday; only ever the injected clock


def _coach() -> tuple[MemoryCoach, FakeClock]:
    clock = FakeClock(START)
    return MemoryCoach(roadmaps=[tracked_roadmap()], clock=clock), clock


async def _maya(coach: MemoryCoach) -> Driver:
    maya = Driver(coach)
    await maya.onboard(roadmap_name="Numbers Test")
    return maya


def _stats(coach: MemoryCoach) -> dict[str, Any]:
    return coach.record("maya").current_stats


async def test_update_with_aliases_saves_a_sample_and_the_change() -> None:
    coach, clock = _coach()
    maya = await _maya(coach)
    await maya.say("/update listeners 1200")
    assert "Saved: 1,200 listeners" in maya.text
    clock.advance(days=7)
    await maya.say("/update monthly listeners 1.4k")
    assert "Saved: 1,400 listeners" in maya.text
    assert "+200 since last time (was 1,200 listeners on 4 Jan)" in maya.text
    pid = coach.record("maya").profile_id
    assert [s["value"] for s in coach.store.samples_of(pid, LISTENERS)] == [1200, 1400]
    assert _stats(coach)[LISTENERS]["value"] == "1400"
    await maya.say("/update followers 300")
    assert "Saved: 300" in maya.text
    await maya.say("/update streams total 12")
    assert "Saved: 12" in maya.text


async def test_update_unknown_metric_and_bad_values_get_clear_answers() -> None:
    coach, _clock = _coach()
    maya = await _maya(coach)
    await maya.say("/update subscribers 5")
    assert "I don't know a number called “subscribers 5”" in maya.text
    assert "listeners" in maya.text
    assert "followers" in maya.text
    await maya.say("/update listeners lots")
    assert "listeners" in maya.text.casefold()
    assert not coach.store.samples_of()
    await maya.say("/update listeners 2b")
    assert "k" in maya.text
    assert not coach.store.samples_of()


async def test_update_alone_lists_tracked_metrics_and_a_button_asks_for_the_value() -> None:
    coach, _clock = _coach()
    maya = await _maya(coach)
    await maya.say("/update")
    labels = [b.label for b in maya.buttons]
    assert labels == ["Instagram followers", "Monthly listeners"]
    await maya.press("Monthly listeners")
    assert "What's your monthly listeners now?" in maya.text
    await maya.say("not a number")
    assert "Try again, or /cancel" in maya.text
    await maya.say("950")
    assert "Saved: 950 listeners" in maya.text
    assert coach.record("maya").awaiting is None
    # /update <metric> alone asks too, and /cancel drops it
    await maya.say("/update followers")
    assert "What's your instagram followers now?" in maya.text
    await maya.say("/cancel")
    assert coach.record("maya").awaiting is None


async def test_goal_typed_projects_and_keeps_the_summary_shape() -> None:
    coach, clock = _coach()
    maya = await _maya(coach)
    await maya.say("/goal listeners 2000 by 31 March")
    assert "First I need your monthly listeners today" in maya.text
    await maya.say("1000")  # the question the goal asked
    for _ in range(4):
        clock.advance(days=7)
        value = int(_stats(coach)[LISTENERS]["value"]) + 100
        await maya.say(f"/update listeners {value}")
    await maya.say("/goal listeners 2400 by 31 March")
    text = maya.text
    assert "Goal set: Monthly listeners 2,400 by 31 Mar." in text
    assert "on track" not in text  # +100 a week makes 1,400 → 2,400 by mid-April, not March
    assert "behind — at +100 a week you'd get there around 12 Apr." in text
    assert "You need +" in text
    assert "How I project: a straight line" in text
    assert _stats(coach)[LISTENERS]["goal"] == {"target": "2400", "by": "2027-03-31"}
    goals = coach.store.goals_of(coach.record("maya").profile_id)
    assert [(g["metric"], g["target"], g["baseline"]) for g in goals] == [
        (LISTENERS, Decimal(2400), Decimal(1400))
    ]
    # too thin: a fresh metric with one number
    await maya.say("/update followers 100")
    await maya.say("/goal followers 500 by 30 June")
    assert "too early to say — I need 2 numbers at least a week apart." in maya.text


async def test_goal_bad_input() -> None:
    coach, _clock = _coach()
    maya = await _maya(coach)
    await maya.say("/update listeners 1000")
    await maya.say("/goal listeners 2000 by yesterday")
    assert "Pick a date after today" in maya.text
    await maya.say("/goal listeners lots by 31 March")
    assert not coach.store.goals_of(coach.record("maya").profile_id)
    await maya.say("/goal listeners 900 by 31 March")  # higher is better: already there
    assert "You're already at" in maya.text
    await maya.say("/goal fans 10 by 31 March")
    assert "I don't know a number called “fans 10”" in maya.text


async def test_guided_goal_with_buttons() -> None:
    coach, _clock = _coach()
    maya = await _maya(coach)
    await maya.say("/update listeners 1000")
    await maya.say("/goal")
    assert "No goals yet" in maya.text
    await maya.press("Monthly listeners")
    assert "What monthly listeners do you want to reach? You're at 1,000 listeners" in maya.text
    await maya.say("3k")
    assert "By when?" in maya.text
    assert [b.label for b in maya.buttons] == ["In 1 month", "In 3 months", "In 6 months"]
    await maya.press("In 3 months")
    assert "Goal set: Monthly listeners 3,000 by 4 Apr." in maya.text
    assert _stats(coach)[LISTENERS]["goal"] == {"target": "3000", "by": "2027-04-04"}
    # a stale date button changes nothing
    await maya.press_payload("v1:gw:6")
    assert "That question has expired" in maya.text
    assert _stats(coach)[LISTENERS]["goal"] == {"target": "3000", "by": "2027-04-04"}
    await maya.say("/goal")
    assert "Your goals" in maya.text
    assert "Monthly listeners — 🎯 3,000 by 4 Apr" in maya.text
    # typed date in the guided flow; a number without a value yet asks for the value first
    await maya.say("/goal followers")
    assert "First I need your instagram followers today" in maya.text
    await maya.say("10")
    assert "Saved: 10" in maya.text
    await maya.say("/goal followers 50")
    await maya.say("30 June")
    assert "Goal set: Instagram followers 50 by 30 Jun." in maya.text


async def test_goal_off_removes_it() -> None:
    coach, _clock = _coach()
    maya = await _maya(coach)
    await maya.say("/update listeners 1000")
    await maya.say("/goal listeners 2000 by 31 March")
    await maya.say("/goal listeners off")
    assert "the Monthly listeners goal is gone" in maya.text
    assert "goal" not in _stats(coach)[LISTENERS]
    assert not coach.store.goals_of(coach.record("maya").profile_id)
    await maya.say("/goal listeners off")
    assert "There's no goal for Monthly listeners" in maya.text


async def test_a_met_goal_is_celebrated_once_from_update_and_answers() -> None:
    coach, clock = _coach()
    maya = await _maya(coach)
    await maya.say("/update listeners 1000")
    await maya.say("/goal listeners 1500 by 31 March")
    clock.advance(days=7)
    await maya.say("/update listeners 1600")
    assert "Goal reached! Monthly listeners hit 1,600 listeners" in maya.text
    met = coach.store.goals_of(coach.record("maya").profile_id)[0]["met_at"]
    assert met == clock.now
    clock.advance(days=7)
    await maya.say("/update listeners 1700")
    assert "Goal reached" not in maya.text
    # an ordinary answer reaches a goal too
    await maya.say("/goal listeners 2000 by 30 June")
    await maya.say("/today")
    await maya.say("2100")  # the open question is the listeners task
    assert "Saved: 2,100 listeners" in maya.text
    assert "Goal reached! Monthly listeners hit 2,100 listeners" in maya.text


async def test_the_answer_path_touches_goals_only_when_a_goal_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    coach, _clock = _coach()
    calls: list[str] = []
    store = coach.store
    for name in ("mark_goal_met", "load_goals", "save_goal", "delete_goal", "metric_samples"):
        real = getattr(store, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kw)

        monkeypatch.setattr(store, name, spy)
    maya = await _maya(coach)
    await maya.say("/today")
    await maya.say("1000")  # listeners, no goal
    await maya.say("300")  # followers, no goal
    assert calls == []
    await maya.say("/goal listeners 5000 by 31 March")
    calls.clear()
    await maya.say("/update followers 320")  # a metric without a goal
    assert calls == []
    await maya.say("/update listeners 1100")  # with a goal, not reached: only the projection
    assert calls == ["metric_samples"]
    calls.clear()
    await maya.say("/update listeners 5100")  # reached: marked met
    assert calls == ["mark_goal_met", "metric_samples"]


async def test_stats_show_figures_goal_and_chart() -> None:
    coach, clock = _coach()
    maya = await _maya(coach)
    await maya.say("/stats")
    assert "No numbers yet" in maya.text
    for week in range(14):
        await maya.say(f"/update listeners {1000 + 50 * week}")
        clock.advance(days=7)
    await maya.say("/update followers 10")
    await maya.say("/goal listeners 3000 by 30 June")
    await maya.say("/stats")
    picture = maya.replies[0]
    assert isinstance(picture, Picture)
    assert picture.image.startswith(b"\x89PNG")
    text = to_plain(picture.text)
    assert "Monthly listeners: 1,650 listeners (▲ +50 since last time)" in text
    assert "30 days +200 · 90 days +600 · pace +50 a week" in text
    assert "Instagram followers: 10" in text
    assert "pace too early to say" in text
    assert "🎯 3,000 by 30 Jun: behind" in text


def test_add_months_keeps_the_day_or_the_month_end() -> None:
    assert add_months(START.date(), 3) == START.date().replace(month=4)
    assert add_months(START.date().replace(day=31), 1) == START.date().replace(month=2, day=28)
    assert add_months(START.date().replace(month=11), 3).year == START.year + 1


def test_checkin_decisions() -> None:
    catalog = catalog_from([tracked_roadmap()])
    asked_at = START - timedelta(days=31)
    stats = {
        LISTENERS: {"value": "1200", "display": "1,200 listeners", "at": asked_at.isoformat()},
        STREAMS: {"value": "5", "display": "5", "at": asked_at.isoformat()},  # not tracked
    }
    # 31 days ago, monthly: stale since yesterday's 10:00 (UTC) → ask now
    decision = decide(stats, catalog, UTC, START.replace(hour=11))
    assert decision.ask is not None
    assert decision.ask.metric == LISTENERS
    assert decision.next_at == (START + timedelta(days=7)).replace(hour=10)  # a week on, 10:00
    # a fresh number: the next check-in is at 10:00 on the day it goes stale
    fresh = {LISTENERS: {**stats[LISTENERS], "at": START.isoformat()}}
    later = decide(fresh, catalog, UTC, START)
    assert later.ask is None
    assert later.next_at == (START + timedelta(days=30)).replace(hour=10)  # monthly: 30 days
    # weekly followers go stale first
    both = {**fresh, FOLLOWERS: {"value": "5", "display": "5", "at": START.isoformat()}}
    assert decide(both, catalog, UTC, START).next_at == (START + timedelta(days=7, hours=1))
    # nothing tracked: look again in a week
    assert decide({}, catalog, UTC, START).next_at == START + timedelta(days=7)


# ------------------------------------------------------------------------------ golden texts


async def test_golden_update_reply() -> None:
    coach, clock = _coach()
    maya = await _maya(coach)
    await maya.say("/update listeners 1000")
    clock.advance(days=7)
    await maya.say("/update listeners 1100")
    await maya.say("/goal listeners 1500 by 31 March")
    clock.advance(days=7)
    await maya.say("/update listeners 1200")
    assert maya.replies[0].text == (
        "✅ Saved: *1,200 listeners* — Monthly listeners.\n"
        "+100 since last time (was 1,100 listeners on 11 Jan).\n"
        "🎯 *1,500* by 31 Mar: *on track* — at +100 a week you get there around 8 Feb. "
        "You need +28.92 a week."
    )


async def test_golden_goal_reply() -> None:
    coach, clock = _coach()
    maya = await _maya(coach)
    await maya.say("/update listeners 1000")
    clock.advance(days=14)
    await maya.say("/update listeners 1200")
    await maya.say("/goal listeners 2000 by 31 March")
    assert maya.replies[0].text == (
        "🎯 Goal set: Monthly listeners *2,000* by 31 Mar.\n"
        "🎯 *2,000* by 31 Mar: *on track* — at +100 a week you get there around 15 Mar. "
        "You need +77.11 a week.\n"
        "_How I project: a straight line through your numbers of the last 90 days (least "
        "squares). With fewer than 2 numbers a week apart it's too early to say._"
    )


def test_golden_checkin_card() -> None:
    rid = uuid.UUID(int=1)
    stale = Stale(START, LISTENERS, Cadence.MONTHLY)
    entry = {"value": "1200", "display": "1,200 listeners", "at": "2026-11-03T10:00:00+00:00"}
    shown = card(stale, entry, rid, START)
    assert shown.text == (
        "📊 *Time for your monthly check-in*: Monthly listeners — last *1,200 listeners* "
        "on 3 Nov 2026.\nTap Answer and type today's number."
    )
    assert [[b.label for b in row] for row in shown.buttons] == [["✍️ Answer", "⏰ Snooze a week"]]
    assert shown.buttons[0][0].payload == "v1:nv:monthly-listeners"
    assert shown.buttons[0][1].payload == f"v1:cz:{rid.hex}"


async def test_undo_never_rolls_back_a_newer_number_or_a_goal() -> None:
    coach, _clock = _coach()
    maya = await _maya(coach)
    await maya.say("/today")
    await maya.say("1000")  # the listeners question: /undo could take this back
    await maya.say("/update listeners 1200")
    await maya.say("/undo")
    assert "nothing to undo" in maya.text
    assert _stats(coach)[LISTENERS]["value"] == "1200"
    await maya.say("/goal listeners 2000 by 31 March")
    await maya.say("/undo")
    assert _stats(coach)[LISTENERS]["goal"] == {"target": "2000", "by": "2027-03-31"}


async def test_golden_stats_card_and_goal_list() -> None:
    coach, clock = _coach()
    maya = await _maya(coach)
    for week in range(6):
        await maya.say(f"/update listeners {1000 + 100 * week}")
        clock.advance(days=7)
    await maya.say("/update followers 40")
    await maya.say("/goal listeners 3000 by 30 June")
    await maya.say("/stats")
    assert maya.replies[0].text == GOLDEN_STATS
    await maya.say("/goal")
    assert maya.replies[0].text == GOLDEN_GOALS


GOLDEN_STATS = (
    "*📈 Your numbers*\n\n"
    "*Instagram followers*: *40*\n"
    "   30 days — · 90 days — · pace too early to say\n"
    "*Monthly listeners*: *1,500 listeners* (▲ +100 since last time)\n"
    "   30 days +400 · 90 days — · pace +100 a week\n"
    "   🎯 *3,000* by 30 Jun: *on track* — at +100 a week you get there around 24 May. "
    "You need +73.62 a week.\n\n"
    "_Pace: the trend of your last 90 days. /update adds a number, /goal sets a target._"
)
GOLDEN_GOALS = (
    "*🎯 Your goals*\n\n"
    "Monthly listeners — 🎯 *3,000* by 30 Jun: *on track* — at +100 a week you get there "
    "around 24 May. You need +73.62 a week.\n\n"
    "_/goal <number> off removes one. How I project: a straight line through your numbers of "
    "the last 90 days (least squares). With fewer than 2 numbers a week apart it's too early "
    "to say._"
)


async def test_an_answer_form_answers_only_the_question_or_prompt_it_names() -> None:
    """Text from an answer form (Discord's modal) names its question or prompt (the card's
    ``task``): taken as that one's answer only, never as another that opened since."""
    coach, _clock = _coach()
    maya = await _maya(coach)  # the listeners question is open
    [card] = [r for r in await maya.say("/update followers") if isinstance(r, Card)]
    assert (card.form, card.task) == ("prompt", "value-instagram-followers")
    late = await maya._push(maya.inbound(kind="text", text="900", answers="nt-listeners"))
    assert "isn't open any more" in to_plain(late[0].text)
    assert _stats(coach) == {}
    await maya._push(maya.inbound(kind="text", text="300", answers=card.task))
    assert "Saved: 300" in maya.text
    [question] = [r for r in await maya.say("/today") if isinstance(r, Card)]
    assert question.task == "nt-listeners"
    await maya._push(maya.inbound(kind="text", text="1200", answers="nt-listeners"))
    assert "Saved: 1,200 listeners" in maya.text
    assert {k: v["value"] for k, v in _stats(coach).items()} == {
        FOLLOWERS: "300",
        LISTENERS: "1200",
    }
