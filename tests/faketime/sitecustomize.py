"""Only for running the suite under libfaketime with FAKETIME_DONT_FAKE_MONOTONIC=1:
libfaketime 0.9.10 answers EINVAL to the absolute monotonic clock_nanosleep that
time.sleep uses, so sleep through select(), which it passes through."""

import os
import select
import time

if os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1" and "faketime" in os.environ.get(
    "LD_PRELOAD", ""
):
    _real_sleep = time.sleep

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
