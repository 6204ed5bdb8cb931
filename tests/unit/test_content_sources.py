"""Issue #15: the shipped advice is correct, current and sourced, and covers the 2025/26 topics.

Three kinds of check, all over the bundled YAML:

* the claims the issue flagged say what their primary sources say now (CD Baby Pro closed in
  2023; Apple's Sound Check is about -16 LUFS; first reflections come from the side walls, ceiling
  and desk; nobody on stage counts the house; a band's mailing list starts at its first gig...);
* every task that states a number, a fee, a threshold or a platform rule carries a ``# Source:``
  comment inside its own block, and the tasks this issue touched cite the page they were checked
  against (by domain), dated;
* the missing topics of §2 are tasks in the stage where a musician meets them, naming the
  specifics that make them actionable (The MLC, 1,000 streams, Marquee, PRS/ASCAP/BMI/GEMA...).

And the examples: every numeric example lies in a plausible range for a musician at that stage
(a table written here by hand, not derived from the content), and every date example follows its
question's rules on any day, is the earliest date that does, and leaves time for the plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.progress.date_rules import follows
from core.progress.parsing import example_answer, parse_answer
from core.roadmaps.loader import bundled_roadmaps_dir, load_roadmaps
from core.roadmaps.schema import NUMERIC_TYPES, InputType, Roadmap, Task

BUNDLED = {r.slug: r for r in load_roadmaps()}
FILES = sorted(p for p in bundled_roadmaps_dir().iterdir() if p.suffix in {".yaml", ".yml"})
TODAY = date(2026, 12, 1)
ANY_DAY = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))


def _task(slug: str) -> tuple[Roadmap, int, Task]:
    """(roadmap, stage index, task) for a task slug."""
    for roadmap in BUNDLED.values():
        for index, stage in enumerate(roadmap.stages):
            for task in stage.tasks:
                if task.slug == slug:
                    return roadmap, index, task
    raise LookupError(slug)


def _item(slug: str, key: str) -> str:
    task = _task(slug)[2]
    return next(i.text for i in task.items or () if i.key == key)


def _text(task: Task) -> str:
    """Everything a musician reads on a task's card."""
    parts = [task.title, task.description, *(i.text for i in task.items or ())]
    if task.input is not None:
        parts += [task.input.question, task.input.help or ""]
    return "\n".join(parts)


# --- the YAML blocks and their comments --------------------------------------------------------


def _get(mapping: Node, key: str) -> Node | None:
    assert isinstance(mapping, MappingNode)
    for k, v in mapping.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return v
    return None


@dataclass(frozen=True)
class Block:
    """A task's lines in its file, comments included."""

    file: str
    slug: str
    lines: tuple[str, ...]

    @property
    def sources(self) -> list[str]:
        """Each ``# Source:`` comment with the comment lines that continue it."""
        found: list[list[str]] = []
        for raw in self.lines:
            line = raw.strip()
            if line.startswith("# Source:"):
                found.append([line])
            elif line.startswith("#") and found and found[-1]:
                found[-1].append(line)
            elif found and found[-1]:
                found.append([])  # a non-comment line ends the source's paragraph
        return ["\n".join(group) for group in found if group]

    @property
    def comment(self) -> str:
        return "\n".join(line.strip() for line in self.lines if line.strip().startswith("#"))


def _blocks() -> Iterator[Block]:
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        root = yaml.compose(text)
        stages = _get(root, "stages")
        assert isinstance(stages, SequenceNode)
        for stage in stages.value:
            tasks = _get(stage, "tasks")
            assert isinstance(tasks, SequenceNode)
            for task in tasks.value:
                slug = _get(task, "slug")
                assert isinstance(slug, ScalarNode)
                span = lines[task.start_mark.line : task.end_mark.line]
                yield Block(path.name, slug.value, tuple(span))


BLOCKS = {block.slug: block for block in _blocks()}


