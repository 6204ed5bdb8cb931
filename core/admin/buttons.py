"""The admin and privacy buttons (the wire vocabulary: see :mod:`core.kernel.payloads`).

Every press is re-checked by the desk: who presses, whether the question is still fresh.
"""

from __future__ import annotations

from typing import Final

from core.kernel.payloads import ButtonAction

#: Confirm a broadcast draft: ``ab:<broadcast hex>``.
BROADCAST_SEND: Final = ButtonAction("broadcast_send", "ab", 1)
#: Drop a broadcast draft: ``ax:<broadcast hex>``.
BROADCAST_DROP: Final = ButtonAction("broadcast_drop", "ax", 1)
#: Confirm /admin reset: ``ar:<user hex>:<minute stamp>``.
RESET_USER: Final = ButtonAction("reset_user", "ar", 2)
#: Confirm /admin user|grant|revoke of the account shown: ``ap:u|g|r:<user hex>:<minute>``.
ADMIN_PICK: Final = ButtonAction("admin_pick", "ap", 3)
#: Confirm /forget: ``af:<minute stamp>``.
FORGET_ME: Final = ButtonAction("forget_me", "af", 1)
#: "No" to an admin or privacy question: ``an``.
ADMIN_NO: Final = ButtonAction("admin_no", "an", 0)
