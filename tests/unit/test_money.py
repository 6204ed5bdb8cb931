"""Money in any currency, numbers in the musician's locale, approximate numbers (issue #15 §3,
§4): the rules as tables. Pure (no I/O): the parser, the display module and the locale guesses.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from core.progress.parsing import InvalidAnswer, Parsed, example_answer, format_value, parse_answer
from core.progress.parsing.display import (
    counted,
    format_compact,
    format_money,
    format_number,
    format_signed,
)
from core.progress.parsing.locales import Reading, babel_locale, currency_guess, uses_decimal_comma
from core.roadmaps.schema import InputSpec, InputType

TODAY = date(2026, 12, 7)
FEE = InputSpec(
    type=InputType.MONEY, question="Fee?", unit="EUR", min=Decimal(0), max=Decimal(1000000)
)
OPEN_FEE = FEE.model_copy(update={"max": None})
LISTENERS = InputSpec(type=InputType.INTEGER, question="Listeners?", unit="listeners")
PEOPLE = InputSpec(type=InputType.INTEGER, question="How many came?", unit="people")
LUFS = InputSpec(type=InputType.DECIMAL, question="Loudness?", unit="LUFS")


def money(raw: str, locale: str | None = None, currency: str | None = None) -> Parsed:
    return parse_answer(
        FEE, raw, today=TODAY, label="the fee", reading=Reading(locale=locale, currency=currency)
    )


def refused(s: InputSpec, raw: str, locale: str | None = None, currency: str | None = None) -> str:
    with pytest.raises(InvalidAnswer) as caught:
        parse_answer(s, raw, today=TODAY, label="the fee", reading=Reading(locale, currency))
    return caught.value.message


# ------------------------------------------------------------------------ money: what is read

# (raw, locale, profile currency) -> (amount, currency it is stored in)
MONEY_READ: list[tuple[str, str | None, str | None, str, str]] = [
    # the profile's currency, by symbol, code, word or nothing at all
    ("$200", None, "USD", "200.00", "USD"),
    ("200 USD", None, "USD", "200.00", "USD"),
    ("200 dollars", None, "USD", "200.00", "USD"),
    ("200 bucks", None, "USD", "200.00", "USD"),
    ("200", None, "USD", "200.00", "USD"),
    ("£150", None, "GBP", "150.00", "GBP"),
    ("150 quid", None, "GBP", "150.00", "GBP"),
    ("150 pounds", "en-GB", "GBP", "150.00", "GBP"),
    ("GBP 150", None, "GBP", "150.00", "GBP"),
    ("150", None, "GBP", "150.00", "GBP"),
    # a shared symbol means the profile's own currency when it can
    ("$200", "en-CA", "CAD", "200.00", "CAD"),
    ("$200", None, "AUD", "200.00", "AUD"),
    ("200 kr", "sv", "SEK", "200.00", "SEK"),
    ("200 kr", "nb", "NOK", "200.00", "NOK"),
    ("¥3000", None, "CNY", "3000.00", "CNY"),
    # ... else the locale's, else the usual reading ("$" alone is US dollars)
    ("$200", "en-AU", None, "200.00", "AUD"),
    ("$200", None, None, "200.00", "USD"),
    ("$200", None, "EUR", "200.00", "USD"),
    ("¥3000", None, "EUR", "3000", "JPY"),
    # another currency than the profile's: kept as typed, never converted
    ("£150", None, "EUR", "150.00", "GBP"),
    ("200 USD", None, "EUR", "200.00", "USD"),
    ("CHF 80", "de", "EUR", "80.00", "CHF"),
    ("R$ 500", None, "EUR", "500.00", "BRL"),
    ("₹2,000", None, "EUR", "2000.00", "INR"),
    ("500 zł", None, "EUR", "500.00", "PLN"),
    ("80 NGN", None, "EUR", "80.00", "NGN"),
    # no currency yet: the question's own (EUR) unless the locale guessed one (Turn.reading)
    ("300", None, None, "300.00", "EUR"),
    ("€300", None, None, "300.00", "EUR"),
    # currency precision: yen have no cents, euros two
    ("¥1500.4", None, "JPY", "1500", "JPY"),
    ("€12.345,6", "de", "EUR", "12345.60", "EUR"),
    # zero is an amount (a free show): accepted
    ("€0", None, "EUR", "0.00", "EUR"),
    ("0", None, "EUR", "0.00", "EUR"),
    ("$0.00", None, "USD", "0.00", "USD"),
    # emoji and chatter around an amount are not in the way of the cleaning
    ("€300\u200b", None, "EUR", "300.00", "EUR"),
]


@pytest.mark.parametrize(("raw", "locale", "home", "amount", "code"), MONEY_READ)
def test_money_is_read_in_its_currency(
    raw: str, locale: str | None, home: str | None, amount: str, code: str
) -> None:
    parsed = money(raw, locale, home)
    assert (str(parsed.value), parsed.currency) == (amount, code)
    assert parsed.numeric == Decimal(amount)
    # the echo reads back as the same amount in the same currency
    again = money(parsed.display, locale, home)
    assert (again.value, again.currency) == (parsed.value, parsed.currency)


# ------------------------------------------------------------------------ separators by locale

# (raw, locale) -> amount, or None: asked (two readings fit, the locale does not settle them)
SEPARATORS: list[tuple[str, str | None, str | None]] = [
    ("€1.500", None, None),  # English: €1.50 or €1,500.00? ask
    ("€1.500", "en", None),
    ("€1.500", "en-GB", None),
    ("1.500 €", "de", "1500.00"),  # German groups with a dot
    ("€1.500", "de", "1500.00"),
    ("€1.500,00", None, "1500.00"),  # two marks: the last one is the decimal mark
    ("€1.500,00", "en", "1500.00"),
    ("€1.500,00", "de", "1500.00"),
    ("€1,500.00", "de", "1500.00"),
    ("€1,500", None, "1500.00"),  # English groups with a comma
    ("€1,500", "en-US", "1500.00"),
    ("€1,500", "de", None),  # German: 1,500 € is €1.50 or a typo for 1.500? ask
    ("1,500 €", "fr", None),
    ("1 500 €", "fr", "1500.00"),
    ("1\u202f500,50\xa0€", "fr", "1500.50"),  # French as Babel writes it (narrow spaces)
    ("1'500.50 CHF", "de-CH", "1500.50"),
    ("1’500 CHF", "de-CH", "1500.00"),
    ("€1,50", None, "1.50"),  # one or two digits after a comma: decimals everywhere
    ("€1,5", "de", "1.50"),
    ("€1.5", "de", "1.50"),
    ("€1.50", None, "1.50"),
    ("€0.005", None, "0.01"),  # a leading zero is no thousands group
    ("€1.500.000", None, "1500000.00"),
    ("€1.500.000", "de", "1500000.00"),
    ("€1,500,000", None, "1500000.00"),
    ("€1.000.000,01", "de", None),  # over the content's maximum: refused, see below
    ("€1.2k", None, "1200.00"),
    ("€1,2k", "de", "1200.00"),
]


@pytest.mark.parametrize(("raw", "locale", "amount"), SEPARATORS)
def test_separators_follow_the_locale_or_are_asked_about(
    raw: str, locale: str | None, amount: str | None
) -> None:
    if raw.endswith(",01"):
        assert "above the maximum" in refused(FEE, raw, locale, "EUR")
        return
    if amount is not None:
        home = "CHF" if "CHF" in raw else "EUR"
        reading = Reading(locale, home)
        parsed = parse_answer(OPEN_FEE, raw, today=TODAY, label="the fee", reading=reading)
        assert str(parsed.value) == amount
        return
    message = refused(FEE, raw, locale, "EUR")
    assert "I'd rather ask than guess" in message
    assert "1500" in message  # both readings are offered, in a form that parses


def test_the_ambiguity_question_names_both_amounts_in_the_currency() -> None:
    message = refused(FEE, "€1.500", None, "EUR")
    assert message == (
        "is “1.500” €1,500.00 or €1.50? Please write 1500 or 1.5 — I'd rather ask than guess."
    )
    german = refused(FEE, "1,500 €", "de", "EUR")
    assert "1.500,00\xa0€" in german
    assert "1,50\xa0€" in german
    assert "Please write 1500 or 1,5" in german  # the way a German types it back


def test_an_ambiguous_count_is_asked_about_in_the_locales_own_marks() -> None:
    message = refused(LISTENERS, "12,500", "de", None)
    assert message == (
        "“12,500” could be 12500 or 12,5 — please write it again as 12500 or 12,5 so I don't guess."
    )
    assert str(parse_answer(LISTENERS, "12500", today=TODAY, label="x").value) == "12500"


def test_both_answers_to_the_question_parse() -> None:
    assert money("1500", None, "EUR").value == Decimal("1500.00")
    assert money("1.5", None, "EUR").value == Decimal("1.50")


# ------------------------------------------------------------------------ money: what is refused

MONEY_REFUSED: list[tuple[str, str | None, str | None, str]] = [
    ("300 kr", None, "EUR", "which currency is “kr”?"),  # SEK, NOK, DKK, ISK: ask
    ("$5 €", None, "EUR", "names two currencies"),
    ("€", None, "EUR", "I need an amount for the fee"),
    ("lots of money", None, "EUR", "I need an amount"),
    ("-€5", None, "EUR", "negative"),
    ("-£5", None, "EUR", "negative"),  # another currency: still no negative fee
    ("€2000000", None, "EUR", "above the maximum"),
    ("€1e16", None, "EUR", "too big"),
    ("💸💸💸", None, "EUR", "I need an amount"),
    ("€" + "9" * 300, None, "EUR", "too long"),
    ("€300 🎸", None, "EUR", "I need an amount"),
]


@pytest.mark.parametrize(("raw", "locale", "home", "message"), MONEY_REFUSED)
def test_money_refusals_say_what_to_send(
    raw: str, locale: str | None, home: str | None, message: str
) -> None:
    assert message in refused(FEE, raw, locale, home)


def test_another_currencys_amount_is_not_held_to_the_contents_maximum() -> None:
    """The content's bounds are in its own currency; without rates only the sign is checked."""
    assert money("¥2000000", None, "EUR").value == Decimal(2000000)
    assert "above the maximum" in refused(FEE, "€2000000", None, "EUR")


