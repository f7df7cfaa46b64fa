"""The ticker's leader lease: one holder at a time, taken over after the holder goes quiet."""

from __future__ import annotations

import random
import threading
import time

import fakeredis
import pytest

from console.services.sending.leadership import LeaderLease

TTL = 6.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def electors(clock: Clock, count: int = 2) -> list[LeaderLease]:
    conn = fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())
    return [
        LeaderLease(conn, "console:test:lead", TTL, holder=f"w{n}", clock=clock, local_clock=clock)
        for n in range(count)
    ]


def test_one_elector_leads_and_the_other_takes_over_after_the_ttl(clock):
    first, second = electors(clock)
    assert first.hold() and not second.hold()
    clock.now += TTL - 1
    assert first.hold() and not second.hold()  # renewed: its deadline moved on
    # The leader stops renewing (dead, frozen or cut off from Redis).
    clock.now += TTL - 0.5
    assert not second.hold() and first.held()
    clock.now += 0.5
    assert not first.held()
    assert second.hold() and second.held()
    assert not first.hold() and second.holder_now() == "w1"


def test_release_hands_the_role_over_at_once_and_only_by_its_holder(clock):
    first, second = electors(clock)
    assert first.hold()
    second.release()  # not its role: nothing changes
    assert not second.hold() and first.holder_now() == "w0"
    first.release()
    assert not first.held() and second.hold()


def test_never_two_leaders_at_once_whatever_the_order(clock):
    rng = random.Random(21)
    leases = electors(clock, count=3)
    alive = [True, True, True]
    leaders_seen = set()
    for _step in range(2_000):
        n = rng.randrange(3)
        roll = rng.random()
        if roll < 0.05:
            alive[n] = not alive[n]  # a worker stalls, or comes back
        elif roll < 0.1:
            clock.now += rng.uniform(0, 2 * TTL)
        else:
            clock.now += rng.uniform(0, 1)
            if alive[n]:
                leases[n].hold()
        holding = [lease.holder for lease in leases if lease.held()]
        assert len(holding) <= 1, holding
        leaders_seen.update(holding)
    assert len(leaders_seen) > 1  # the role did move between workers


def test_of_two_tickers_one_ticks_and_the_other_takes_over_when_it_stops(monkeypatch):
    from jobs import sending

    ticks: list[str] = []
    monkeypatch.setattr(sending, "tick", lambda app: ticks.append(app))
    monkeypatch.setattr(sending, "requeue_lost_runs", lambda app: 0)
    conn = fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())
    stops = {name: threading.Event() for name in ("first", "second")}
    threads = {}
    for name, stop in stops.items():
        # A long lease, so that only the first one's stop hands the role over.
        lease = LeaderLease(conn, "console:test:ticker", ttl=30.0, holder=name)
        threads[name] = threading.Thread(target=sending.run_ticker, args=(name, stop, 0.02, lease))
        threads[name].start()
        until(lambda: len(ticks) >= 3)
    try:
        until(lambda: len(ticks) >= 10)
        assert set(ticks) == {"first"}
        stops["first"].set()
        threads["first"].join(5)
        ticks.clear()
        until(lambda: len(ticks) >= 3)
        assert set(ticks) == {"second"}
    finally:
        for stop in stops.values():
            stop.set()
        for thread in threads.values():
            thread.join(5)


def until(condition, timeout: float = 10.0) -> None:
    """Wait for a background thread to make `condition` true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.01)
