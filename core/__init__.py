"""Stardom Coach core: platform-agnostic domain, conversation engine and persistence.

Nothing in this package imports a front end or a chat platform library; front ends in ``bot/``
translate their platform's updates into :class:`core.conversation.types.Inbound` and render the
:class:`core.conversation.types.Outbound` replies.
"""
