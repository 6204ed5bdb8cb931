"""Administration: the audit log of security-relevant events (admin commands arrive with issue #6).

``audit`` writes one ``audit_log`` row per event, in its own short transaction so a denial is
recorded even when the request that caused it does nothing else, and reads the latest rows back.
Nothing secret is ever written there or logged: callers pass reasons, never presented values.
"""