def test_the_currency_and_the_estimate_flag_survive_the_stored_json() -> None:
    parsed = money("about £150", None, "EUR")
    assert parsed.approximate
    assert parsed.currency == "GBP"
    assert Parsed.from_json(parsed.to_json()) == parsed
    old = {"value": "3.00", "display": "€3.00", "type": "decimal"}  # a row from before
    assert Parsed.from_json(old).currency is None


# ------------------------------------------------------------------------ approximate numbers

APPROXIMATE: list[tuple[InputSpec, str, str]] = [
    (LISTENERS, "80 or so", "80"),
    (PEOPLE, "like 40 people", "40"),
    (LISTENERS, "3ish", "3"),
    (LISTENERS, "3-ish", "3"),
    (LISTENERS, "about 1.2k", "1200"),
    (LISTENERS, "~500", "500"),
    (LISTENERS, "≈500", "500"),
    (LISTENERS, "roughly 2 thousand", "2000"),
    (LISTENERS, "around 80", "80"),
    (LISTENERS, "approx. 80", "80"),
    (LISTENERS, "maybe 80", "80"),
    (LISTENERS, "nearly 300 listeners", "300"),
    (LISTENERS, "40-odd", "40"),
    (LISTENERS, "200 give or take", "200"),
    (LISTENERS, "80ish listeners", "80"),
    (LISTENERS, "circa 80", "80"),
    (PEOPLE, "like 40", "40"),
    (LUFS, "about -9.5", "-9.5"),
    (FEE, "about €300", "300.00"),
    (FEE, "€300 or so", "300.00"),
]


