"""Login throttling: failed sign-ins counted per user name and per address with ``limits``.

The counts live in Redis when ``OPSCENTER_REDIS_URL`` is set (every web worker sees the same
ones, and they outlive a worker's restart), else in process memory (``opscenter run``). Only
failures count, and the windows stack into a lockout that backs off: five failures for one name
wait out the minute, ten the quarter hour, twenty the hour; an address that fails for many
names is held the same way. A held attempt is answered 429 with ``Retry-After`` before any
password is hashed. The same storage remembers which single-use form tokens have been spent.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItemPerSecond, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

PER_USER = parse_many("5 per minute; 10 per 15 minutes; 20 per hour")
PER_ADDRESS = parse_many("20 per minute; 100 per hour")


def _user_key(name: str) -> str:
    """A user name as a key: any text may arrive in the form, the key stays short."""
    return hashlib.sha256(name.encode("utf-8", "replace")).hexdigest()[:32]


class Throttle:
    """Failed-login counts and spent form tokens, in Redis (``redis_url``) or in memory.

    Every method raises ``StorageError`` while Redis is unreachable; sign-in then refuses
    (fails closed) rather than lifting the limits.
    """

    def __init__(self, redis_url: str | None, deployment: str):
        self.prefix = f"opscenter:{deployment}:login"
        self.limiter = FixedWindowRateLimiter(storage_from_string(redis_url or "memory://", wrap_exceptions=True))

    def _counts(self, user: str, address: str):
        yield from ((item, "user", _user_key(user)) for item in PER_USER)
        yield from ((item, "address", address) for item in PER_ADDRESS)

    def wait(self, user: str, address: str) -> int:
        """Whole seconds before ``user`` may try again from ``address``; 0 when they may now."""
        resets = [
            self.limiter.get_window_stats(item, self.prefix, *key).reset_time
            for item, *key in self._counts(user, address)
            if not self.limiter.test(item, self.prefix, *key)
        ]
        return max(1, math.ceil(max(resets) - time.time())) if resets else 0

    def failed(self, user: str, address: str) -> None:
        """Count a failed sign-in of ``user`` from ``address``."""
        for item, *key in self._counts(user, address):
            self.limiter.hit(item, self.prefix, *key)

    def first_use(self, kind: str, value: str, seconds: int) -> bool:
        """True the first time ``value`` is presented within ``seconds``, False after."""
        return self.limiter.hit(RateLimitItemPerSecond(1, seconds), self.prefix, "once", kind, value)
