"""One holder at a time for a role many workers can play (the sending ticker)."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable

import redis

from console.services import lua


class LeaderLease:
    """A role held by one process at a time through a Redis key with a deadline.

    The holder renews the key before its deadline; a holder that dies or loses Redis
    stops renewing, and after `ttl` seconds another process takes the role over. The
    key's value is `<holder> <deadline>`, the deadline on `clock` (the Redis server's
    clock by default, so the machines' clocks do not matter); taking, renewing and
    giving up compare the holder first, in one Lua script or under WATCH where the
    Redis runs no Lua (fakeredis, embedded). The holder's own view (`held`) ends
    `ttl` seconds after the renewal began by `local_clock`, never after the key's.
    """

    def __init__(
        self,
        conn: redis.Redis,
        key: str,
        ttl: float,
        holder: str | None = None,
        clock: Callable[[], float] | None = None,
        local_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"ttl must be > 0, got {ttl}")
        self.conn = conn
        self.key = key
        self.ttl = ttl
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        if " " in self.holder:
            raise ValueError("a holder's name has no spaces")
        self.clock = clock or self._redis_time
        self.local_clock = local_clock
        self._held_until: float | None = None

    def hold(self) -> bool:
        """Take the role if it is free or its holder's deadline passed, or renew it if
        ours; True while we hold it. Redis errors propagate (and end our view of it)."""
        started = self.local_clock()
        try:
            now = self.clock()
            taken = self._run("hold", [self.holder, repr(now), repr(now + self.ttl), self._px()])
        except redis.RedisError:
            self._held_until = None
            raise
        self._held_until = started + self.ttl if taken else None
        return taken

    def held(self) -> bool:
        """Whether we hold the role now, as far as this process can tell."""
        return self._held_until is not None and self.local_clock() < self._held_until

    def release(self) -> None:
        """Give the role up at once if it is still ours (compare-and-delete)."""
        self._held_until = None
        self._run("release", [self.holder])

    def holder_now(self) -> str | None:
        """Who holds the key now (its deadline may have passed), or None."""
        stored = self.conn.get(self.key)
        return _parse(stored)[0] if stored is not None else None

    def _px(self) -> str:
        # The key goes away by itself a little after the deadline, so a dead holder
        # leaves nothing behind on a real Redis.
        return str(int(self.ttl * 1000) + 1000)

    def _redis_time(self) -> float:
        seconds, micros = self.conn.time()
        return seconds + micros / 1_000_000

    def _run(self, name: str, args: list[str]) -> bool:
        answer = lua.run(self.conn, SCRIPTS[name], [self.key], args)
        if answer is lua.NO_LUA:
            return WATCH_FALLBACKS[name](self.conn, self.key, args)
        return bool(answer)


def _parse(stored: bytes | str) -> tuple[str, float]:
    text = stored.decode() if isinstance(stored, bytes) else stored
    holder, _, deadline = text.partition(" ")
    return holder, float(deadline or 0)


def _hold_watch(conn: redis.Redis, key: str, args: list[str]) -> bool:
    holder, now, deadline, px = args
    with conn.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                stored = pipe.get(key)
                if stored is not None:
                    owner, until = _parse(stored)
                    if owner != holder and until > float(now):
                        pipe.unwatch()
                        return False
                pipe.multi()
                pipe.set(key, f"{holder} {deadline}", px=int(px))
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def _release_watch(conn: redis.Redis, key: str, args: list[str]) -> bool:
    (holder,) = args
    with conn.pipeline() as pipe:
        while True:
            try:
                pipe.watch(key)
                stored = pipe.get(key)
                if stored is None or _parse(stored)[0] != holder:
                    pipe.unwatch()
                    return False
                pipe.multi()
                pipe.delete(key)
                pipe.execute()
                return True
            except redis.WatchError:
                continue


WATCH_FALLBACKS = {"hold": _hold_watch, "release": _release_watch}

# KEYS[1] = the role's key; ARGV = holder, now, new deadline, expiry in ms.
HOLD_LUA = """
local stored = redis.call('GET', KEYS[1])
if stored then
  local sep = string.find(stored, ' ', 1, true)
  local owner = string.sub(stored, 1, sep - 1)
  if owner ~= ARGV[1] and tonumber(string.sub(stored, sep + 1)) > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[3], 'PX', ARGV[4])
return 1
"""

# KEYS[1] = the role's key; ARGV[1] = holder.
RELEASE_LUA = """
local stored = redis.call('GET', KEYS[1])
if stored and string.sub(stored, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

SCRIPTS = {"hold": HOLD_LUA, "release": RELEASE_LUA}
