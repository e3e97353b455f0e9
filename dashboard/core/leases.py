"""Poller leases: a source is polled in one place at a time, and stays there.

A lease lasts one interval. In-process (the embedded default) a dict under a lock holds it; in Redis
a Lua script on Redis's own clock does, sticky: its value names its holder and when it falls due,
and for a grace after that only the holder may claim it again.
"""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager

import redis

from dashboard.core.store import FrameStore, RedisFrameCache

MIN_LEASE_S = 0.001  # a poll that outlasted its interval leaves its source due at once


MAX_GRACE_S = 5.0  # a lease's holder polls well within this of falling due (ticks are 0.5 s)


class LocalLeases:
    """Leases held in this process (the embedded default)."""

    def __init__(self):
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, name: str, seconds: float) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._until.get(name, 0.0) > now:
                return False
            self._until[name] = now + seconds
            return True

    def hold(self, name: str, seconds: float, grace: float | None = None) -> None:
        """Hold the lease for ``seconds`` (one poller per process: no grace is needed)."""
        with self._lock:
            self._until[name] = time.monotonic() + seconds


class RedisLeases:
    """Leases in Redis, shared by every poller of a deployment, and sticky: a lease lasts
    ``seconds`` plus a grace (``grace_s``) in which only its holder may claim it again, so a
    source stays with the poller that polls it (and keeps its anomaly model there) until that
    poller stops; then the next one to try takes it over."""

    # KEYS[1] the lease; ARGV: owner, seconds (ms), grace (ms), whether to claim (1) or hold (0).
    # The value is "<owner> <due, ms of Redis' clock>"; claiming needs no holder, or the caller
    # holding it and the lease being due.
    SCRIPT = """
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local held = redis.call('GET', KEYS[1])
if ARGV[4] == '1' and held then
  local owner, due = string.match(held, '^(%S+) (%d+)$')
  if owner ~= ARGV[1] or now < tonumber(due) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. (now + tonumber(ARGV[2])), 'PX', tonumber(ARGV[2]) + tonumber(ARGV[3]))
return 1
"""

    def __init__(self, client: redis.Redis, prefix: str):
        self.client, self.prefix, self.owner = client, prefix, uuid.uuid4().hex
        self._script = client.register_script(self.SCRIPT)

    def _run(self, name: str, seconds: float, grace: float, claim: bool) -> bool:
        return bool(
            self._script(
                keys=[f"{self.prefix}lease:{name}"],
                args=[self.owner, max(int(seconds * 1000), 1), int(grace * 1000), int(claim)],
            )
        )

    def claim(self, name: str, seconds: float) -> bool:
        return self._run(name, seconds, grace_s(seconds), claim=True)

    def hold(self, name: str, seconds: float, grace: float | None = None) -> None:
        """Hold the lease for ``seconds``, then for ``grace`` (default ``grace_s(seconds)``) only for its holder."""
        self._run(name, seconds, grace_s(seconds) if grace is None else grace, claim=False)


def grace_s(seconds: float) -> float:
    """How long after a lease falls due only its holder may claim it: half its length, at most ``MAX_GRACE_S``."""
    return min(seconds / 2, MAX_GRACE_S)


def leases_for(store: FrameStore):
    """Return the lease kind matching the store's backend."""
    if isinstance(store.cache, RedisFrameCache):
        return RedisLeases(store.cache._write_client, store.prefix)
    return LocalLeases()


@contextmanager
def renewing(leases, name: str, seconds: float):
    """Renew lease ``name`` for ``seconds`` every half of that while the block runs, so a poll longer
    than its interval still runs in one place, and a poller that dies loses the lease within ``seconds``."""
    done = threading.Event()

    def renew():
        while not done.wait(seconds / 2):
            leases.hold(name, seconds)

    renewal = threading.Thread(target=renew, name=f"opscenter-lease-{name}", daemon=True)
    renewal.start()
    try:
        yield
    finally:
        done.set()
        renewal.join()
