"""What a milestone says: to the musician, and to a band's updates channel.

Short, in the core's markup (rendered per platform), user text escaped. Names come from the
catalog when it still knows them (a stage's title), else the slug stands in. Nothing here
promises what comes next: a milestone is a moment, and the next step stays ``/next``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from core.coaching.milestones.detect import Reached
from core.kernel.markup import bold, esc
from core.progress.metrics import metric_label
from core.progress.parsing import format_number

#: A slug's display name (the catalog's stage or roadmap title), or ``None`` when unknown.
Names = Callable[[str], str | None]


def _count(raw: str, locale: str | None = None) -> str:
    """``1000`` → the musician's locale's ``1,000`` / ``1.000``; with no locale known (a
    band's channel, read by people of several) the neutral ``1 000``."""
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        return raw
    shown = format_number(value, locale, places=4, whole_from=None)  # the display module's
    if locale is not None:
        return shown
    return shown.replace(",", " ") if value == value.to_integral() else shown


def _named(slug: str, names: Names) -> str:
    return esc(names(slug) or slug)


def to_musician(reached: Reached, names: Names, locale: str | None = None) -> str:
    """The notice that celebrates ``reached`` with the musician (figures in ``locale``)."""
    d = reached.detail
    if reached.kind == "metric":
        label = esc(metric_label(d["metric"]).lower())
        return (
            f"🎉 {bold(_count(d['threshold'], locale) + ' ' + label)}! You passed it with "
            f"{esc(_count(d['value'], locale))}. /stats shows the climb."
        )
    if reached.kind == "first-paid-gig":
        return (
            f"💸 {bold('Your first paid gig!')} Playing for money is a real step. "
            "Keep recording your fees: /stats shows them over time."
        )
    if reached.kind == "release-day":
        return (
            f"🚀 {bold('Release day!')} Today is the day your music is out. "
            "Share the link with your fans, and enjoy it."
        )
    if reached.kind == "goal":
        return f"🎯 {bold('Goal reached')}: {esc(metric_label(d['metric']))}."
    if reached.kind == "stage":
        return f"🏁 {bold('Stage complete')}: {_named(d['stage'], names)}."
    return f"🏆 {bold('Roadmap complete')}: {_named(d.get('roadmap', ''), names)}."


def to_band(band: str, reached: Reached, names: Names) -> str:
    """The band channel's line about one of the band's milestones."""
    d = reached.detail
    who = bold(esc(band))
    if reached.kind == "metric":
        label = esc(metric_label(d["metric"]).lower())
        return f"🎉 {who} passed {bold(_count(d['threshold']) + ' ' + label)}!"
    if reached.kind == "first-paid-gig":
        return f"💸 {who} played their first paid gig!"
    if reached.kind == "release-day":
        return f"🚀 Release day for {who}! The music is out today."
    if reached.kind == "goal":
        return (
            f"🎯 {who} reached their {esc(metric_label(d['metric']).lower())} goal "
            f"of {esc(_count(d['target']))}!"
        )
    if reached.kind == "stage":
        return f"🏁 {who} completed the stage {_named(d['stage'], names)}!"
    return f"🏆 {who} completed the roadmap {_named(d.get('roadmap', ''), names)}!"
