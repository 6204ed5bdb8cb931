"""Accounts: creating a person (user, identity, solo profile), reachability, ``/link``.

Everything about *who* someone is, as opposed to what they are doing on their roadmap: features
create and look people up through here. "This person can't be reached" is written by
:mod:`core.accounts.reachability` only: front ends report it through the coach
(:meth:`core.app.engine.Coach.report_reachability`), the reminder tick and the broadcast sender
with :func:`~core.accounts.reachability.mark_unreachable`.
"""
