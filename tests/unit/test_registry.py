"""The registry refuses what would misroute, and the turn keeps states to what features declared."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum

import pytest

from core.kernel.registry import Feature, Registry, RegistryError
from core.kernel.store import TurnRecord
from core.kernel.turn import Turn
from core.kernel.types import Inbound, Message, Outbound
from core.roadmaps.catalog import Catalog

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


class Asks(StrEnum):
    COLOUR = "colour"


async def _reply(*_args: object) -> list[Outbound]:
    return [Message(text="ok")]


def test_one_command_per_place_but_the_same_name_in_different_places() -> None:
    solo, band = Feature("solo"), Feature("band")
    solo.command("remind", "mine", places=frozenset({"private", "group"}))(_reply)
    band.command("remind", "the band's", places=frozenset({"band"}), door="band")(_reply)
    registry = Registry([solo, band])
    private, banded = registry.command("remind", "private"), registry.command("remind", "band")
    assert private is not None
    assert banded is not None
    assert (private.feature, banded.feature) == ("solo", "band")

    twice = Feature("twice")
    twice.command("remind", "again", places=frozenset({"group"}))(_reply)
    with pytest.raises(RegistryError, match="declared twice"):
        Registry([solo, twice])


def test_a_state_answered_by_two_features_is_refused() -> None:
    first, second = Feature("first"), Feature("second")
    first.on_text(Asks.COLOUR)(_reply)
    second.on_text(Asks.COLOUR)(_reply)
    with pytest.raises(RegistryError):
        Registry([first, second])


def _turn(states: dict[str, StrEnum], awaiting: str | None) -> Turn:
    record = TurnRecord(
        user_id=uuid.uuid4(),
        timezone="UTC",
        user_last_active_at=NOW,
        profile_id=uuid.uuid4(),
        artist_name="Maya",
        current_stats={},
        roadmap_id=None,
        current_stage_id=None,
        last_activity_at=NOW,
        awaiting=awaiting,
        state_task_id=None,
        state_data={},
        undo=None,
    )
    inbound = Inbound(platform="console", user_id="maya", chat_id="maya", kind="text")
    return Turn(object(), inbound, record, Catalog(roadmaps=()), NOW, states=states)  # type: ignore[arg-type]


def test_the_turn_reads_and_writes_only_declared_states() -> None:
    feature = Feature("asker")
    feature.on_text(Asks.COLOUR)(_reply)
    states = dict(Registry([feature]).states)
    assert _turn(states, "colour").awaiting is Asks.COLOUR
    assert _turn(states, "gone-state").awaiting is None, "a state nobody declares any more"

    class Stray(StrEnum):
        SIZE = "size"

    turn = _turn(states, None)
    with pytest.raises(ValueError, match="not declared"):
        turn.set_state(Stray.SIZE)
    turn.set_state(Asks.COLOUR)
    assert turn.rec.awaiting == "colour"
