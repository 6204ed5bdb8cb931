"""The profile's currency: settled by its first money answer, changed with ``/currency``.

Decision (issue #15 §3, "asked once"): the coach never stops a musician to ask for a currency
before they have typed an amount — most never need to think about it. The first money answer
settles it: the currency that amount names ("£150" → GBP), else the one the platform's locale
suggests ("de-CH" → CHF), else the question's own (EUR). The reply says which, once, and how to
change it; ``/currency`` shows it and ``/currency USD`` changes it. Amounts already stored keep
their own currency: nothing is converted (we ship no exchange rates because we could not keep
them current).

An amount in another currency than the profile's is stored with its currency and shown as
typed; it is not compared with the last figure, not measured against a goal (a goal is in the
profile's currency) and not drawn on the chart — the reply says so instead of guessing.
"""

from __future__ import annotations

from typing import Any

from babel.numbers import get_currency_name

from core.kernel.markup import bold, esc, italic
from core.kernel.turn import Turn
from core.kernel.types import Message, Outbound
from core.progress.parsing import Parsed
from core.progress.parsing.currencies import codes_for, is_code
from core.progress.parsing.locales import babel_locale, currency_guess


def name_of(code: str) -> str:
    """ "US dollars (USD)": the currency's plural name in the coach's language, with its code."""
    try:
        name = get_currency_name(code, count=2, locale=babel_locale(None))
    except (KeyError, ValueError):  # pragma: no cover - Babel names every code it lists
        name = code
    return f"{name} ({code})" if name != code else code


def settle(turn: Turn, parsed: Parsed) -> str | None:
    """Keep the profile's currency after a money answer; the line the reply adds, if any.

    The first money answer settles it (once, said once). Later, an amount in another currency
    gets a short note that it was kept as typed and why it is not compared.
    """
    code = parsed.currency
    if code is None:
        return None
    if turn.rec.currency is None:
        turn.set_profile(currency=code)
        guessed = currency_guess(turn.reading.locale, turn.today)
        why = "from your language setting" if guessed == code else "from your first amount"
        return (
            f"💱 I'll count your money in {bold(esc(name_of(code)))} — {why}. "
            f"{italic('Another currency? Send /currency and its code, e.g. /currency USD.')}"
        )
    if code != turn.rec.currency:
        return (
            f"💱 Kept in {esc(code)}, as you typed it — I don't convert currencies, so it isn't "
            f"compared with your {esc(turn.rec.currency)} figures."
        )
    return None


def comparable(parsed: Parsed, entry: Any) -> Any:
    """The ``current_stats`` entry a new answer is compared with: the entry itself, or — when
    its latest amount was in another currency than this one — the figure kept beside it in
    this currency (``entry["home"]``, :func:`core.journey.samples.home_figure`)."""
    if not isinstance(entry, dict) or parsed.currency is None:
        return entry
    unit = entry.get("unit")
    if unit is None or str(unit).upper() == parsed.currency:
        return entry
    kept = entry.get("home")
    if isinstance(kept, dict) and str(kept.get("unit", "")).upper() == parsed.currency:
        return kept
    return entry


def same_currency(turn: Turn, parsed: Parsed, previous_unit: object) -> bool:
    """Whether a money answer can be compared with a previous figure kept in ``previous_unit``
    (non-money answers always can)."""
    if parsed.currency is None:
        return True
    return previous_unit is None or str(previous_unit).upper() == parsed.currency


async def currency_command(turn: Turn, args: str) -> list[Outbound]:
    """``/currency``: show the profile's currency; ``/currency GBP`` (or "£") changes it."""
    wanted = args.strip()
    current = turn.rec.currency
    if not wanted:
        if current is None:
            guess = currency_guess(turn.reading.locale, turn.today)
            hint = f" (your language setting suggests {esc(guess)})" if guess else ""
            return [
                Message(
                    text="Your currency isn't set yet — your first amount will set it"
                    f"{hint}. To choose now: /currency EUR, /currency USD, /currency GBP …"
                )
            ]
        return [
            Message(
                text=f"Your money is counted in {bold(esc(name_of(current)))}. "
                "To change it: /currency and a code, e.g. /currency USD. "
                "Amounts you already gave keep their currency (I don't convert)."
            )
        ]
    code = _code(wanted)
    if code is None:
        return [
            Message(
                text=f"I don't know the currency “{esc(wanted[:20])}”. "
                "Please use its three-letter code, e.g. /currency EUR or /currency USD."
            )
        ]
    if code == current:
        return [Message(text=f"It's already {bold(esc(name_of(code)))}.")]
    turn.set_profile(currency=code)
    return [
        Message(
            text=f"✅ From now on I count your money in {bold(esc(name_of(code)))}. Amounts you "
            "already gave stay in their own currency — I don't convert (no exchange rates I "
            "could keep current)."
        )
    ]


def _code(text: str) -> str | None:
    """A currency code from ``/currency``'s argument: an ISO code, or a symbol or word that
    names exactly one currency ("£", "euros")."""
    token = text.split(maxsplit=1)[0] if text.split() else ""
    if is_code(token):
        return token.upper()
    codes = codes_for(token)
    return codes[0] if len(codes) == 1 else None