def test_every_task_has_a_block() -> None:
    slugs = {t.slug for r in BUNDLED.values() for _s, t in r.iter_tasks()}
    assert set(BLOCKS) == slugs


# --- §1: the flagged claims --------------------------------------------------------------------


def test_cd_baby_pro_is_not_recommended_any_more() -> None:
    """CD Baby Pro Publishing was discontinued on 8 Aug 2023; no action may still point to it."""
    for roadmap in BUNDLED.values():
        for _stage, task in roadmap.iter_tasks():
            for item in task.items or ():
                assert "CD Baby Pro" not in item.text, f"{task.slug}.{item.key}"
    admin = _item("iss-rights", "pub-admin")
    assert "The MLC" in admin
    assert "Songtrust" in admin
    assert "support.cdbaby.com" in BLOCKS["iss-rights"].comment
    assert "discontinued on August 8, 2023" in BLOCKS["iss-rights"].comment


def test_the_pre_save_goes_up_weeks_before_release_week() -> None:
    presave = _task("iss-presave")[2]
    week = _task("iss-release-week")[2]
    assert presave.when is not None
    assert week.when is not None
    assert presave.when.due <= -21, "a pre-save needs weeks to collect saves"
    assert week.when.opens is not None
    assert presave.when.due < week.when.opens, "release week only repeats the link"
    assert "once more" in _item("iss-release-week", "presave")


@pytest.mark.parametrize("slug", ["iss-mix-master", "ep-mastering"])
def test_apple_music_is_about_minus_16_not_minus_14(slug: str) -> None:
    task = _task(slug)[2]
    assert "-16" in task.description
    assert "Apple Music" in task.description
    assert "production-expert.com" in BLOCKS[slug].comment
    assert "support.spotify.com/us/artists/article/loudness-normalization" in BLOCKS[slug].comment


@pytest.mark.parametrize("slug", ["iss-mix-master", "ep-mastering"])
def test_spotify_asks_minus_2_dbtp_for_masters_louder_than_minus_14(slug: str) -> None:
    text = _item(slug, "true-peak")
    assert "-1 dBTP" in text
    assert "-2 dBTP" in text
    assert "-14 LUFS" in text


def test_first_reflections_come_from_the_side_walls_ceiling_and_desk() -> None:
    room = _item("ep-studio-basics", "room")
    assert "behind you" not in room
    for surface in ("side walls", "ceiling", "desk", "mirror"):
        assert surface in room, surface
    assert "soundonsound.com" in BLOCKS["ep-studio-basics"].comment


def test_the_daw_question_promises_only_what_the_content_delivers() -> None:
    """No "tips matched to your DAW" (nothing reads the answer); the DAWs the text says the steps
    name are named where the step is."""
    description = _task("ep-daw")[2].description
    assert "matched" not in description
    named = [daw for daw in ("Ableton", "Logic", "Cubase") if daw in description]
    assert named == ["Ableton", "Logic", "Cubase"]
    collect = _item("ep-session-template", "collect")
    for daw in named:
        assert daw in collect, daw


def test_nobody_on_stage_counts_the_house() -> None:
    count = _item("tb-settlement", "count-house")
    assert "yourself" not in count
    assert "during your set" not in count
    assert "off stage" in count
    assert "scan count" in count


def test_the_band_collects_emails_from_its_first_gig() -> None:
    roadmap, index, _ = _task("tb-show-mailing-list")
    assert roadmap.slug == "touring-band"
    first_gig = _task("tb-set-prep")[1]  # the live show is prepared before anything is booked
    assert index == first_gig
    assert index < _task("tb-venue-booking")[1]
    assert "first gig" in roadmap.stages[-1].intro


# --- sources: every number has one, and what this issue touched cites its page ----------------

