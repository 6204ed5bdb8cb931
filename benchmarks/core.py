"""x"""

from __future__ import annotations

from core.conversation.types import Inbound

X: Inbound | None = None
Y: Inbound = 3
Z: int = Inbound(platform="console", user_id="a", chat_id="a", kind="text")
