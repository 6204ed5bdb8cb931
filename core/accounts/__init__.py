"""Accounts: creating a person (user, identity, solo profile), reachability, ``/link``.

Everything about *who* someone is, as opposed to what they are doing on their roadmap: features
create and look people up through here, and front ends report "this chat blocked us" through
:func:`core.accounts.reachability.set_reachable`.
"""
