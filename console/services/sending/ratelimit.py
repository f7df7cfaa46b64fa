"""Rate limits for calls to the outside world."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

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


# Adaptive slowdown after 429s: the rate is cut when at least this share of a sender's
# recent tries (at least SLOWDOWN_MIN_TRIES of the last SLOWDOWN_WINDOW) were refused
# with 429. A stray 429 among many answered tries is no sign of a limit; a run of them is.
SLOWDOWN_WINDOW = 20
SLOWDOWN_MIN_TRIES = 10
SLOWDOWN_SHARE = 0.5
# Each cut halves the rate in force (never below this share of the sender's rate), at
# most once in this many seconds across every worker.
SLOWDOWN_CUT = 0.5
SLOWDOWN_FLOOR = 0.1
SLOWDOWN_GAP_SECONDS = 2.0
# After a cut the rate climbs back linearly: the whole rate in this many seconds.
SLOWDOWN_RECOVERY_SECONDS = 60.0


@dataclass(frozen=True)
class Pace:
    """A sender's rate now: its full rate, the share of it in force, and when it is back."""

    rate: float
    factor: float = 1.0
    full_in: float = 0.0

    @property
    def current(self) -> float:
        """Messages a second allowed now."""
        return self.rate * self.factor

    @property
    def slowed(self) -> bool:
        """Whether 429s have cut the rate below the sender's own."""
        return self.factor < 0.999


def _factor(stored: str | bytes | None, now: float) -> tuple[float, float]:
    """The share of the rate in force at `now` after the cut `stored` ("factor at"),
    and the seconds until it is whole again."""
    if not stored:
        return 1.0, 0.0
    if isinstance(stored, bytes):
        stored = stored.decode()
    cut, at = (float(part) for part in stored.split())
    factor = min(1.0, cut + max(now - at, 0.0) / SLOWDOWN_RECOVERY_SECONDS)
    return factor, (1.0 - factor) * SLOWDOWN_RECOVERY_SECONDS


