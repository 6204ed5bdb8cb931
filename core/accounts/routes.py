"""What the accounts feature answers: ``/link`` and ``/unlink`` (the flows are in
:mod:`core.accounts.linking`). Both act on the account itself, before any turn (``account``
door): a redeemed code may merge two accounts, so no profile row may be held open meanwhile."""

from __future__ import annotations

from core.accounts import linking
from core.accounts.linking import AccountCall
from core.kernel.registry import SOLO, Feature, Option
from core.kernel.types import Outbound

accounts = Feature("accounts")


@accounts.command(
    "link",
    "Join this account with your other platform (code)",
    usage="[code]",
    options=(Option("code", "the code from your other platform (leave empty to get one)"),),
    places=SOLO,
    door="account",
    before_setup=True,
)
async def _link(call: AccountCall, args: str) -> list[Outbound]:
    return await linking.handle(call, command="link", args=args)


@accounts.command(
    "unlink",
    "Split this platform's account off again",
    places=SOLO,
    door="account",
    before_setup=True,
)
async def _unlink(call: AccountCall, args: str) -> list[Outbound]:
    return await linking.handle(call, command="unlink", args=args)