#: A number with a unit, a fee, a rate or a deadline in a task's text is a claim to source.
CLAIM = re.compile(
    r"\d\s?%|[$€£]\s?\d|\bLUFS\b|\bdBTP\b|\bdBFS\b|\bkHz\b|\bpx\b|\b\d+\s?dB\b"
    r"|\b\d+\s?(?:–|-|to)\s?\d+\s?(?:weeks|months|days|hours)"
    r"|\b\d+\s?(?:weeks|months|days|hours|minutes|seconds)\b"
    r"|\b\d[\d,]*\s(?:streams|monthly listeners)"
)


def _claims(task: Task) -> list[str]:
    parts = [task.description, *(i.text for i in task.items or ())]
    if task.input is not None and task.input.help:
        parts.append(task.input.help)
    return [m.group(0) for part in parts for m in CLAIM.finditer(part)]


def test_the_claim_pattern_finds_numbers_and_not_prose() -> None:
    assert CLAIM.search("about -14 LUFS")
    assert CLAIM.search("1,000 streams in 12 months")
    assert CLAIM.search("Bandcamp keeps 15%")
    assert CLAIM.search("Marquee costs $100")
    assert CLAIM.search("within 12 months")
    assert not CLAIM.search("Pick the single and tell your collaborators")


@pytest.mark.parametrize("slug", sorted(BLOCKS))
def test_a_task_that_states_a_number_cites_a_source(slug: str) -> None:
    task = _task(slug)[2]
    claims = _claims(task)
    if claims:
        assert BLOCKS[slug].sources, f"{slug} states {claims} without a '# Source:' comment"


@pytest.mark.parametrize("slug", sorted(BLOCKS))
def test_every_source_in_a_task_is_dated(slug: str) -> None:
    for line in BLOCKS[slug].sources:
        assert "(checked 2026-12" in line, f"{slug}: {line}"


#: The tasks issue #15 changed or added, and the site each must cite (checked in 2026-12).
TOUCHED_SOURCES: dict[str, tuple[str, ...]] = {
    # §1, flagged
    "iss-rights": ("support.cdbaby.com", "themlc.com"),
    "iss-presave": ("support.spotify.com",),
    "iss-mix-master": ("support.spotify.com", "production-expert.com"),
    "iss-master-lufs": ("support.spotify.com",),
    "ep-mastering": ("support.spotify.com", "production-expert.com"),
    "ep-studio-basics": ("soundonsound.com",),
    "ep-session-template": ("manualshelf.com",),
    "ep-rights": ("themlc.com", "prsformusic.com"),
    "tb-settlement": (),
    # §1, every other claim with a number
    "iss-artwork": ("labelcaster.com",),
    "iss-spotify-pitch": ("dynamoi.com",),
    "iss-distribution": ("kudosdistribution.co.uk",),
    "ep-distribution": ("kudosdistribution.co.uk", "labelcaster.com"),
    "ep-pitch": ("dynamoi.com",),
    "tb-festivals": ("hypebot.com",),
    "tb-venue-booking": ("tunecore.com",),
    "tb-travel-and-beds": ("bcs-bus.com",),
    "tb-show-budget": ("optimismos.com",),
    # §2, added
    "iss-mechanicals": ("themlc.com", "support.cdbaby.com", "prsformusic.com"),
    "iss-youtube": ("intercom.help", "dittomusic.com"),
    "iss-clean-streams": ("support.spotify.com", "support.tunecore.com", "pymnts.com"),
    "iss-paid-promo": ("support.spotify.com", "submithub.com", "groover.co"),
    "iss-sync": ("unitedmasters.com",),
    "iss-setlists": ("prsformusic.com", "ascap.com", "bmi.com", "gema.de"),
    "iss-hearing": ("listensafe.org",),
    "iss-superfans": ("bandcamp.com", "patron.com"),
    "iss-team": ("optimismos.com",),
    "iss-money-admin": ("support.cdbaby.com",),
    "ep-sample-clearance": ("dittomusic.com", "musicproductionwiki.com"),
    "ep-clean-streams": ("support.spotify.com", "support.tunecore.com", "pymnts.com"),
    "ep-paid-promo": ("support.spotify.com", "groover.co"),
    "ep-vinyl": ("haulixdaily.com",),
    "ep-hearing": ("listensafe.org",),
    "ep-superfans": ("bandcamp.com", "patron.com"),
    "ep-team": ("optimismos.com",),
    "ep-money-admin": ("support.cdbaby.com",),
    "tb-hearing": ("listensafe.org",),
    "tb-setlists": ("prsformusic.com", "ascap.com", "bmi.com", "gema.de"),
    "tb-team": ("optimismos.com",),
    "tb-money-admin": ("support.cdbaby.com",),
    "tb-vinyl": ("haulixdaily.com",),
    "tb-superfans": ("bandcamp.com", "patron.com"),
    # the per-country versions of the money-admin tasks (the musician's country, issue #15 §2):
    # each cites the bodies' own pages
    **{
        f"{base}-{code}": sites
        for base in ("iss-money-admin", "ep-money-admin", "tb-money-admin")
        for code, sites in {
            "gb": ("github.com/alphagov", "prsfoundation.com", "artscouncil.org.uk"),
            "us": ("webarchive.library.unt.edu", "support.cdbaby.com", "arts.gov"),
            "de": ("bmas.de", "fitko.net", "initiative-musik.de", "musicboard-berlin.de"),
            "ca": ("canada.ca", "factor.ca", "canadacouncil.ca"),
            "au": ("abr.gov.au", "business.gov.au", "creative.gov.au"),
            "fr": ("sacem.fr", "cnm.fr"),
            "ie": ("revenue.ie", "cultureireland.ie", "imro.ie"),
            "nl": ("kvk.nl", "fondspodiumkunsten.nl"),
        }.items()
    },
}


