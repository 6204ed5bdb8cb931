"""``/start`` payloads and the links that carry them (core/accounts/deep_links.py), and the
Discord renderer leaving a link as written: pure, no I/O."""

from __future__ import annotations

import pytest

from bot.discord.render import to_markdown
from core.accounts.deep_links import START_PAYLOAD, DeepLinks, StartKind, read_start
from core.accounts.linking import new_code
from core.kernel.markup import esc


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("inv-ABCDEFGHJKLMNPQR", StartKind.INVITE, "ABCDEFGHJKLMNPQR"),
        (" lnk-ABCDEFGHJKLMNPQR ", StartKind.LINK, "ABCDEFGHJKLMNPQR"),
        ("INV-abc", StartKind.INVITE, "abc"),  # the code's own check decides (unknown)
        ("src-Instagram", StartKind.TAG, "instagram"),
        ("src-spring_2027-ads", StartKind.TAG, "spring_2027-ads"),
        ("src-" + "x" * 33, None, None),  # a tag is at most 32
        ("src-", None, None),
        ("lnk-", None, None),  # nothing to redeem: never "issue a new code"
        ("inv", None, None),
        ("hello", None, None),
        ("xyz-123", None, None),
        ("inv-ABC DEF", None, None),  # Telegram never sends a space; typed, it is nobody's
        ("inv-" + "A" * 61, None, None),  # over 64 characters
        ("inv-Ünïcode", None, None),
    ],
)
def test_reading_a_start_payload(raw: str, kind: StartKind | None, value: str | None) -> None:
    read = read_start(raw)
    assert read.kind is kind
    if kind is not None:
        assert read.value == value


def test_links_fit_telegrams_payload_rules_and_need_a_username() -> None:
    links = DeepLinks(b"key")
    code = new_code()
    assert links.telegram(StartKind.INVITE, code) is None, "no username, no link"
    links.know_telegram_bot("not a username!")
    assert links.telegram_bot is None
    links.know_telegram_bot("Stardom_Coach_bot")
    url = links.telegram(StartKind.INVITE, code)
    assert url == f"https://t.me/Stardom_Coach_bot?start=inv-{code}"
    assert START_PAYLOAD.fullmatch(url.rsplit("=", 1)[1])
    links.know_telegram_bot("OtherBot")  # a configured (or first) name is kept
    assert links.telegram_bot == "Stardom_Coach_bot"
    assert links.telegram(StartKind.TAG, "a b") is None, "never a payload Telegram refuses"


def test_discord_keeps_a_link_as_written_and_escapes_the_rest() -> None:
    url = "https://t.me/Stardom_Coach_bot?start=inv-ABCDEFGHJKLMNPQR"
    shown = to_markdown(f"One tap: {esc(url)} or {esc('DJ_Snake')}")
    assert url in shown, shown
    assert "DJ\\_Snake" in shown, "text outside the link is escaped as before"
