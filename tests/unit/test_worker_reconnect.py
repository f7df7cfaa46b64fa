"""A worker that lost Redis tries again with growing, jittered waits, and can be stopped."""

from __future__ import annotations

import itertools
import threading

import pytest
import redis

from jobs.worker import reconnect_delays, wait_for_redis


def test_reconnect_waits_double_from_half_a_second_to_fifteen():
    longest = list(itertools.islice(reconnect_delays(rand=lambda: 1.0), 8))
    assert longest == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]
    shortest = list(itertools.islice(reconnect_delays(rand=lambda: 0.0), 3))
    assert shortest == [0.25, 0.5, 1.0]


class FlakyRedis:
    """Refuses `failures` pings, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.pings = 0

    def ping(self) -> bool:
        self.pings += 1
        if self.pings <= self.failures:
            raise redis.ConnectionError("Connection refused.")
        return True


def test_waiting_for_redis_logs_each_try_until_it_answers(caplog):
    conn = FlakyRedis(failures=3)
    assert wait_for_redis(conn, threading.Event(), itertools.repeat(0.0))
    assert conn.pings == 4
    assert sum("Redis does not answer" in line for line in caplog.messages) == 3
    assert "Redis answers again (try 4)" in caplog.text


def test_a_stop_while_redis_is_away_ends_the_wait():
    stop = threading.Event()
    stop.set()
    conn = FlakyRedis(failures=10)
    assert not wait_for_redis(conn, stop, itertools.repeat(0.0))
    assert conn.pings == 0


def test_a_work_loop_ended_by_a_lost_redis_stops_its_command_listener(monkeypatch):
    import fakeredis
    from rq import Queue

    from jobs.worker import ConsoleWorker

    conn = fakeredis.FakeStrictRedis(server=fakeredis.FakeServer())
    worker = ConsoleWorker([Queue("default", connection=conn)], connection=conn)
    worker.subscribe()
    listener = worker.pubsub_thread
    assert listener.is_alive()

    def lost(*_args, **_kwargs):
        raise redis.ConnectionError("Connection refused.")

    monkeypatch.setattr(worker, "register_death", lost)
    with pytest.raises(redis.ConnectionError):
        worker.teardown()
    listener.join(5)
    assert not listener.is_alive()
