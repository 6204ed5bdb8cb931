"""URL answers: http(s) links only, normalised to a canonical form."""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from core.progress.parsing.cleaning import MAX_ANSWER_CHARS
from core.progress.parsing.results import InvalidAnswer

_SCHEME_RE: Final = re.compile(r"([a-z][a-z0-9+.\-]*)://", re.IGNORECASE)
_BARE_SCHEME_RE: Final = re.compile(r"[a-z][a-z0-9+\-]*:(?![0-9])", re.IGNORECASE)


def _parse_url(text: str, label: str) -> str:
    not_a_link = (
        f"that doesn't look like a web link — I need something like "
        f"https://open.spotify.com/artist/... for {label}."
    )
    candidate = text.strip().removeprefix("<").removesuffix(">").rstrip(".,;:!?")
    if any(ch.isspace() for ch in candidate):
        raise InvalidAnswer(f"a link can't contain spaces — please send just the link for {label}.")
    scheme_match = _SCHEME_RE.match(candidate)
    if scheme_match is not None:
        if scheme_match[1].lower() not in ("http", "https"):
            raise InvalidAnswer(f"I can only use http:// or https:// links for {label}.")
    elif _BARE_SCHEME_RE.match(candidate):
        raise InvalidAnswer(f"I can only use http:// or https:// links for {label}.")
    elif candidate.startswith("//"):
        candidate = "https:" + candidate
    else:
        candidate = "https://" + candidate
    try:
        parts = urlsplit(candidate)
        host = parts.hostname
        port = parts.port
        has_credentials = parts.username is not None or parts.password is not None
    except ValueError:
        raise InvalidAnswer(not_a_link) from None
    if has_credentials:
        raise InvalidAnswer("please send the link without a username or password in it.")
    host = (host or "").rstrip(".")
    labels = host.split(".")
    if len(labels) < 2 or not all(_valid_host_label(part) for part in labels):
        raise InvalidAnswer(not_a_link)
    netloc = host if port is None else f"{host}:{port}"
    url = urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))
    if len(url) > MAX_ANSWER_CHARS:
        raise InvalidAnswer(
            f"that's too long for {label} — please keep it under {MAX_ANSWER_CHARS} characters."
        )
    return url


def _valid_host_label(part: str) -> bool:
    return (
        bool(part)
        and not part.startswith("-")
        and not part.endswith("-")
        and all(ch.isalnum() or ch == "-" for ch in part)
    )