@pytest.mark.parametrize(("s", "raw", "value"), APPROXIMATE)
def test_approximate_numbers_are_read_and_flagged(s: InputSpec, raw: str, value: str) -> None:
    parsed = parse_answer(s, raw, today=TODAY, label="it", reading=Reading(currency="EUR"))
    assert str(parsed.value) == value
    assert parsed.approximate


@pytest.mark.parametrize("raw", ["80", "1.2k", "12,500", "-9.5", "€300"])
def test_exact_numbers_are_not_flagged(raw: str) -> None:
    s = FEE if "€" in raw else LUFS if raw.startswith("-") else LISTENERS
    assert not parse_answer(s, raw, today=TODAY, label="it").approximate


@pytest.mark.parametrize("raw", ["like", "about", "or so", "ish", "like forty", "80 or"])
def test_approximate_words_without_a_number_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAnswer):
        parse_answer(LISTENERS, raw, today=TODAY, label="listeners")


# ------------------------------------------------------------------------ display: locale × value

DISPLAY: list[tuple[str | None, Any, str]] = [
    # (locale, what, expected)
    (None, ("money", "1200.5", "EUR"), "€1,200.50"),
    ("en", ("money", "1200.5", "USD"), "$1,200.50"),
    ("en-GB", ("money", "150", "GBP"), "£150.00"),
    ("de", ("money", "1200.5", "EUR"), "1.200,50\xa0€"),
    ("fr", ("money", "1200.5", "EUR"), "1\u202f200,50\xa0€"),
    ("de-CH", ("money", "1200.5", "CHF"), "CHF\xa01'200.50"),
    ("pt-BR", ("money", "1200.5", "BRL"), "R$\xa01.200,50"),
    ("ja", ("money", "1500", "JPY"), "￥1,500"),
    (None, ("money", "1500", "JPY"), "¥1,500"),
    (None, ("money", "-5", "EUR"), "-€5.00"),
    (None, ("money", "-0.00", "EUR"), "€0.00"),
    (None, ("number", "400.0000", None), "400"),
    (None, ("number", "12500.0000", None), "12,500"),
    ("de", ("number", "12500", None), "12.500"),
    ("fr", ("number", "12500", None), "12\u202f500"),
    ("en-IN", ("number", "1234567", None), "12,34,567"),
    (None, ("number", "3.14159", None), "3.14"),
    ("de", ("number", "3.5", None), "3,5"),
    (None, ("number", "99.999", None), "100"),
    (None, ("signed", "400.0000", None), "+400"),
    (None, ("signed", "-3.50", None), "-3.5"),
    (None, ("signed", "0.0000", None), "±0"),
    (None, ("signed", "0.001", None), "±0"),
    ("de", ("signed", "1250", None), "+1.250"),
    (None, ("compact", "12500", None), "12.5K"),
    (None, ("compact", "1234567", None), "1.2M"),
    ("en-GB", ("compact", "12500", None), "12.5k"),
    (None, ("counted", "1", "listeners"), "1 listener"),
    (None, ("counted", "2", "listeners"), "2 listeners"),
    (None, ("counted", "0", "shows"), "0 shows"),
    (None, ("counted", "1.5", "shows"), "1.5 shows"),
    (None, ("counted", "1", "LUFS"), "1 LUFS"),
    (None, ("counted", "1", "people"), "1 person"),
    (None, ("counted", "2", "people"), "2 people"),
    (None, ("counted", "1", "saves/listener"), "1 saves/listener"),
    ("de", ("counted", "12500", "listeners"), "12.500 listeners"),
]