class RedisRateLimiter:
    """At most `rate` calls a second under one Redis key, across processes and machines.

    A Twilio sender allows only so many messages a second however many workers send
    from it, so the schedule lives in Redis (GCRA): the key holds the theoretical
    arrival time (TAT) of the next free slot, on the Redis server's clock so that the
    clocks of the workers' machines do not matter. Each caller reserves a slot and
    then waits for it; `burst` slots may be taken at once after a quiet spell.

    The rate adapts to 429s: `note` is told how each try went, and when many recent
    tries were refused the rate in force is cut (in Redis, under `<key>:slow`, so
    every worker slows down), then climbs back over a minute.
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
        self.slow_key = f"{key}:slow"
        self.tries: deque[bool] = deque(maxlen=SLOWDOWN_WINDOW)

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
        args = [
            repr(self.interval),
            str(self.burst),
            repr(limit),
            str(self.ttl * 1000),
            repr(SLOWDOWN_RECOVERY_SECONDS),
        ]
        answer = lua.run(self.conn, RESERVE_LUA, [self.key, self.slow_key], args)
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
                    pipe.watch(self.key, self.slow_key)
                    seconds, micros = pipe.time()
                    now = seconds + micros / 1_000_000
                    stored = pipe.get(self.key)
                    interval = self.interval / _factor(pipe.get(self.slow_key), now)[0]
                    earliest = now - (self.burst - 1) * interval
                    slot = earliest if stored is None else max(float(stored), earliest)
                    wait = max(slot - now, 0.0)
                    if max_wait is not None and wait > max_wait:
                        raise RateLimitWait(wait)
                    tat = slot + interval
                    pipe.multi()
                    pipe.set(self.key, repr(tat), px=self._expiry_ms(tat - now))
                    pipe.execute()
                    return wait
                except redis.WatchError:
                    continue

    def refund(self) -> None:
        """Give back the last slot reserved: Twilio refused the text (a 429, a 5xx it
        did not act on, a number it would not take), so the sender sent nothing with it."""
        answer = lua.run(self.conn, REFUND_LUA, [self.key, self.slow_key], self._refund_args())
        if answer is not lua.NO_LUA:
            return
        with self.conn.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(self.key, self.slow_key)
                    seconds, micros = pipe.time()
                    now = seconds + micros / 1_000_000
                    stored = pipe.get(self.key)
                    if stored is None:
                        pipe.unwatch()
                        return
                    interval = self.interval / _factor(pipe.get(self.slow_key), now)[0]
                    tat = max(float(stored) - interval, now)
                    pipe.multi()
                    pipe.set(self.key, repr(tat), keepttl=True)
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue

    def _refund_args(self) -> list[str]:
        return [repr(self.interval), repr(SLOWDOWN_RECOVERY_SECONDS)]

    def note(self, throttled: bool) -> bool:
        """Count one try (`throttled`: Twilio answered 429); True when this one cut the
        rate because too many recent tries were refused."""
        self.tries.append(throttled)
        refused = sum(self.tries)
        if not throttled or len(self.tries) < SLOWDOWN_MIN_TRIES:
            return False
        if refused < SLOWDOWN_SHARE * len(self.tries):
            return False
        self.tries.clear()
        return self.slow_down()

    def slow_down(self) -> bool:
        """Cut the rate in force by half (to no less than the floor), unless another
        worker cut it moments ago; True when cut."""
        args = [repr(SLOWDOWN_CUT), repr(SLOWDOWN_FLOOR), repr(SLOWDOWN_GAP_SECONDS)]
        args.append(repr(SLOWDOWN_RECOVERY_SECONDS))
        answer = lua.run(self.conn, SLOW_DOWN_LUA, [self.slow_key], args)
        if answer is not lua.NO_LUA:
            return bool(int(answer))
        with self.conn.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(self.slow_key)
                    seconds, micros = pipe.time()
                    now = seconds + micros / 1_000_000
                    stored = pipe.get(self.slow_key)
                    if stored and now - float(stored.split()[1]) < SLOWDOWN_GAP_SECONDS:
                        pipe.unwatch()
                        return False
                    factor = _factor(stored, now)[0]
                    cut = max(SLOWDOWN_FLOOR, factor * SLOWDOWN_CUT)
                    pipe.multi()
                    pipe.set(self.slow_key, f"{cut:.6f} {now:.6f}", ex=_slow_ttl())
                    pipe.execute()
                    return True
                except redis.WatchError:
                    continue

    def pace(self) -> Pace:
        """The rate in force now and when it is whole again."""
        seconds, micros = self.conn.time()
        factor, full_in = _factor(self.conn.get(self.slow_key), seconds + micros / 1_000_000)
        return Pace(rate=self.rate, factor=factor, full_in=full_in)

    def _expiry_ms(self, ahead: float) -> int:
        """Keep the key while its TAT still holds anyone back, and at least `ttl` seconds."""
        needed = ahead + (self.burst - 1) * self.interval
        return max(self.ttl * 1000, math.ceil(needed * 1000))


def _slow_ttl() -> int:
    """Seconds a cut is kept: until the rate is whole again even from the floor."""
    return math.ceil(SLOWDOWN_RECOVERY_SECONDS) + 5


# The interval between slots in force: the sender's, stretched while a 429 cut (KEYS[2],
# "factor at") climbs back over `recovery` seconds. Shared by the scripts below.
IN_FORCE_LUA = """
local function in_force(interval, now, recovery)
  local slow = redis.call('GET', KEYS[2])
  if not slow then return interval end
  local cut, at = string.match(slow, '(%S+) (%S+)')
  local factor = tonumber(cut) + math.max(now - tonumber(at), 0) / recovery
  if factor < 1 then return interval / factor end
  return interval
end
"""


# GCRA reservation: KEYS[1] holds the TAT, KEYS[2] the last 429 cut ("factor at");
# ARGV = interval, burst, max wait (-1 = none), ttl ms, recovery seconds. Returns the
# wait in seconds, or minus the wait when it passes the max (nothing reserved then).
RESERVE_LUA = (
    IN_FORCE_LUA
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = in_force(tonumber(ARGV[1]), now, tonumber(ARGV[5]))
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
)


# A refund: KEYS[1] holds the TAT, KEYS[2] the last 429 cut; ARGV = interval, recovery
# seconds. Moves the TAT back one interval in force, never before now.
REFUND_LUA = (
    IN_FORCE_LUA
    + """
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = in_force(tonumber(ARGV[1]), now, tonumber(ARGV[2]))
local tat = math.max(tonumber(stored) - interval, now)
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'KEEPTTL')
return 1
"""
)

# A 429 cut: KEYS[1] holds "factor at"; ARGV = cut, floor, gap seconds, recovery
# seconds. Returns 1 when the rate was cut, 0 when another worker cut it moments ago.
SLOW_DOWN_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local factor = 1
local slow = redis.call('GET', KEYS[1])
if slow then
  local cut, at = string.match(slow, '(%S+) (%S+)')
  if now - tonumber(at) < tonumber(ARGV[3]) then return 0 end
  factor = math.min(1, tonumber(cut) + (now - tonumber(at)) / tonumber(ARGV[4]))
end
local new = math.max(tonumber(ARGV[2]), factor * tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%.6f %.6f', new, now), 'EX',
  math.ceil(tonumber(ARGV[4])) + 5)
return 1
"""


def sender_limiter(conn: redis.Redis, sender_id: int, mps: float) -> RedisRateLimiter:
    """The limiter shared by every worker sending from Twilio sender `sender_id`."""
    return RedisRateLimiter(conn, f"console:rate:sender:{sender_id}", rate=mps)
