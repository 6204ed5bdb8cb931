"""Stardom Coach core: platform-agnostic domain, conversation engine and persistence.

Nothing in this package imports a front end or a chat platform library; front ends in ``bot/``
translate their platform's updates into :class:`core.kernel.types.Inbound` and render the
:class:`core.kernel.types.Outbound` replies.
"""
