"""The Redis rate limit: slots a second, bursts, sharing a key, and refusing long waits."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import fakeredis
import pytest
from fakeredis.commands_mixins import server_mixin

from console.services.sending.ratelimit import RateLimitWait, RedisRateLimiter, sender_limiter
from tests.integration.test_ratelimit_redis import achieved_rate

# The fake server's TIME is frozen in these tests, so waits are exact up to float sums.
CLOCK = 1e-6


@pytest.fixture
def conn(monkeypatch):
    """A Redis connection to a fresh in-memory server whose clock stands still."""
    frozen = 1_800_000_000.0
    monkeypatch.setattr(server_mixin, "time", SimpleNamespace(time=lambda: frozen))
    return fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())


@pytest.fixture
def live_conn():
    """A Redis connection to a fresh in-memory server on the real clock."""
    return fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())


class Sleeps(list):
    """A stand-in for time.sleep that records each wait instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def limiter(conn, key="console:rate:test", rate=10.0, burst=1, **kwargs) -> RedisRateLimiter:
    return RedisRateLimiter(conn, key, rate=rate, burst=burst, sleep=Sleeps(), **kwargs)


def test_first_call_is_free_then_each_waits_one_interval_more(conn):
    sender = limiter(conn, rate=10.0)

    waits = [sender.acquire() for _ in range(4)]

    assert waits[0] == 0
    assert waits[1:] == pytest.approx([0.1, 0.2, 0.3], abs=CLOCK)
    assert sender.sleep == waits[1:]  # no sleep for a free slot


def test_burst_slots_are_free_after_a_quiet_spell(conn):
    sender = limiter(conn, rate=5.0, burst=3)

    waits = [sender.reserve() for _ in range(5)]

    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([0.2, 0.4], abs=CLOCK)


def test_two_limiters_on_one_key_share_its_slots(conn):
    first = limiter(conn, key="console:rate:sender:1")
    second = limiter(conn, key="console:rate:sender:1")

    waits = [first.reserve(), second.reserve(), first.reserve(), second.reserve()]

    assert waits == pytest.approx([0, 0.1, 0.2, 0.3], abs=CLOCK)


def test_limiters_on_different_keys_do_not_hold_each_other_back(conn):
    one = limiter(conn, key="console:rate:sender:1")
    two = limiter(conn, key="console:rate:sender:2")

    assert one.reserve() == 0
    assert two.reserve() == 0
    assert one.reserve() == pytest.approx(0.1, abs=CLOCK)
    assert two.reserve() == pytest.approx(0.1, abs=CLOCK)


def test_wait_longer_than_max_wait_raises_without_reserving(conn):
    sender = limiter(conn, rate=10.0)
    sender.acquire()
    sender.acquire()  # the next slot is now 0.2 s off
    tat_before = conn.get(sender.key)

    with pytest.raises(RateLimitWait) as refused:
        sender.acquire(max_wait=0.15)

    assert refused.value.seconds == pytest.approx(0.2, abs=CLOCK)
    assert conn.get(sender.key) == tat_before
    assert sender.sleep == pytest.approx([0.1], abs=CLOCK)
    assert sender.acquire(max_wait=0.25) == pytest.approx(0.2, abs=CLOCK)


def test_idle_key_expires(conn):
    sender = limiter(conn, ttl=30)

    sender.reserve()

    assert 0 < conn.pttl(sender.key) <= 30_000


def test_key_outlives_ttl_while_slots_are_still_reserved(conn):
    sender = limiter(conn, rate=1.0, ttl=1)

    for _ in range(5):
        sender.reserve()

    assert conn.pttl(sender.key) > 4_000


def test_sender_limiter_keys_by_sender_id(conn):
    sender = sender_limiter(conn, 7, mps=3)

    assert sender.key == "console:rate:sender:7"
    assert (sender.rate, sender.burst) == (3, 1)


@pytest.mark.parametrize("rate, burst", [(0, 1), (-1, 1), (1, 0)])
def test_nonsense_limits_are_refused(conn, rate, burst):
    with pytest.raises(ValueError):
        RedisRateLimiter(conn, "console:rate:test", rate=rate, burst=burst)


def test_eight_threads_together_keep_to_the_rate(live_conn):
    rate, seconds = 20.0, 2.0
    stamps: list[float] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def send() -> None:
        sender = RedisRateLimiter(live_conn, "console:rate:threads", rate=rate)
        while time.monotonic() < end:
            sender.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 10)

    assert not any(thread.is_alive() for thread in threads)
    assert achieved_rate(stamps) == pytest.approx(rate, rel=0.05)


# -- slowing down after 429s -------------------------------------------------------------


@pytest.fixture
def moving(monkeypatch):
    """A fresh in-memory Redis whose clock moves only when a test moves it."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(server_mixin, "time", SimpleNamespace(time=lambda: now[0]))
    return fakeredis.FakeStrictRedis(server=fakeredis.FakeServer()), now


def test_a_run_of_429s_halves_the_rate_for_every_limiter_on_the_key(moving):
    conn, _ = moving
    sender, other = limiter(conn, rate=20.0), limiter(conn, rate=20.0)

    cuts = [sender.note(throttled) for throttled in [False] * 5 + [True] * 5]

    assert cuts == [False] * 9 + [True]  # 5 of the last 10 tries refused
    assert other.pace().current == pytest.approx(10.0)
    waits = [other.reserve() for _ in range(3)]
    assert waits == pytest.approx([0, 0.1, 0.2], abs=CLOCK)  # 10 a second, not 20


def test_stray_429s_among_answered_tries_do_not_slow_the_sender(moving):
    conn, _ = moving
    sender = limiter(conn, rate=20.0)

    cuts = [sender.note(n % 5 == 0) for n in range(200)]  # one try in five refused

    assert not any(cuts)
    assert not sender.pace().slowed


def test_the_rate_climbs_back_within_a_minute(moving):
    conn, now = moving
    sender = limiter(conn, rate=20.0)
    assert sender.slow_down()

    halfway = sender.pace()
    now[0] += 15
    later = sender.pace()
    now[0] += 16
    whole = sender.pace()

    assert (halfway.current, halfway.full_in) == (pytest.approx(10.0), pytest.approx(30.0))
    assert later.current == pytest.approx(15.0)
    assert not whole.slowed and whole.current == 20.0


def test_workers_cut_at_most_once_in_a_gap_and_never_below_the_floor(moving):
    conn, now = moving
    first, second = limiter(conn, rate=20.0), limiter(conn, rate=20.0)

    assert first.slow_down()
    assert not second.slow_down()  # the same burst of 429s, seen by another worker
    for _ in range(10):
        now[0] += 2.5
        second.slow_down()

    assert second.pace().current >= 20.0 * 0.1
    assert second.pace().current < 20.0 * 0.2


def test_a_refused_text_gives_its_slot_back_never_a_slot_in_the_past(conn):
    sender = limiter(conn, rate=10.0)
    assert [sender.reserve() for _ in range(3)] == pytest.approx([0, 0.1, 0.2], abs=CLOCK)

    sender.refund()  # the third was refused: Twilio sent nothing with it
    after_one = sender.reserve()
    for _ in range(5):
        sender.refund()
    after_many = sender.reserve()

    assert after_one == pytest.approx(0.2, abs=CLOCK)
    assert after_many == 0  # given back down to now, not below
