"""Loaded (through PYTHONPATH=tests/faketime) only to run the tests under libfaketime
with FAKETIME_DONT_FAKE_MONOTONIC=1: libfaketime 0.9.10 answers EINVAL to the absolute
monotonic clock_nanosleep that `time.sleep` makes, so sleep through select() instead,
which it passes through. Without libfaketime this does nothing."""

from __future__ import annotations

import os
import select
import time

_UNDER_FAKETIME = "faketime" in os.environ.get("LD_PRELOAD", "")


def _sleep(seconds: float) -> None:
    """`time.sleep` on the real monotonic clock, in select() calls."""
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        select.select([], [], [], left)


if _UNDER_FAKETIME and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1":
    time.sleep = _sleep
