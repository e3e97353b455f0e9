"""The time window every drill-down link carries as ``?from=&to=``.

Accepted forms: ``now``, ``now-15m`` / ``now-6h`` / ``now-2d`` (relative), an ISO 8601
timestamp (UTC unless it has an offset), or Unix epoch milliseconds. Relative forms stay
relative in links, so a bookmarked view keeps following the clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pandas as pd

from datasources.base import as_utc

DEFAULT_FROM, DEFAULT_TO = "now-1h", "now"
MAX_SPAN = timedelta(days=31)
_RELATIVE = re.compile(r"^now(?:-(\d{1,5})([smhd]))?$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class WindowError(ValueError):
    """A ``from`` or ``to`` value that cannot be understood."""


@dataclass(frozen=True)
class Window:
    """A resolved window: the raw URL values and the UTC instants they mean now."""

    raw_from: str
    raw_to: str
    start: pd.Timestamp
    end: pd.Timestamp

    def query(self, **extra: str) -> str:
        """The query string that carries this window (and ``extra``) to the next page."""
        return "?" + urlencode({"from": self.raw_from, "to": self.raw_to, **extra})


def instant(value: str, now: datetime, name: str) -> pd.Timestamp:
    """The UTC instant one bound ``name`` (``from`` or ``to``) means at ``now``."""
    match = _RELATIVE.match(value)
    if match:
        amount, unit = match.groups()
        return pd.Timestamp(now) - (pd.Timedelta(**{_UNITS[unit]: int(amount)}) if amount else pd.Timedelta(0))
    if value.isdigit() and len(value) <= 14:
        return pd.Timestamp(int(value), unit="ms", tz="UTC")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise WindowError(f"{name}={value[:40]!r} is not 'now', 'now-<n><s|m|h|d>', ISO 8601 or epoch ms") from None
    if pd.isna(stamp):
        raise WindowError(f"{name}={value[:40]!r} is not a time")
    return as_utc(stamp)


def resolve(raw_from: str | None, raw_to: str | None, now: datetime | None = None) -> Window:
    """Resolve URL values into a window; raise WindowError when they make no sense."""
    now = now or datetime.now(UTC)
    raw_from, raw_to = (raw_from or DEFAULT_FROM).strip(), (raw_to or DEFAULT_TO).strip()
    start, end = instant(raw_from, now, "from"), instant(raw_to, now, "to")
    if start >= end:
        raise WindowError("from must be before to")
    if end - start > MAX_SPAN:
        raise WindowError(f"the window may span at most {MAX_SPAN.days} days")
    return Window(raw_from, raw_to, start, end)
