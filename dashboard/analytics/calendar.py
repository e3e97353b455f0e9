"""Market sessions: which part of the trading day an exchange is in at a given moment.

Times are local to each exchange; weekends are closed; exchange holidays are not
modelled. Between pre-open and the morning session (A-share 09:25-09:30) the market
counts as pre-open: orders are accepted but not yet matched. A trading day is completed
once its market has closed (the end of its last session).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

SESSIONS = ("pre_open", "morning", "lunch", "afternoon", "closed")


@dataclass(frozen=True)
class Market:
    """An exchange's time zone and its trading day as consecutive ``(session, start, end)`` spans."""

    key: str
    tz: str
    day: tuple[tuple[str, time, time], ...]

    @property
    def close(self) -> time:
        """When the trading day ends: the end of its last session."""
        return self.day[-1][2]


def _spans(*spans: tuple[str, str, str]) -> tuple[tuple[str, time, time], ...]:
    return tuple((name, time.fromisoformat(start), time.fromisoformat(end)) for name, start, end in spans)


MARKETS = {
    "cn": Market(
        "cn",
        "Asia/Shanghai",
        _spans(
            ("pre_open", "09:15", "09:30"),
            ("morning", "09:30", "11:30"),
            ("lunch", "11:30", "13:00"),
            ("afternoon", "13:00", "15:00"),
        ),
    ),
    "hk": Market(
        "hk",
        "Asia/Hong_Kong",
        _spans(
            ("pre_open", "09:00", "09:30"),
            ("morning", "09:30", "12:00"),
            ("lunch", "12:00", "13:00"),
            ("afternoon", "13:00", "16:10"),
        ),
    ),  # the afternoon includes the closing auction, 16:00-16:10
}


def session(market: str, now: datetime) -> str:
    """The session ``market`` is in at ``now`` (tz-aware): one of ``SESSIONS``."""
    spec = MARKETS[market]
    local = now.astimezone(ZoneInfo(spec.tz))
    if local.weekday() >= 5:
        return "closed"
    clock = local.time()
    return next((name for name, start, end in spec.day if start <= clock < end), "closed")


def is_trading_day(day: date, market: str) -> bool:
    """Whether ``market`` trades on the local calendar day ``day`` (weekdays; holidays are not modelled)."""
    if market not in MARKETS:
        raise KeyError(market)
    return day.weekday() < 5


def last_completed_trading_day(now: datetime, market: str) -> date:
    """The latest local trading day of ``market`` whose close is at or before ``now`` (tz-aware).

    Before the close (03:00 on a Tuesday) that is the previous trading day (Monday; on a Monday, Friday)."""
    local = now.astimezone(ZoneInfo(MARKETS[market].tz))
    day = local.date() if local.time() >= MARKETS[market].close else local.date() - timedelta(days=1)
    while not is_trading_day(day, market):
        day -= timedelta(days=1)
    return day


def sessions(now: datetime) -> dict[str, str]:
    """Every market's session at ``now``."""
    return {key: session(key, now) for key in MARKETS}


def session_codes(market: str, stamps: pd.DatetimeIndex) -> np.ndarray:
    """Vectorised ``session``: for each tz-aware stamp its index into ``SESSIONS``."""
    spec = MARKETS[market]
    local = stamps.tz_convert(spec.tz)
    clock = local.hour * 60 + local.minute
    codes = np.full(len(stamps), SESSIONS.index("closed"))
    for name, start, end in spec.day:
        inside = (clock >= start.hour * 60 + start.minute) & (clock < end.hour * 60 + end.minute)
        codes[np.asarray(inside)] = SESSIONS.index(name)
    codes[np.asarray(local.day_of_week >= 5)] = SESSIONS.index("closed")
    return codes