@pytest.mark.parametrize(("slug", "sites"), sorted(TOUCHED_SOURCES.items()))
def test_a_touched_task_cites_the_page_it_was_checked_against(
    slug: str, sites: tuple[str, ...]
) -> None:
    block = BLOCKS[slug]
    assert block.sources, f"{slug} has no '# Source:' comment"
    cited = block.comment
    for site in sites:
        assert re.search(rf"https://([a-z0-9-]+\.)*{re.escape(site)}/", cited), f"{slug}: {site}"


# --- §2: the missing topics, where a musician meets them --------------------------------------


@dataclass(frozen=True)
class Topic:
    """A topic of issue #15 §2: the task that covers it, its stage, and the specifics it names."""

    slug: str
    stage: str
    words: tuple[str, ...]
    optional: bool | None = None


TOPICS: dict[str, tuple[Topic, ...]] = {
    "sync licensing": (Topic("iss-sync", "release-campaign", ("one-stop", "instrumental")),),
    "YouTube OAC and Content ID": (
        Topic("iss-youtube", "release-setup", ("Official Artist Channel", "Content ID")),
        Topic("ep-sample-clearance", "release", ("Content ID",)),
    ),
    "Spotify's minimum streams": (
        Topic("iss-clean-streams", "release-campaign", ("1,000 streams", "12 months")),
        Topic("ep-clean-streams", "release", ("1,000 streams", "12 months")),
    ),
    "The MLC and mechanicals": (
        Topic("iss-mechanicals", "release-setup", ("The MLC", "mechanical", "MCPS", "£100")),
    ),
    "fake streams and AI disclosure": (
        Topic("iss-clean-streams", "release-campaign", ("guarantee", "AI", "credits")),
        Topic("ep-clean-streams", "release", ("guarantee", "AI", "credits")),
    ),
    "paid promotion and curators": (
        Topic(
            "iss-paid-promo",
            "release-campaign",
            ("Marquee", "Showcase", "Discovery Mode", "SubmitHub", "Groover", "ad"),
            optional=True,
        ),
        Topic("ep-paid-promo", "release", ("Marquee", "Discovery Mode", "Groover"), optional=True),
    ),
    "live setlists with the PRO": (
        Topic("iss-setlists", "play-live", ("PRS", "ASCAP OnStage", "BMI Live", "GEMA")),
        Topic("tb-setlists", "show-day", ("PRS", "ASCAP OnStage", "BMI Live", "GEMA")),
    ),
    "memberships and superfans": (
        Topic("iss-superfans", "play-live", ("Bandcamp", "Patreon"), optional=True),
        Topic("ep-superfans", "dj-sets-and-promo", ("Bandcamp", "Patreon"), optional=True),
        Topic("tb-superfans", "merch-and-fans", ("Bandcamp", "Patreon"), optional=True),
    ),
    "sample clearance": (
        Topic("ep-sample-clearance", "release", ("recording", "publisher", "licence")),
    ),
    "vinyl lead times": (
        Topic("ep-vinyl", "release", ("eight weeks", "test pressing"), optional=True),
        Topic("tb-vinyl", "merch-and-fans", ("eight weeks", "test pressing"), optional=True),
    ),
    "taxes, grants and funding bodies": (
        Topic("iss-money-admin", "play-live", ("W-9", "W-8BEN", "accountant")),
        Topic("iss-money-admin-gb", "play-live", ("Self Assessment", "PRS Foundation")),
        Topic("iss-money-admin-de", "play-live", ("Künstlersozialkasse", "Initiative Musik")),
        Topic("iss-money-admin-us", "play-live", ("W-9", "Schedule SE")),
        Topic("iss-money-admin-ca", "play-live", ("FACTOR", "T2125")),
        Topic("ep-money-admin", "dj-sets-and-promo", ("W-8BEN", "accountant")),
        Topic("ep-money-admin-de", "dj-sets-and-promo", ("Künstlersozialkasse",)),
        Topic("tb-money-admin", "routing-and-budget", ("partnership", "accountant")),
        Topic("tb-money-admin-gb", "routing-and-budget", ("International Showcase Fund",)),
    ),
    "when to hire a manager, agent, publicist": (
        Topic("iss-team", "play-live", ("manager", "agent", "publicist", "15–20%"), optional=True),
        Topic("ep-team", "dj-sets-and-promo", ("manager", "agent", "publicist"), optional=True),
        Topic("tb-team", "press-and-booking", ("manager", "agent", "publicist"), optional=True),
    ),
    "hearing protection": (
        Topic("iss-hearing", "play-live", ("earplugs", "100 dB"), optional=False),
        Topic("ep-hearing", "dj-sets-and-promo", ("earplugs", "100 dB"), optional=False),
        Topic("tb-hearing", "live-show", ("earplugs", "100 dB"), optional=False),
    ),
}

