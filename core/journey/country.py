"""The profile's country: which country's tax, grant and funding advice the musician sees.

Decision (issue #15 §2, "the musician's country asked once"), mirroring the currency
(:mod:`core.journey.currency`): nobody is asked up front — most of a roadmap is the same
everywhere. The country matters only for the tasks that have countries' versions
(``variant_of`` / ``only_if: {country: …}`` in the content). The first time such a task is about
to be shown and the profile has no country yet:

* the coach asks, once: buttons for the countries the content has advice for, and "Other"
  (stored as ``ZZ``: the general advice). A typed name or code answers too.
* a platform locale that names a region (Telegram's ``language_code`` "en-GB", "pt-br";
  Discord's locale "en-GB") only *suggests* one: it comes first, marked as what the language
  setting says. It never settles the country by itself: a platform's locale is a language
  choice, and several pair a language with one default region whoever picks it (Discord's
  English is "en-US" unless changed, its Portuguese "pt-BR", its Swedish "sv-SE"), so a British
  musician on Discord in "en-US" would be given US tax advice without being asked. One tap is
  cheaper than advice for the wrong country. A bare language ("en", "de") suggests nothing
  (German is spoken in three).

A band's country is the band's: its server's locale is one member's, so a band is always asked,
and only a manager's answer (or ``/country``) sets it (core/bands/routes.py). ``/country``
shows and changes it any time; the next task card follows.
"""

from __future__ import annotations

from typing import Final

from core.journey.buttons import COUNTRY
from core.journey.states import Awaiting
from core.journey.streak import is_band_turn
from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Button, Message, Outbound
from core.progress.parsing.countries import OTHER, country_code, country_name
from core.progress.parsing.locales import region_of
from core.roadmaps.catalog import TaskInfo

#: The countries offered as buttons: the ones the content has tax and funding advice for.
MAIN: Final = ("GB", "US", "DE", "CA", "AU", "FR", "IE", "NL")
_EXAMPLES: Final = "/country UK, /country Deutschland, /country CA"


def flag(code: str) -> str:
    """The country's flag emoji (regional indicator letters); 🌍 for "other"."""
    if code == OTHER or len(code) != 2 or not code.isalpha():
        return "🌍"
    return "".join(chr(0x1F1E6 + ord(c) - ord("A")) for c in code.upper())


def name_of(code: str) -> str:
    """ "United Kingdom (GB)", or "somewhere else" for :data:`OTHER`."""
    if code == OTHER:
        return country_name(code)
    return f"{country_name(code)} ({code})"


def needed(turn: Turn, task: TaskInfo) -> bool:
    """Whether showing ``task`` needs the profile's country first (not settled yet, and what
    the task says differs by country)."""
    return turn.rec.country is None and turn.catalog.depends_on_country(task)


def suggested(turn: Turn) -> str | None:
    """The country the musician's language setting names ("en-GB" → GB), offered first in the
    question; ``None`` for a bare language, an unknown tag, or a band (its server's locale is
    one member's)."""
    return None if is_band_turn(turn) else region_of(turn.inbound.locale or turn.rec.locale)


def _button(code: str, suffix: str = "") -> Button:
    return Button(
        label=f"{flag(code)} {country_name(code)}{suffix}", payload=COUNTRY.encode(code.lower())
    )


def question(turn: Turn, task: TaskInfo) -> Outbound:
    """The one country question, before ``task`` (which it comes back to once answered); the
    language setting's country, if it names one, first."""
    turn.set_state(Awaiting.COUNTRY, task)
    guess = suggested(turn)
    buttons = [_button(code) for code in MAIN if code != guess]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    if guess is not None:
        rows.insert(0, (_button(guess, " (your language setting)"),))
    rows.append((Button(label="🌍 Other", payload=COUNTRY.encode(OTHER.lower())),))
    who = "does the band pay" if is_band_turn(turn) else "do you pay"
    text = (
        f"🌍 One question before {bold(esc(task.title))}: which country {who} tax in? "
        "Tax, grants and funding bodies differ by country, so I'll show the advice for yours. "
        "I'll only ask this once."
    )
    if is_band_turn(turn):
        text += "\n" + italic("A manager answers for the band (or /country <name>).")
    else:
        text += "\n" + italic("Not listed? Type its name (e.g. Sweden) or tap Other.")
    return Message(text=text, buttons=tuple(rows))


def chosen(turn: Turn, code: str) -> Message:
    """Keep ``code`` as the profile's country; the confirmation."""
    turn.set_profile(country=code)
    if code == OTHER:
        return Message(
            text="🌍 OK — I'll give you the general advice, which works anywhere. "
            f"If your country gets its own later, {_EXAMPLES.split(',')[0]} sets it."
        )
    whose = "the band's" if is_band_turn(turn) else "your"
    return Message(
        text=f"{flag(code)} Got it: {bold(esc(name_of(code)))}. Tax and funding advice is "
        f"{whose} country's from now on. /country changes it."
    )


def parse(text: str) -> str | None:
    """A country from what was typed (:func:`~core.progress.parsing.countries.country_code`)."""
    return country_code(text[:60])


def unknown(text: str) -> Message:
    """The answer to something that names no country."""
    return Message(
        text=f"I don't know the country “{esc(text.strip()[:30])}”. Please type its name or "
        f"its two-letter code, e.g. {_EXAMPLES} — or /country other for the general advice."
    )


def show(turn: Turn) -> Message:
    """``/country`` alone: the profile's country and how to change it."""
    current = turn.rec.country
    whose = "The band's" if is_band_turn(turn) else "Your"
    if current is None:
        guess = suggested(turn)
        hint = f" (your language setting says {esc(name_of(guess))})" if guess else ""
        return Message(
            text=f"{whose} country isn't set yet{hint} — I'll ask when it first matters "
            f"(tax and funding advice). To set it now: {_EXAMPLES}."
        )
    if current == OTHER:
        what = "not one I have country advice for: you get the general advice"
    else:
        what = bold(esc(name_of(current)))
    return Message(
        text=f"{flag(current)} {whose} country: {what}. To change it: {_EXAMPLES}, "
        "or /country other."
    )


def change(turn: Turn, args: str) -> Message:
    """``/country <name or code>``: change it (the caller checked who may)."""
    code = parse(args)
    if code is None:
        return unknown(args)
    if code == turn.rec.country:
        return Message(text=f"It's already {bold(esc(name_of(code)))}.")
    return chosen(turn, code)
