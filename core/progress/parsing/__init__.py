"""Turn a musician's free-text answer into a validated value, or a friendly, specific re-ask.

Musicians answer data-input questions in chat, the way they would text a friend: "12.5k",
"about 300 listeners", "€1.200,50", "3:20", "next friday". :func:`parse_answer` accepts the
common ways of writing each :class:`~core.roadmaps.schema.InputType` and, when it cannot use an
answer, raises :class:`InvalidAnswer` whose ``message`` says exactly what to send instead. It is
pure: no I/O, no clock (``today`` is passed in), :class:`~decimal.Decimal` throughout (never
float, so "0.1" stays exact), and for any ``str`` it raises nothing but :class:`InvalidAnswer`.

Decisions on inputs that could be read more than one way (the tests pin each of them):

* **Cleaning.** Control characters (NUL, C0/C1, lone surrogates) are removed; tabs and line
  breaks become spaces, except in ``text`` answers, which keep their line breaks. Outside
  ``text``, invisible format characters (zero-width spaces, bidi marks) are dropped and runs of
  whitespace collapse to one space; ``text`` keeps them, so emoji sequences and RTL text survive.
  Non-ASCII decimal digits (Arabic-Indic, full-width, ...) are read as their ASCII digits in
  numbers, dates and choice numbers.
* **Numbers.** In English a single dot is a decimal point ("1.234" is one point two three four,
  so for an ``integer`` it is rejected as not whole, with a hint to drop the dot if it separates
  thousands; for money it is asked about, see **Money**). A single comma followed by exactly
  three digits separates thousands ("1,234" is 1234); followed by one or two digits it is a
  decimal comma ("12,5"); any other single comma is rejected. With two kinds of separator the
  last one is the decimal mark ("1,234.5", "1.234,5"). Spaces and apostrophes only separate
  thousands ("12 500", "12'500"). Thousands groups must have three digits (so Indian "1,23,456"
  is rejected). Multipliers: only ``k`` / "thousand" and ``m`` / "million" / "mio" / "mln"; any
  other letter straight after a number ("2b", "3 bn") is rejected with a message naming k and M.
  A leading "about", "around", "approx.", "roughly", "circa", "~" or "≈" is ignored. One
  trailing word is allowed only if it is the spec's ``unit`` (case-insensitive, with or without
  a plural "s"); any other trailing word is rejected, naming the word. (With a decimal-comma
  locale, see **Locales** below.) Exponent notation is accepted when the result is finite and
  has at most 15 integer digits ("1e5" is 100000; "1e309", "NaN", "inf" are "too big").
* **Rounding.** ``integer`` has no decimals (and must be whole after k/M expansion); ``money``
  is rounded half-up to the currency's decimals (cents; none for yen); ``decimal`` and
  ``percent`` keep up to 4 decimals (rounded half-up); ``duration`` is rounded half-up to whole
  seconds.
* **Money.** Symbols, words and ISO codes are accepted before or after the amount (symbols
  and codes from Babel's CLDR data). An amount without one is in the musician's currency
  (``Reading.currency``; before it is settled, the question's ``unit``). One that names a
  currency is in that currency: a shared symbol ("$", "kr", "¥") means the musician's own when
  it can, else their locale's, else the usual one ("$" is USD, "¥" JPY), and is asked about
  when none applies ("300 kr" for a euro musician). Another currency than the musician's is
  kept as typed, never converted, and only held to "not negative" (the content's bounds are in
  its own currency). Amounts are rounded half-up to the currency's decimals (JPY none) and
  shown with them. "€1.500" and any lone separator before three digits that the locale does
  not settle are asked about (:class:`~core.progress.parsing.numbers.AmbiguousNumber`).
* **Locales.** ``Reading.locale`` decides the one case that depends on it: in a locale that
  writes a decimal comma (de, fr, pt-BR), a lone "." before three digits groups thousands
  ("1.500" is 1500) and a lone "," before three digits is asked about.
* **Approximate numbers.** "about", "around", "roughly", "approx.", "circa", "like", "maybe",
  "nearly", "almost", "~", "≈" before and "or so", "ish", "-odd", "give or take" after a
  number are read around it; :attr:`Parsed.approximate` says the musician gave an estimate.
* **Percent.** "15", "15%", "15 percent" are all 15 (never 0.15); "0.15" is 0.15%. The range is
  0-100 unless the spec's min/max say otherwise.
* **Duration.** "m:ss" and "h:mm:ss" clocks ("1:30" is one minute thirty); units h / min / s in
  that order ("1h30" is 90 minutes, "3m20" is 200 seconds). A bare number is in the spec's
  ``unit`` when that is seconds, minutes or hours, otherwise minutes. ``min``/``max`` of a
  duration spec are in seconds, like the stored value; a duration is never negative.
* **Dates.** "friday" and "this friday" mean the next Friday on or after today (today, if it is
  a Friday); "next friday" means the first Friday strictly after today. A date without a year is
  its next occurrence on or after today. "04.12.2026" (dots) is always day first; "4/12/2026" and
  "4-12-2026" are accepted only when unambiguous (one part above 12, or both equal), otherwise
  the musician is asked to write the ISO form; two-digit years ("04.12.26") mean 20xx and are
  only read in these numeric forms. Also "today", "tomorrow", "yesterday", "in 3 weeks",
  "in a week", "10 days from now", "in 2 months" (same day, clamped to the month's end). A
  leading weekday ("Fri 4 Dec 2026", the display form) must match the date. Past dates are
  fine; years must lie between 1900 and 100 years from today.
* **URLs.** Only http(s) with a dotted host and no user/password; a missing scheme gets
  "https://"; scheme and host are lower-cased; trailing sentence punctuation is dropped.
* **Choices.** An exact (case-insensitive) text match wins, then a 1-based number, then a unique
  prefix of at least two characters.

The package is split by concern. Import from ``core.progress.parsing`` itself (the names in
``__all__``); the submodules and their underscored helpers are internal:

* :mod:`~core.progress.parsing.dispatch` - :func:`parse_answer`, the entry point.
* :mod:`~core.progress.parsing.results` - :class:`Parsed` and :class:`InvalidAnswer`.
* :mod:`~core.progress.parsing.cleaning` - control characters, whitespace, non-ASCII digits.
* :mod:`~core.progress.parsing.numbers` - number grammar; integer, decimal and percent answers.
* :mod:`~core.progress.parsing.bounds` - effective min/max and the out-of-range re-ask.
* :mod:`~core.progress.parsing.rounding` - shared Decimal rounding helpers.
* :mod:`~core.progress.parsing.currencies` and :mod:`~core.progress.parsing.money` - money.
* :mod:`~core.progress.parsing.durations`, :mod:`~core.progress.parsing.dates`,
  :mod:`~core.progress.parsing.urls`, :mod:`~core.progress.parsing.choices`,
  :mod:`~core.progress.parsing.text` - one input type each.
* :mod:`~core.progress.parsing.display` - every number, amount and change shown to a
  musician (:func:`format_value`, :func:`format_number`, :func:`format_signed`,
  :func:`format_money`, :func:`format_compact`, :func:`counted`), through Babel.
* :mod:`~core.progress.parsing.locales` - :class:`Reading` (the musician's locale and
  currency), locale tags to Babel, the currency a locale suggests.
* :mod:`~core.progress.parsing.examples` - :func:`example_answer`.
* :mod:`~core.progress.parsing.magnitude` - :func:`is_far_from`.
"""

from __future__ import annotations

# The limits stay importable from here, as they were before the split into submodules.
from core.progress.parsing.cleaning import MAX_ANSWER_CHARS as MAX_ANSWER_CHARS
from core.progress.parsing.dispatch import parse_answer
from core.progress.parsing.display import (
    counted,
    format_compact,
    format_money,
    format_number,
    format_signed,
    format_value,
)
from core.progress.parsing.examples import example_answer
from core.progress.parsing.locales import PLAIN, Reading
from core.progress.parsing.magnitude import is_far_from
from core.progress.parsing.numbers import MAX_INTEGER_DIGITS as MAX_INTEGER_DIGITS
from core.progress.parsing.results import InvalidAnswer, Parsed
from core.progress.parsing.text import TEXT_MAX_DEFAULT as TEXT_MAX_DEFAULT
from core.progress.parsing.text import TEXT_MIN_DEFAULT as TEXT_MIN_DEFAULT

__all__ = [
    "PLAIN",
    "InvalidAnswer",
    "Parsed",
    "Reading",
    "counted",
    "example_answer",
    "format_compact",
    "format_money",
    "format_number",
    "format_signed",
    "format_value",
    "is_far_from",
    "parse_answer",
]