TOPIC_CASES = [(name, topic) for name, topics in TOPICS.items() for topic in topics]


def test_every_topic_of_the_issue_is_listed() -> None:
    assert len(TOPICS) == 13


TOPIC_IDS = [f"{name}:{topic.slug}" for name, topic in TOPIC_CASES]


@pytest.mark.parametrize(("name", "topic"), TOPIC_CASES, ids=TOPIC_IDS)
def test_a_missing_topic_is_a_task_in_its_stage(name: str, topic: Topic) -> None:
    roadmap, index, task = _task(topic.slug)
    assert roadmap.stages[index].slug == topic.stage, f"{name}: {topic.slug}"
    text = _text(task)
    for word in topic.words:
        assert word in text, f"{name}: {topic.slug} does not say {word!r}"
    if topic.optional is not None:
        assert task.optional is topic.optional
    assert task.type == "checklist"
    assert task.items is not None
    assert len(task.items) >= 4, "specific enough to act on today"


# --- examples: realistic for the stage --------------------------------------------------------

#: What a musician at this task's stage plausibly types, by hand from the task's own stage (a
#: first single, a first tour), not from the schema's bounds: (lowest, highest), inclusive.
#: Durations in seconds, money in the unit's currency.
PLAUSIBLE: dict[str, tuple[Decimal, Decimal]] = {
    # indie singer-songwriter: before and around a first single
    "iss-baseline-listeners": (Decimal(0), Decimal(5000)),
    "iss-baseline-instagram": (Decimal(0), Decimal(10000)),
    "iss-master-lufs": (Decimal(-16), Decimal(-9)),
    "iss-list-size": (Decimal(0), Decimal(1000)),
    "iss-open-rate": (Decimal(15), Decimal(60)),
    "iss-followers-tiktok": (Decimal(0), Decimal(10000)),
    "iss-release-budget": (Decimal(0), Decimal(5000)),
    "iss-streams-28d": (Decimal(0), Decimal(50000)),
    "iss-saves-per-listener": (Decimal("0.01"), Decimal("0.6")),
    "iss-top-city-draw": (Decimal(5), Decimal(300)),
    "iss-gig-fee": (Decimal(0), Decimal(1000)),
    # electronic producer: bedroom studio to first club gigs
    "ep-baseline-listeners": (Decimal(0), Decimal(5000)),
    "ep-tracks-finished": (Decimal(1), Decimal(20)),
    "ep-studio-time": (Decimal(3600), Decimal(144000)),
    "ep-master-lufs": (Decimal(-12), Decimal(-5)),
    "ep-true-peak": (Decimal(-3), Decimal("-0.5")),
    "ep-demos-sent": (Decimal(1), Decimal(40)),
    "ep-release-budget": (Decimal(0), Decimal(3000)),
    "ep-playlist-adds": (Decimal(0), Decimal(200)),
    "ep-set-length": (Decimal(1800), Decimal(14400)),
    "ep-gig-fee": (Decimal(0), Decimal(1000)),
    # touring band: club circuit
    "tb-baseline-listeners": (Decimal(0), Decimal(20000)),
    "tb-baseline-instagram": (Decimal(0), Decimal(20000)),
    "tb-set-length": (Decimal(1800), Decimal(7200)),
    "tb-venue-capacity": (Decimal(50), Decimal(1000)),
    "tb-top-city-draw": (Decimal(10), Decimal(500)),
    "tb-cost-per-show": (Decimal(50), Decimal(2000)),
    "tb-shows-booked": (Decimal(1), Decimal(60)),
    "tb-gig-fee": (Decimal(0), Decimal(3000)),
    "tb-merch-per-head": (Decimal("0.5"), Decimal(20)),
    "tb-list-size": (Decimal(0), Decimal(3000)),
    "tb-bandcamp-sales": (Decimal(0), Decimal(2000)),
    # rapper / hip-hop artist: first singles, open mics, first booked shows
    "rap-baseline-listeners": (Decimal(0), Decimal(5000)),
    "rap-baseline-tiktok": (Decimal(0), Decimal(10000)),
    "rap-beat-cost": (Decimal(0), Decimal(500)),
    "rap-streams-28d": (Decimal(0), Decimal(50000)),
    "rap-saves-per-listener": (Decimal("0.01"), Decimal("0.6")),
    "rap-gig-fee": (Decimal(0), Decimal(1000)),
    "rap-merch-sales": (Decimal(0), Decimal(1000)),
    # songwriter / producer: a first catalogue, first syncs and cuts
    "sps-catalogue-size": (Decimal(1), Decimal(100)),
    "sps-registered-share": (Decimal(0), Decimal(100)),
    "sps-sync-fee": (Decimal(50), Decimal(5000)),
    "sps-pitches-sent": (Decimal(1), Decimal(100)),
    "sps-pitch-replies": (Decimal(0), Decimal(20)),
    "sps-producer-fee": (Decimal(50), Decimal(2000)),
    "sps-income-quarter": (Decimal(0), Decimal(5000)),
}


