"""What issue #6 adds to every event's hot path: the rate-limit check and the admin-desk check.

Run from the repository root::

    .venv/bin/python benchmarks/admin_overhead.py

``Coach.handle`` asks the limiter about every event (when a limit is configured) and asks the
admin desk whether the event is one of its commands or buttons. Both are pure Python with no
I/O; this prints their cost per call in microseconds, for plain text, a command, a button press
and an admin command, and for a limiter tracking 100 000 people.
"""

from __future__ import annotations

import itertools
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.admin.desk import AdminDesk
from core.admin.ratelimit import RateLimit, RateLimiter
from core.kernel.types import Inbound

N = 200_000


def _us(stmt: object, number: int = N) -> float:
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6  # type: ignore[arg-type]


def main() -> None:
    events = {
        "text": Inbound(platform="telegram", user_id="1", chat_id="1", kind="text", text="12.5k"),
        "command": Inbound(
            platform="telegram", user_id="1", chat_id="1", kind="command", text="/progress"
        ),
        "button": Inbound(
            platform="telegram", user_id="1", chat_id="1", kind="button", payload="v1:tk:a:b"
        ),
        "admin": Inbound(
            platform="telegram", user_id="1", chat_id="1", kind="command", text="/admin stats"
        ),
    }
    for name, event in events.items():
        print(f"desk.claims({name:8}) {_us(lambda e=event: AdminDesk.claims(e)):.2f} µs")
    limiter = RateLimiter(RateLimit(10**9, 10))
    for n in range(100_000):
        limiter.check(f"telegram:{n}")
    keys = [f"telegram:{n}" for n in range(0, 100_000, 7)]
    it = itertools.cycle(keys)
    print(f"limiter.check (100 000 people tracked) {_us(lambda: limiter.check(next(it))):.2f} µs")


if __name__ == "__main__":
    main()
