""" "done all" on an open checklist (issue #15 §4): asked first, then every item at once —
safe to tap twice, safe to tap late, undone in one step. On the in-memory coach."""

from __future__ import annotations

import pytest
from coachkit import Driver
from support.memory import MemoryCoach

from core.kernel.types import Toast
from core.progress.service import ticked_items

FIRST = "iss-artist-identity"  # the indie roadmap's first checklist (5 items)


async def _onboarded() -> tuple[MemoryCoach, Driver]:
    coach = MemoryCoach()
    maya = Driver(coach)
    await maya.onboard()
    assert "Lock in your artist name and identity" in maya.text  # the checklist is open
    return coach, maya


def _ticked(coach: MemoryCoach) -> list[str]:
    task = coach.catalog.tasks_by_slug[FIRST]
    return ticked_items(coach.progress_row(task.id, "maya"))


@pytest.mark.parametrize(
    "said", ["done all", "all done", "tick all", "Done all!", "tick them all", "all of them"]
)
async def test_done_all_asks_first_and_changes_nothing_yet(said: str) -> None:
    coach, maya = await _onboarded()
    await maya.say(said)
    assert "Tick all 5 items left" in maya.text
    assert "Search the name on Spotify" in maya.text  # what would be ticked, listed
    assert maya.find("Tick 5").payload == "v1:ta:iss-artist-identity"
    assert _ticked(coach) == []


async def test_confirmed_it_ticks_every_item_and_moves_on() -> None:
    coach, maya = await _onboarded()
    await maya.say("2")  # one already ticked: the question counts what is left
    await maya.say("done all")
    assert "Tick all 4 items left" in maya.text
    await maya.press("Tick 4")
    assert "Lock in your artist name and identity — done!" in maya.text
    assert "Take stock of your songs" in maya.text  # the stage's next task
    assert len(_ticked(coach)) == 5
    task = coach.catalog.tasks_by_slug[FIRST]
    row = coach.progress_row(task.id, "maya")
    assert row is not None
    assert row.status == "completed"
    assert set(row.task_data["ticked_by"]) == {item.key for item in task.items}


async def test_a_double_tap_and_a_stale_button_change_nothing() -> None:
    coach, maya = await _onboarded()
    await maya.say("done all")
    confirm = maya.find("Tick 5").payload
    await maya.press_payload(confirm)
    assert len(_ticked(coach)) == 5
    replies = await maya.press_payload(confirm)  # the second tap
    assert len(replies) == 1
    assert isinstance(replies[0], Toast)
    assert "already done" in replies[0].text
    assert len(_ticked(coach)) == 5


async def test_the_button_is_stale_after_ticking_by_hand() -> None:
    coach, maya = await _onboarded()
    await maya.say("done all")
    confirm = maya.find("Tick 5").payload
    for n in range(1, 6):
        await maya.say(str(n))
    assert "done!" in maya.text
    replies = await maya.press_payload(confirm)
    assert [type(r) for r in replies] == [Toast]
    assert len(_ticked(coach)) == 5


async def test_cancel_keeps_the_checklist_open() -> None:
    coach, maya = await _onboarded()
    await maya.say("all done")
    await maya.press("Cancel")
    assert "nothing ticked" in maya.text
    assert _ticked(coach) == []
    await maya.say("1")  # still open: a number ticks
    assert _ticked(coach) == ["name-search"]


async def test_one_undo_takes_back_the_whole_tick_all() -> None:
    coach, maya = await _onboarded()
    await maya.say("3")
    await maya.say("done all")
    await maya.press("Tick 4")
    await maya.say("/undo")
    assert "ticked all 5 items" in maya.text
    assert len(_ticked(coach)) == 1  # back to how it stood: item 3 only


async def test_done_all_when_everything_is_ticked_says_so() -> None:
    """Ticking the last item completes the task, so "done all" right after reaches the next
    checklist; on a checklist whose items are all ticked it says so instead of asking."""
    _coach, maya = await _onboarded()
    await maya.say("done all")
    await maya.press("Tick 5")
    await maya.say("done all")  # now the next checklist (Take stock of your songs) is open
    assert "Tick all" in maya.text
    assert "Put every lyric, voice memo and demo" in maya.text