def _numeric_specs() -> dict[str, Task]:
    return {
        t.slug: t
        for r in BUNDLED.values()
        for _s, t in r.iter_tasks()
        if t.input is not None and t.input.type in NUMERIC_TYPES
    }


def test_the_plausible_table_covers_every_numeric_question() -> None:
    assert set(PLAUSIBLE) == set(_numeric_specs())


@pytest.mark.parametrize("slug", sorted(PLAUSIBLE))
def test_the_example_is_plausible_for_the_stage(slug: str) -> None:
    task = _numeric_specs()[slug]
    assert task.input is not None
    assert task.input.example, slug
    value = parse_answer(task.input, task.input.example, today=TODAY, label=slug).value
    assert isinstance(value, Decimal)
    low, high = PLAUSIBLE[slug]
    shown = f"e.g. {task.input.example} = {value}"
    assert low <= value <= high, f"{slug}: {shown}, not in {low}..{high}"


def test_the_plausible_table_rejects_the_issues_examples() -> None:
    """The midpoints the issue quotes would fail here."""
    assert not PLAUSIBLE["iss-baseline-listeners"][1] >= 50000000
    assert not PLAUSIBLE["iss-release-budget"][1] >= 500000
    assert not PLAUSIBLE["ep-true-peak"][0] <= Decimal("-8.5")


