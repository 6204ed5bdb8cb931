"""A band's weekly digest, pure (core/coaching/digest/compose.py): who did what, what is due or
overdue and whose it is, whom it may ping, the band's numbers and focus (the review's own
pieces), and the short version of a quiet week. Table tests on given rows, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from support.plankit import plan_roadmap

from core.coaching.digest.compose import (
    AHEAD_DAYS,
    DUE_LISTED,
    FORMER,
    BandInputs,
    Credit,
    Due,
    Person,
    compose,
    render,
)
from core.coaching.review.compose import Inputs
from core.coaching.review.week import this_week
from core.journey.buttons import OPEN
from core.progress.service import ProgressRecord
from core.progress.streaks import Streak
from core.roadmaps.catalog import catalog_from

BERLIN = ZoneInfo("Europe/Berlin")
CATALOG = catalog_from([plan_roadmap()])
ROADMAP = CATALOG.roadmaps[0]
TASKS = CATALOG.tasks_by_slug
_TODAY = datetime.now(UTC).date()
#: A Wednesday noon in Berlin, whatever today is (the suite also runs a year ahead).
NOW = datetime.combine(
    _TODAY - timedelta(days=_TODAY.weekday()) + timedelta(days=2), time(12), tzinfo=BERLIN
).astimezone(UTC)
WEEK = this_week(NOW, BERLIN)
TODAY = NOW.astimezone(BERLIN).date()
ANA = Person(uuid.UUID(int=1), "Ana", "1001")
BEN = Person(uuid.UUID(int=2), "Ben", "1002")
CLEO = Person(uuid.UUID(int=3), "Cleo", None)  # no identity on the platform: never pinged
GONE = uuid.UUID(int=9)  # left the band


def _streak(weeks: int, *, best: int, done: bool) -> Streak:
    """The band's streak as of :data:`TODAY`, no freeze on, two left."""
    return Streak(
        weeks=weeks,
        best=best,
        this_week_done=done,
        this_week_frozen=False,
        freeze=None,
        freezes_left=2,
        today=TODAY,
    )


def _rec(slug: str, status: str, **extra: object) -> ProgressRecord:
    return ProgressRecord(task_id=TASKS[slug].id, status=status, stored=True, **extra)  # type: ignore[arg-type]


def _band(
    rows: list[ProgressRecord] = (),  # type: ignore[assignment]
    *,
    release: date | None = None,
    assigned: dict[str, uuid.UUID] | None = None,
    recorded: list[tuple[uuid.UUID | None, datetime]] = (),  # type: ignore[assignment]
    **review: object,
) -> BandInputs:
    values: dict[str, object] = {
        "roadmap": ROADMAP,
        "rows": {r.task_id: r for r in rows},
        "anchors": {"release": release.isoformat()} if release else {},
        "current_stats": {},
        "current_stage_id": None,
        "metrics": CATALOG.metrics,
        "samples": [],
        "now": NOW,
        "tz": BERLIN,
    }
    values.update(review)
    return BandInputs(
        name="The *Night* Owls",
        review=Inputs(**values),  # type: ignore[arg-type]
        members=(ANA, BEN, CLEO),
        assigned={TASKS[s].id: u for s, u in (assigned or {}).items()},
        recorded=recorded,
    )


IN_WEEK = WEEK.start + timedelta(hours=9)
BEFORE = WEEK.start - timedelta(hours=1)


@pytest.mark.parametrize(
    ("rows", "recorded", "credits"),
    [
        pytest.param([], [], [], id="nobody did anything"),
        pytest.param(
            [_rec("pl-master", "completed", completed_at=IN_WEEK, completed_by=ANA.user_id)],
            [(BEN.user_id, IN_WEEK), (BEN.user_id, IN_WEEK + timedelta(hours=1))],
            [Credit("Ana", ("Master the song",), 0), Credit("Ben", (), 2)],
            id="a task and two numbers, members in joining order",
        ),
        pytest.param(
            [_rec("pl-master", "completed", completed_at=BEFORE, completed_by=ANA.user_id)],
            [(BEN.user_id, BEFORE), (BEN.user_id, NOW + timedelta(hours=1))],
            [],
            id="last week's work and a future number are not this week's",
        ),
        pytest.param(
            [_rec("pl-fans", "completed", completed_at=IN_WEEK, completed_by=GONE)],
            [(None, IN_WEEK)],
            [Credit(FORMER, ("Talk to your fans",), 1)],
            id="someone who left, and a number with nobody recorded",
        ),
        pytest.param(
            [_rec("pl-fans", "skipped", task_data={"skipped_on": TODAY.isoformat()})],
            [],
            [],
            id="a skip is nobody's credit",
        ),
    ],
)
def test_who_did_what(
    rows: list[ProgressRecord],
    recorded: list[tuple[uuid.UUID | None, datetime]],
    credits: list[Credit],
) -> None:
    assert compose(_band(rows, recorded=recorded)).credits == credits


