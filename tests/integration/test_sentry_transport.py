"""Optional Sentry through the real SDK, without network: its transport is replaced by one
that keeps the envelopes, in a child process (the SDK's global logging hooks never touch the
test process). Whatever leaves is redacted as the logs are."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from core.logging import REDACTED

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"
SECRET = "Pa55-word-of-the-db"


def test_an_error_reaches_the_transport_redacted() -> None:
    pytest.importorskip("sentry_sdk")
    script = textwrap.dedent(
        f"""
        import json, logging, sys
        from sentry_sdk.transport import Transport
        from core.sentry import init_sentry

        kept = []

        class Keep(Transport):
            def capture_envelope(self, envelope):
                for item in envelope.items:
                    if item.payload.json is not None:
                        kept.append(item.payload.json)

        assert init_sentry("https://public@127.0.0.1/1", [{SECRET!r}], transport=Keep)
        try:
            raise RuntimeError("GET https://api.telegram.org/bot{TOKEN}/getMe with {SECRET}")
        except RuntimeError:
            logging.getLogger("coach.x").exception("failed for %s", {SECRET!r})
        import sentry_sdk
        sentry_sdk.flush()
        print(json.dumps(kept))
        """
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    kept = json.loads(done.stdout.strip().splitlines()[-1])
    events = [e for e in kept if "exception" in e]
    assert events, kept
    text = json.dumps(kept)
    assert TOKEN not in text
    assert SECRET not in text
    assert REDACTED in text
    assert "RuntimeError" in text
