"""What every event pays before any database work: the rate-limit check and the routing lookup.

Run from the repository root::

    .venv/bin/python benchmarks/admin_overhead.py

``Coach.handle`` asks the limiter about every event (when a limit is configured) and finds the
event's route in the registry (``Coach.route``: parse the command or decode the payload, one
dictionary lookup; the admin desk's events are found the same way). Both are pure Python with no
I/O; this prints their cost per call in microseconds, for plain text, a command, a button press
and an admin command, and for a limiter tracking 100 000 people.
"""

from __future__ import annotations

import itertools
import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.admin.ratelimit import RateLimit, RateLimiter
from core.app.engine import Coach
from core.db.engine import Database
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
    coach = Coach(Database("sqlite+aiosqlite:///:memory:"))  # never connects: route() is pure
    for name, event in events.items():
        print(f"coach.route({name:8}) {_us(lambda e=event: coach.route(e)):.2f} µs")
    limiter = RateLimiter(RateLimit(10**9, 10))
    for n in range(100_000):
        limiter.check(f"telegram:{n}")
    keys = [f"telegram:{n}" for n in range(0, 100_000, 7)]
    it = itertools.cycle(keys)
    print(f"limiter.check (100 000 people tracked) {_us(lambda: limiter.check(next(it))):.2f} µs")


if __name__ == "__main__":
    main()