def test_due_and_overdue_with_whose_job_it_is() -> None:
    release = TODAY + timedelta(days=10)  # upload due 18 days ago, pitch in 3, streams in 45
    digest = compose(
        _band(
            [_rec("pl-master", "completed", completed_at=BEFORE)],
            release=release,
            assigned={"pl-pitch": BEN.user_id, "pl-fans": ANA.user_id, "pl-master": CLEO.user_id},
        )
    )
    assert digest.due == [
        Due("Upload to your distributor", release - timedelta(days=28), None, overdue=True),
        Due("Pitch to editorial playlists", release - timedelta(days=7), BEN),
        Due("Talk to your fans", None, ANA),  # assigned, no date
    ]  # streams (45 days out) not yet; the master is done, whoever had it
    assert digest.mentions == ("1002", "1001")  # the assignees, in listing order
    card = render(digest)
    assert card.form == "digest"
    assert card.mentions == ("1002", "1001")
    text = card.text
    assert "📌 Due and overdue" in text
    assert "Upload to your distributor — ⚠️ overdue since" in text
    assert "→ _nobody yet_" in text
    assert "Pitch to editorial playlists — due " in text
    assert "→ Ben" in text
    assert "Talk to your fans — assigned → Ana" in text
    assert "<@" not in text  # names in words; the front end pings from ``mentions``


@pytest.mark.parametrize(
    ("days", "listed", "overdue"),
    [
        (-1, True, True),
        (0, True, False),
        (AHEAD_DAYS - 1, True, False),
        (AHEAD_DAYS, False, False),
    ],
)
def test_the_due_window(days: int, listed: bool, overdue: bool) -> None:
    """The pitch is due 7 days before the release: move the release to put it ``days`` away."""
    digest = compose(_band(release=TODAY + timedelta(days=days + 7)))
    pitch = [d for d in digest.due if d.title == "Pitch to editorial playlists"]
    assert bool(pitch) is listed
    if listed:
        assert pitch[0].overdue is overdue
        assert pitch[0].who is None


def test_an_assignee_without_an_identity_is_named_never_pinged_and_a_former_one_named() -> None:
    digest = compose(
        _band(
            release=TODAY + timedelta(days=10),
            assigned={"pl-pitch": CLEO.user_id, "pl-fans": GONE},
        )
    )
    whos = {d.title: d.who for d in digest.due}
    assert whos["Pitch to editorial playlists"] == CLEO
    assert whos["Talk to your fans"] == Person(GONE, FORMER)
    assert digest.mentions == ()


def test_only_the_listed_tasks_assignees_are_pinged() -> None:
    many = [
        Due(f"Task {n}", TODAY, Person(uuid.UUID(int=100 + n), f"P{n}", str(5000 + n)))
        for n in range(DUE_LISTED + 3)
    ]
    digest = replace(compose(_band()), due=many)
    assert digest.mentions == tuple(str(5000 + n) for n in range(DUE_LISTED))
    text = render(digest).text
    assert "… and 3 more" in text


def test_a_full_week_shows_the_bands_numbers_goals_streak_and_focus() -> None:
    stats = {
        "monthly_listeners": {
            "value": "1400",
            "at": IN_WEEK.isoformat(),
            "goal": {"target": "2000", "by": (TODAY + timedelta(days=90)).isoformat()},
        }
    }
    streak = _streak(3, best=3, done=True)
    digest = compose(
        _band(
            [_rec("pl-master", "completed", completed_at=IN_WEEK, completed_by=ANA.user_id)],
            recorded=[(BEN.user_id, IN_WEEK)],
            samples=[
                ("monthly_listeners", Decimal(1200), BEFORE - timedelta(days=2)),
                ("monthly_listeners", Decimal(1400), IN_WEEK),
            ],
            current_stats=stats,
            streak=streak,
        )
    )
    assert not digest.quiet
    card = render(digest)
    text = card.text
    assert text.startswith("📣 *The \\*Night\\* Owls* — the week (so far)")  # the name escaped
    assert "🎸 Who did what" in text
    assert "• *Ana*: ✅ Master the song" in text
    assert "• *Ben*: 📈 1 number" in text
    assert "Cleo" not in text  # nothing to credit: not listed
    assert "📊 The band's numbers" in text
    assert "1,200 → *1,400* (▲ +200)" in text
    assert "🎯" in text
    assert "🔥 Streak: *3 weeks* — this week's done." in text
    assert "👉 Next week's focus" in text
    focus = card.all_buttons()
    assert 1 <= len(focus) <= 3
    assert focus[0].payload == OPEN.encode(digest.review.focus[0].task.slug)  # type: ignore[union-attr]
    assert card.mentions == ()  # nothing due: nobody to ping


@pytest.mark.parametrize(
    ("streak_weeks", "focus", "expect"),
    [
        (0, True, ("🌱 A quiet week for *The \\*Night\\* Owls*", "One small step")),
        (4, True, ("One small step", "🔥 Streak: *4 weeks*")),
        (2, False, ("/today shows what's next", "🔥 Streak: *2 weeks*")),
    ],
)
def test_a_quiet_week_is_short(streak_weeks: int, focus: bool, expect: tuple[str, ...]) -> None:
    streak = _streak(streak_weeks, best=4, done=False)
    rows = [] if focus else [_rec(t.slug, "completed", completed_at=BEFORE) for t in TASKS.values()]
    digest = compose(_band(rows, streak=streak))
    assert digest.quiet
    card = render(digest)
    for words in expect:
        assert words in card.text
    if streak_weeks == 0:
        assert "Streak" not in card.text
    assert "Who did what" not in card.text
    assert len(card.all_buttons()) == 1  # one small step (or /today)
    assert card.form == "digest"


def test_no_roadmap_yet_means_nothing_due_and_no_focus() -> None:
    digest = compose(_band(roadmap=None))
    assert (digest.due, digest.credits, digest.review.focus) == ([], [], [])
    assert "/today" in render(digest).text