# --- examples: dates agree with their question's rules ----------------------------------------


def _dated() -> list[tuple[Roadmap, Task]]:
    return [
        (r, t)
        for r in BUNDLED.values()
        for _s, t in r.iter_tasks()
        if t.input is not None and t.input.type is InputType.DATE
    ]


def test_there_are_dated_questions() -> None:
    slugs = {t.slug for _r, t in _dated()}
    assert slugs == {"iss-release-date", "ep-release-date", "tb-tour-start", "rap-release-date"}


@pytest.mark.parametrize(("roadmap", "task"), _dated(), ids=lambda x: x.slug)
@settings(max_examples=40, deadline=None, database=None)
@given(today=ANY_DAY)
def test_the_date_example_follows_every_rule_and_leaves_time_for_the_plan(
    roadmap: Roadmap, task: Task, today: date
) -> None:
    spec = task.input
    assert spec is not None
    assert spec.rules is not None
    day = parse_answer(spec, example_answer(spec, today=today), today=today, label="date").value
    assert isinstance(day, date)
    assert follows(spec.rules, day, today), f"{task.slug}: {day} for {today}"
    earliest = today + timedelta(days=spec.rules.min_days_ahead or 0)
    skipped = [earliest + timedelta(days=n) for n in range((day - earliest).days)]
    assert not any(follows(spec.rules, d, today) for d in skipped), "not the earliest good date"
    for _stage, timed in roadmap.iter_tasks():
        if timed.when is not None and timed.when.anchor == spec.anchor:
            assert day + timedelta(days=timed.when.due) >= today, timed.slug


@pytest.mark.parametrize("slug", ["iss-release-date", "ep-release-date", "rap-release-date"])
@settings(max_examples=40, deadline=None, database=None)
@given(today=ANY_DAY)
def test_the_release_example_is_a_friday_six_to_eight_weeks_out_when_one_is_free(
    slug: str, today: date
) -> None:
    """The question says "which Friday, 6–8 weeks out": so does its example, unless the holiday
    window leaves no Friday in that span (then the first one after it)."""
    spec = _task(slug)[2].input
    assert spec is not None
    assert spec.rules is not None
    assert "6–8 weeks" in (spec.help or "")
    day = parse_answer(spec, example_answer(spec, today=today), today=today, label="date").value
    assert isinstance(day, date)
    assert day.weekday() == 4
    window = [today + timedelta(days=n) for n in range(42, 57)]
    if any(follows(spec.rules, d, today) for d in window):
        assert day in window, f"{today}: {day}"
