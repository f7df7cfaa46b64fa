"""Rate limits for calls to the outside world."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import redis

from console.services import lua


class TokenBucket:
    """At most `rate` calls a second on average, bursts of up to `burst`, across threads.

    `acquire` blocks the calling thread until a token is free, so a pool of workers
    calling one vendor never goes past the rate the vendor allows.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = max(rate, 0.001)
        self.capacity = burst if burst is not None else max(1.0, self.rate)
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        """Take one token, waiting for it when the bucket is empty."""
        while True:
            with self.lock:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            self.sleep(wait)


class RateLimitWait(Exception):
    """The next free slot is further off than the caller is willing to wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"next free slot in {seconds:.3f} s")
        self.seconds = seconds


class RedisRateLimiter:
    """At most `rate` calls a second under one Redis key, across processes and machines.

    A Twilio sender allows only so many messages a second however many workers send
    from it, so the schedule lives in Redis (GCRA): the key holds the theoretical
    arrival time (TAT) of the next free slot, on the Redis server's clock so that the
    clocks of the workers' machines do not matter. Each caller reserves a slot and
    then waits for it; `burst` slots may be taken at once after a quiet spell.
    """

    def __init__(
        self,
        conn: redis.Redis,
        key: str,
        rate: float,
        burst: int = 1,
        sleep: Callable[[float], None] = time.sleep,
        ttl: int = 3600,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got {rate} and {burst}")
        self.conn = conn
        self.key = key
        self.rate = rate
        self.burst = burst
        self.interval = 1.0 / rate
        self.sleep = sleep
        self.ttl = ttl

    def reserve(self) -> float:
        """Reserve the next free slot; return the seconds until it comes (0 if now)."""
        return self._reserve(max_wait=None)

    def acquire(self, max_wait: float | None = None) -> float:
        """Reserve a slot and sleep until it comes; return the seconds waited.

        Raises `RateLimitWait` without reserving when the wait would exceed `max_wait`,
        so a caller can put the message back instead of holding a worker.
        """
        wait = self._reserve(max_wait)
        if wait > 0:
            self.sleep(wait)
        return wait

    def _reserve(self, max_wait: float | None) -> float:
        # One round trip: the server computes the slot and stores the new TAT atomically.
        limit = -1 if max_wait is None else max_wait
        args = [repr(self.interval), str(self.burst), repr(limit), str(self.ttl * 1000)]
        answer = lua.run(self.conn, RESERVE_LUA, [self.key], args)
        if answer is lua.NO_LUA:
            return self._reserve_watch(max_wait)
        wait = float(answer)
        if wait < 0:
            raise RateLimitWait(-wait)
        return wait

    def _reserve_watch(self, max_wait: float | None) -> float:
        # WATCH/MULTI/EXEC where Redis runs no Lua (fakeredis without lupa, embedded):
        # a concurrent reservation aborts our EXEC, and we read the new TAT and retry.
        with self.conn.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(self.key)
                    seconds, micros = pipe.time()
                    now = seconds + micros / 1_000_000
                    stored = pipe.get(self.key)
                    earliest = now - (self.burst - 1) * self.interval
                    slot = earliest if stored is None else max(float(stored), earliest)
                    wait = max(slot - now, 0.0)
                    if max_wait is not None and wait > max_wait:
                        raise RateLimitWait(wait)
                    tat = slot + self.interval
                    pipe.multi()
                    pipe.set(self.key, repr(tat), px=self._expiry_ms(tat - now))
                    pipe.execute()
                    return wait
                except redis.WatchError:
                    continue

    def _expiry_ms(self, ahead: float) -> int:
        """Keep the key while its TAT still holds anyone back, and at least `ttl` seconds."""
        needed = ahead + (self.burst - 1) * self.interval
        return max(self.ttl * 1000, math.ceil(needed * 1000))


# GCRA reservation: KEYS[1] holds the TAT; ARGV = interval, burst, max wait (-1 = none),
# ttl ms. Returns the wait in seconds, or minus the wait when it passes the max (nothing
# reserved then).
RESERVE_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local earliest = now - (tonumber(ARGV[2]) - 1) * interval
local stored = redis.call('GET', KEYS[1])
local slot = earliest
if stored and tonumber(stored) > earliest then slot = tonumber(stored) end
local wait = slot - now
if wait < 0 then wait = 0 end
local limit = tonumber(ARGV[3])
if limit >= 0 and wait > limit then return tostring(-wait) end
local tat = slot + interval
local ahead = math.ceil((tat - now + (tonumber(ARGV[2]) - 1) * interval) * 1000)
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.max(tonumber(ARGV[4]), ahead))
return tostring(wait)
"""


def sender_limiter(conn: redis.Redis, sender_id: int, mps: float) -> RedisRateLimiter:
    """The limiter shared by every worker sending from Twilio sender `sender_id`."""
    return RedisRateLimiter(conn, f"console:rate:sender:{sender_id}", rate=mps)