@pytest.mark.parametrize(("locale", "what", "expected"), DISPLAY)
def test_display_by_locale(
    locale: str | None, what: tuple[str, str, str | None], expected: str
) -> None:
    kind, raw, extra = what
    value = Decimal(raw)
    match kind:
        case "money":
            assert extra is not None
            shown = format_money(value, extra, locale)
        case "number":
            shown = format_number(value, locale)
        case "signed":
            shown = format_signed(value, locale)
        case "compact":
            shown = format_compact(value, locale)
        case _:
            assert extra is not None
            shown = counted(value, extra, locale)
    assert shown == expected


@pytest.mark.parametrize(
    ("s", "value", "reading", "currency", "expected"),
    [
        (LISTENERS, "1", Reading(), None, "1 listener"),
        (LISTENERS, "1.0000", Reading(), None, "1 listener"),
        (LISTENERS, "12500.0000", Reading("de"), None, "12.500 listeners"),
        (LUFS, "-14.0000", Reading(), None, "-14.0 LUFS"),
        (LUFS, "-9.5", Reading("de"), None, "-9,5 LUFS"),
        (FEE, "300.0000", Reading(), None, "€300.00"),
        (FEE, "300", Reading(currency="USD"), None, "$300.00"),
        (FEE, "300", Reading("de", "EUR"), "GBP", "300,00\xa0£"),
        (FEE, "300", Reading(currency="EUR"), "GBP", "£300.00"),
    ],
)
def test_stored_values_show_in_the_musicians_locale_and_their_own_currency(
    s: InputSpec, value: str, reading: Reading, currency: str | None, expected: str
) -> None:
    assert format_value(s, Decimal(value), reading=reading, currency=currency) == expected


def test_a_money_example_is_in_the_musicians_currency_and_locale() -> None:
    s = FEE.model_copy(update={"example": "€300"})
    assert example_answer(s, today=TODAY) == "€300"
    assert example_answer(s, today=TODAY, reading=Reading(currency="USD")) == "$300"
    assert example_answer(s, today=TODAY, reading=Reading("de", "EUR")) == "300\xa0€"
    assert example_answer(s, today=TODAY, reading=Reading(currency="JPY")) == "¥300"
    for reading in (Reading(currency="USD"), Reading("de", "EUR"), Reading("fr", "CHF")):
        shown = example_answer(s, today=TODAY, reading=reading)
        parsed = parse_answer(s, shown, today=TODAY, label="the fee", reading=reading)
        assert parsed.value == Decimal(300)


# ------------------------------------------------------------------------ locales


@pytest.mark.parametrize(
    ("tag", "currency", "comma"),
    [
        ("de", "EUR", True),
        ("de-AT", "EUR", True),
        ("de-CH", "CHF", False),
        ("en", "USD", False),
        ("en-GB", "GBP", False),
        ("en_AU", "AUD", False),
        ("pt-br", "BRL", True),
        ("fr", "EUR", True),
        ("ja", "JPY", False),
        ("sv", "SEK", True),
        ("es-419", None, False),  # Latin America: no one country, no guess
        ("xx-nonsense", None, False),
        ("", None, False),
        (None, None, False),
    ],
)
def test_a_locale_guesses_a_currency_and_its_marks(
    tag: str | None, currency: str | None, comma: bool
) -> None:
    assert currency_guess(tag, TODAY) == currency
    assert uses_decimal_comma(tag) is comma
    assert babel_locale(tag) is not None  # never raises, whatever the platform sends
