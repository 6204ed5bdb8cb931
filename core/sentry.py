"""Errors to Sentry, when ``SENTRY_DSN`` is set and ``sentry-sdk`` is installed (the
``sentry`` extra), redacted as the logs are.

Sentry's SDK sends what the log lines hold and more: exception values, local variables of
each frame, breadcrumbs of earlier log lines. Every event and breadcrumb therefore passes
through :func:`scrub` before it leaves — every string in it, at any depth, through the log
redactor (configured secrets, URL passwords, token shapes) — and local variables are not
collected at all (``include_local_variables=False``: a frame's ``text`` is a musician's
message). ``send_default_pii`` stays off. An event raised while an update was handled is
tagged with its platform, id and hashed person (:mod:`core.observe.context`), as its log
lines are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from core.logging import redact, secret_variants
from core.observe import context as log_context

logger = logging.getLogger(__name__)

#: How deep :func:`scrub` walks (a Sentry event nests a few levels; deeper is dropped).
MAX_DEPTH = 32


def scrub(value: Any, variants: tuple[str, ...], depth: int = 0) -> Any:
    """``value`` with every string in it redacted (dicts, lists and tuples walked)."""
    if depth > MAX_DEPTH:
        return "[too deep]"
    if isinstance(value, str):
        return redact(value, variants)
    if isinstance(value, dict):
        return {
            scrub(k, variants, depth + 1): scrub(v, variants, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(scrub(v, variants, depth + 1) for v in value)
    return value


def before_send(secrets: Iterable[str]) -> Callable[[Any, Any], Any]:
    """Sentry's ``before_send`` (and ``before_breadcrumb``): tag with the event being handled,
    then redact everything."""
    variants = secret_variants(secrets)

    def hook(event: Any, _hint: Any) -> Any:
        if not isinstance(event, dict):
            return event
        current = log_context.current()
        if current is not None:
            tags = event.setdefault("tags", {})
            if isinstance(tags, dict):
                tags.update(platform=current.platform, person=current.person)
                if current.event_id is not None:
                    tags["event_id"] = current.event_id
        event.pop("user", None)  # never who: the person tag is the hash
        return scrub(event, variants)

    return hook


def init_sentry(
    dsn: str | None,
    secrets: Iterable[str],
    *,
    transport: Any = None,
) -> bool:
    """Start Sentry if ``dsn`` is set and the SDK is installed; ``True`` when it started.
    ``transport``: where events go instead of the network (tests).

    A DSN without the SDK is said once at WARNING (``pip install 'stardom-coach[sentry]'``),
    never a failure: error tracking is optional, serving is not.
    """
    if not dsn:
        return False
    try:
        import sentry_sdk  # noqa: PLC0415 - optional: the `sentry` extra
    except ImportError:
        logger.warning(
            "SENTRY_DSN is set but sentry-sdk is not installed "
            "(pip install 'stardom-coach[sentry]'); errors are only logged"
        )
        return False
    hook = before_send(secrets)
    sentry_sdk.init(
        dsn=dsn,
        send_default_pii=False,
        include_local_variables=False,
        before_send=hook,
        before_breadcrumb=hook,
        **({"transport": transport} if transport is not None else {}),
    )
    logger.info("errors are reported to Sentry")
    return True
