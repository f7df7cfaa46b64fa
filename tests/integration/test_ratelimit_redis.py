"""A Redis rate limit holds across worker processes sending from one sender."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from console.services.sending.ratelimit import RedisRateLimiter

ROOT = Path(__file__).resolve().parents[2]

# Run in each worker process: connect, report ready, wait for "go", then take slots for
# `seconds` and print the wall-clock time of each one (the processes share one clock).
SENDER = """
import json, sys, time
import redis
from console.services.sending.ratelimit import RedisRateLimiter

url, key, rate, burst, seconds = sys.argv[1:]
conn = redis.Redis.from_url(url)
limiter = RedisRateLimiter(conn, key, rate=float(rate), burst=int(burst))
print("ready", flush=True)
sys.stdin.readline()
stamps = []
end = time.time() + float(seconds)
while time.time() < end:
    limiter.acquire()
    stamps.append(time.time())
print(json.dumps(stamps), flush=True)
"""


def achieved_rate(stamps: list[float]) -> float:
    """Slots a second between the first and last of `stamps` (times of taken slots)."""
    if len(stamps) < 2:
        return 0.0
    return (len(stamps) - 1) / (max(stamps) - min(stamps))


def busiest_window(stamps: list[float], width: float = 1.0) -> int:
    """The most of `stamps` that fall in any window `width` seconds long."""
    ordered = sorted(stamps)
    most, start = 0, 0
    for end, stamp in enumerate(ordered):
        while stamp - ordered[start] >= width:
            start += 1
        most = max(most, end - start + 1)
    return most


def run_senders(
    redis_url: str, key: str, rate: float, burst: int, seconds: float, processes: int = 2
) -> list[list[float]]:
    """Start `processes` OS processes taking slots under `key` at once; their timestamps."""
    args = [redis_url, key, str(rate), str(burst), str(seconds)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", SENDER, *args],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        for worker in workers:
            assert worker.stdout.readline().strip() == "ready"
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        outputs = [worker.communicate(timeout=seconds + 30)[0] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert all(worker.returncode == 0 for worker in workers)
    return [json.loads(output) for output in outputs]


@pytest.mark.redis
def test_two_processes_on_one_sender_share_its_rate(redis_url):
    import redis

    key = "console:rate:sender:integration"
    redis.Redis.from_url(redis_url).delete(key)
    rate, burst = 10.0, 2

    per_process = run_senders(redis_url, key, rate, burst, seconds=3.0)

    stamps = [stamp for process in per_process for stamp in process]
    assert all(len(process) >= 5 for process in per_process)  # both really sent
    assert achieved_rate(stamps) == pytest.approx(rate, rel=0.10)
    assert busiest_window(stamps) <= rate + burst


@pytest.mark.redis
def test_sender_key_expires_on_real_redis(redis_url):
    import redis

    from console.services.sending.ratelimit import sender_limiter

    conn = redis.Redis.from_url(redis_url)
    limiter = sender_limiter(conn, 4242, mps=1)
    limiter.ttl = 60
    conn.delete(limiter.key)

    assert limiter.reserve() == 0
    assert limiter.key == "console:rate:sender:4242"
    assert 0 < conn.pttl(limiter.key) <= 60_000


@pytest.mark.redis
def test_the_limiter_survives_redis_forgetting_its_script(redis_url):
    conn = redis.Redis.from_url(redis_url)
    limiter = RedisRateLimiter(conn, f"test:forget:{time.monotonic_ns()}", rate=1000)
    limiter.reserve()
    conn.script_flush()
    assert limiter.reserve() >= 0
    assert conn.get(limiter.key) is not None


def test_429_slowdown_runs_as_one_script_on_real_redis(redis_url):
    conn = redis.Redis.from_url(redis_url)
    key = f"console:rate:slowdown:{time.time_ns()}"
    limiter = RedisRateLimiter(conn, key, rate=50.0, sleep=lambda seconds: None)
    other = RedisRateLimiter(conn, key, rate=50.0, sleep=lambda seconds: None)

    assert limiter.slow_down()
    assert not other.slow_down()  # within the gap: one cut for one burst of 429s
    pace = other.pace()
    waits = [other.reserve() for _ in range(5)]

    assert pace.slowed and pace.current == pytest.approx(25.0, rel=0.02)
    # 25 a second: the fifth slot is about 4 intervals of 40 ms away, not 4 of 20 ms.
    assert waits[4] == pytest.approx(0.16, abs=0.02)


def test_refund_runs_as_one_script_on_real_redis(redis_url):
    conn = redis.Redis.from_url(redis_url)
    key = f"console:rate:refund:{time.time_ns()}"
    limiter = RedisRateLimiter(conn, key, rate=10.0, sleep=lambda seconds: None)
    waits = [limiter.reserve() for _ in range(3)]

    limiter.refund()
    again = limiter.reserve()

    assert waits[2] == pytest.approx(0.2, abs=0.02)
    assert again == pytest.approx(0.2, abs=0.02)  # the refunded slot, not a fourth
    assert conn.pttl(key) > 0  # the key keeps its expiry
