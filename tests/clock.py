"""The test clock for tests that run the console in several processes (workers, a served
console, a Twilio fake): started with `environment()`, all of them read the same time,
which was `TEST_NOW` when the test session first asked for it, whatever the hour.

`TEST_NOW` is a Wednesday afternoon, on no holiday, when texting is legal in every US
state (Guam's next morning aside), so quiet hours never hold the tests' texts.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

# Wednesday 14 January 2026, 15:00 in Chicago, 16:00 in New York, 13:00 in San Francisco.
TEST_NOW = datetime(2026, 1, 14, 21, 0, tzinfo=UTC)
# The same Wednesday, 2 am in Chicago, 3 am in New York: quiet hours in every US state.
NIGHT = datetime(2026, 1, 14, 8, 0, tzinfo=UTC)
# Where the tests' leads live: the federal 8 am-9 pm window only.
LEGAL_STATE, LEGAL_AREA_CODE = "IL", "312"
VARIABLE = "CONSOLE_CLOCK_OFFSET_SECONDS"


@functools.cache
def offset_seconds() -> float:
    """How far the wall clock moves to the test clock: one offset for the whole session,
    so that processes started at different moments agree."""
    return (TEST_NOW - datetime.now(UTC)).total_seconds()


def now() -> datetime:
    """The test clock's time, as the console's processes read it."""
    return datetime.now(UTC) + timedelta(seconds=offset_seconds())


def environment(at: datetime = TEST_NOW) -> dict[str, str]:
    """The console's setting that puts a process on the test clock (standing at `at`
    when the session began: `NIGHT` for a console whose texts are held)."""
    return {VARIABLE: repr(offset_seconds() + (at - TEST_NOW).total_seconds())}
