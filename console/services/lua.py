"""Lua scripts on Redis, where Redis runs Lua: one atomic round trip for a rate-limit
slot, a leader lease or a lock's release. fakeredis without lupa (the embedded mode)
runs none; callers then fall back to WATCH/MULTI."""

from __future__ import annotations

import redis

# What `run` answers on a Redis that runs no Lua.
NO_LUA = object()


def run(conn: redis.Redis, source: str, keys: list[str], args: list[str]) -> object:
    """Script `source`'s answer for `keys` and `args`, or `NO_LUA`.

    The script is loaded once per connection and found again after Redis restarted and
    forgot it.
    """
    shas = conn.__dict__.setdefault("_console_lua_shas", {})
    if source not in shas:
        try:
            shas[source] = conn.script_load(source)
        except redis.ResponseError:
            shas[source] = None
    if shas[source] is None:
        return NO_LUA
    try:
        return conn.evalsha(shas[source], len(keys), *keys, *args)
    except redis.exceptions.NoScriptError:  # Redis restarted and forgot the script
        shas[source] = conn.script_load(source)
        return conn.evalsha(shas[source], len(keys), *keys, *args)
