"""The trading calendar: which phase of its trading day a market is in at a given moment, and why it is closed.

Trading days, exchange holidays (with their names) and Hong Kong's half-days come
from the maintained ``exchange_calendars`` package (XSHG for the A-share market and the mainland futures
exchanges, XHKG for Hong Kong); ``holiday_names`` names the holidays the package leaves unnamed. Outside the
years the package knows, weekdays count as trading days. What the package lacks is kept here: the phases inside
a day (call auctions, continuous trading, the lunch break) and the futures night session, whose evening follows
a trading day only when the next weekday trades too (there is no night session before a holiday). Closures an
administrator declares (a typhoon signal, a market-wide halt) are passed in by the caller. Times are local to
each exchange. A trading day is completed once its last phase has ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import exchange_calendars
import numpy as np
import pandas as pd

from dashboard.analytics import holiday_names

PHASES = (
    "pre_open",
    "opening_auction",
    "opening_auction_no_cancel",
    "morning",
    "lunch",
    "afternoon",
    "closing_auction",
    "night",
    "closed",
)
REASONS = ("holiday", "half_day", "closure")  # why a market is closed at a time it would otherwise trade
DEFAULT_NIGHT = ("21:00", "23:00")
CALENDAR_START = "2010-01-01"

Span = tuple[str, time, time]


def _spans(*spans: tuple[str, str, str]) -> tuple[Span, ...]:
    return tuple((name, time.fromisoformat(start), time.fromisoformat(end)) for name, start, end in spans)


@dataclass(frozen=True)
class Market:
    """An exchange's time zone, the exchange calendar it follows, and its day as ``(phase, start, end)`` spans.

    ``half_day`` is the day of an early close (empty: the market has none). ``night`` marks an evening session
    (its end may be after midnight), held after a trading day only when the next weekday trades too."""

    key: str
    tz: str
    exchange: str
    day: tuple[Span, ...]
    half_day: tuple[Span, ...] = ()
    night: bool = False

    def phases(self, half: bool) -> tuple[Span, ...]:
        return self.half_day if half and self.half_day else self.day

    def close(self, half: bool = False) -> time:
        """When the trading day ends: the end of its last phase."""
        return self.phases(half)[-1][2]


# HKEX's pre-opening session: order input, then no cancellation, then random matching and blocking until 09:30
HK_PRE_OPENING = (
    ("opening_auction", "09:00", "09:15"),
    ("opening_auction_no_cancel", "09:15", "09:20"),
    ("pre_open", "09:20", "09:30"),
)
MARKETS = {
    "cn": Market(
        "cn",
        "Asia/Shanghai",
        "XSHG",
        _spans(
            ("opening_auction", "09:15", "09:20"),
            ("opening_auction_no_cancel", "09:20", "09:25"),
            ("pre_open", "09:25", "09:30"),  # the opening price is set; orders queue for 09:30
            ("morning", "09:30", "11:30"),
            ("lunch", "11:30", "13:00"),
            ("afternoon", "13:00", "14:57"),
            ("closing_auction", "14:57", "15:00"),
        ),
    ),
    "hk": Market(
        "hk",
        "Asia/Hong_Kong",
        "XHKG",
        _spans(
            *HK_PRE_OPENING,
            ("morning", "09:30", "12:00"),
            ("lunch", "12:00", "13:00"),
            ("afternoon", "13:00", "16:00"),
            ("closing_auction", "16:00", "16:10"),
        ),
        half_day=_spans(*HK_PRE_OPENING, ("morning", "09:30", "12:00"), ("closing_auction", "12:00", "12:10")),
    ),
}


def futures_night(start: str = DEFAULT_NIGHT[0], end: str = DEFAULT_NIGHT[1]) -> Market:
    """The mainland futures night session from ``start`` to ``end`` (local times; an end at or before the start
    is the next morning), on the A-share calendar."""
    return Market("futures", "Asia/Shanghai", "XSHG", _spans(("night", start, end)), night=True)


# Which phases count as "in session", and for what. Defined here only; every consumer reads these names.
SESSION_PHASES = tuple(p for p in PHASES if p not in ("lunch", "closed"))
"""In session for what an outage costs: every phase from the opening call auction to the close, the pre-open
included (orders are taken then) and the futures night session, but not the lunch break. Read through
``in_session`` by the SLOs (``analytics.slo``: only these minutes' events count, docs/slo.md) and by an incident's
grading (``command.grading.minutes_in_session``, docs/grading.md)."""
LIVE_PHASES = tuple(p for p in SESSION_PHASES if p != "pre_open")
"""Live, when prices move: call auctions and continuous trading (and the night session), not the pre-open, when
the opening price is set and orders wait. Read through ``feed_live``: market-data feeds tick then, so a quiet feed
is late only then (``analytics.feeds``, docs/wall.md), and the demo's feeds tick and its orders flow only then.
A change freeze (``analytics.freeze``, docs/operations.md) covers more than either: the whole trading day from its
first phase to its close, the lunch break included (``session_spans``)."""


@dataclass(frozen=True)
class Closure:
    """A closure an administrator declared: ``market`` is closed from ``start`` to ``end`` (tz-aware)."""

    market: str
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class Session:
    """Where a market is at a moment: its ``phase`` and, when it is closed at a time it would otherwise trade,
    why (``reason``: one of ``REASONS``) and the holiday's name or the closure's reason (``name``)."""

    phase: str
    reason: str = ""
    name: str = ""


@dataclass(frozen=True)
class _Days:
    """What the exchange calendar says about the days it covers."""

    first: date
    last: date
    sessions: frozenset[date]
    half_days: frozenset[date]
    names: dict[date, str]


@cache
def _exchange_days(code: str) -> _Days:
    cal = exchange_calendars.get_calendar(code, start=CALENDAR_START)
    closes = cal.closes.dt.tz_convert(cal.tz)
    regular = max(closes.dt.time)
    half = closes[closes.dt.time < regular].index
    sessions = frozenset(d.date() for d in cal.sessions)
    closed = frozenset(pd.bdate_range(cal.first_session, cal.last_session).date) - sessions
    names = holiday_names.names(code, closed)
    if cal.regular_holidays is not None:
        named = cal.regular_holidays.holidays(cal.first_session, cal.last_session, return_name=True)
        names |= {stamp.date(): str(name) for stamp, name in named.items()}
    return _Days(cal.first_session.date(), cal.last_session.date(), sessions, frozenset(d.date() for d in half), names)


def market(key: str | Market) -> Market:
    """The market of ``key`` (a ``Market`` is returned as it is); KeyError for an unknown key."""
    return key if isinstance(key, Market) else MARKETS[key]


def day_kind(day: date, key: str | Market) -> Session | None:
    """None when the market ``key`` trades on the local day ``day``; otherwise the closed session the whole day is in
    (a weekend has no reason; a holiday has its name, or "" when the exchange calendar gives none)."""
    if day.weekday() >= 5:
        return Session("closed")
    days = _exchange_days(market(key).exchange)
    if not days.first <= day <= days.last or day in days.sessions:
        return None
    return Session("closed", "holiday", days.names.get(day, ""))


def is_trading_day(day: date, key: str | Market) -> bool:
    """Whether the market ``key`` trades on the local calendar day ``day`` (weekends and exchange holidays do not)."""
    return day_kind(day, key) is None


def is_half_day(day: date, key: str | Market) -> bool:
    """Whether ``day`` is one of the market's early closes (Hong Kong's Christmas, New Year and Lunar New Year
    eves)."""
    spec = market(key)
    return bool(spec.half_day) and day in _exchange_days(spec.exchange).half_days


def _next_weekday(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _night_session(spec: Market, local: datetime) -> Session:
    """The night market at local time ``local``: in session when the evening it belongs to is a trading day
    followed by a trading day (the next weekday)."""
    name, start, end = spec.day[0]
    clock, evening = local.time(), local.date()
    if end <= start and clock < end:
        evening -= timedelta(days=1)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return Session("closed")
    return day_kind(evening, spec) or day_kind(_next_weekday(evening), spec) or Session(name)


def _local_session(spec: Market, local: datetime) -> Session:
    """The session of ``spec`` at its local time ``local``, before declared closures."""
    if spec.night:
        return _night_session(spec, local)
    closed_day = day_kind(local.date(), spec)
    if closed_day:
        return closed_day
    half = is_half_day(local.date(), spec)
    clock = local.time()
    phase = next((name for name, start, end in spec.phases(half) if start <= clock < end), None)
    if phase:
        return Session(phase)
    after_early_close = half and spec.close(True) <= clock < spec.close()
    return Session("closed", "half_day") if after_early_close else Session("closed")


def session(key: str | Market, now: datetime, closures: tuple[Closure, ...] = ()) -> Session:
    """The session the market ``key`` is in at ``now`` (tz-aware); a declared closure covering ``now`` wins."""
    spec = market(key)
    for closure in closures:
        if closure.market == spec.key and closure.start <= now < closure.end:
            return Session("closed", "closure", closure.reason)
    return _local_session(spec, now.astimezone(ZoneInfo(spec.tz)))


def sessions(
    now: datetime, markets: tuple[Market, ...] = tuple(MARKETS.values()), closures: tuple[Closure, ...] = ()
) -> dict[str, Session]:
    """Each of ``markets``' session at ``now``."""
    return {spec.key: session(spec, now, closures) for spec in markets}


def last_completed_trading_day(now: datetime, key: str | Market) -> date:
    """The latest local trading day of the market ``key`` whose last phase has ended at or before ``now`` (tz-aware).

    Before the close (03:00 on a Tuesday) that is the previous trading day (Monday; on a Monday, Friday;
    after a holiday, the day before it)."""
    spec = market(key)
    local = now.astimezone(ZoneInfo(spec.tz))
    day = local.date()
    if not (is_trading_day(day, spec) and local.time() >= spec.close(is_half_day(day, spec))):
        day -= timedelta(days=1)
    while not is_trading_day(day, spec):
        day -= timedelta(days=1)
    return day


def session_codes(key: str | Market, stamps: pd.DatetimeIndex, closures: tuple[Closure, ...] = ()) -> np.ndarray:
    """``session`` for many tz-aware stamps: for each its index into ``PHASES`` (closed within a closure)."""
    spec = market(key)
    codes, uniques = pd.factorize(stamps.tz_convert(spec.tz))
    table = np.array([PHASES.index(_local_session(spec, u.to_pydatetime()).phase) for u in uniques], dtype="int64")
    out = table[codes] if len(codes) else np.zeros(0, dtype="int64")
    for closure in (c for c in closures if c.market == spec.key):
        out[(stamps >= closure.start) & (stamps < closure.end)] = PHASES.index("closed")
    return out


def session_spans(
    key: str | Market, first: date, last: date, closures: tuple[Closure, ...] = ()
) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The spans (tz-aware, in order, not overlapping) in which the market ``key`` is in session on the local days
    ``first`` to ``last``: from the start of a trading day's first phase to the end of its last (the lunch break
    included), or a night session's evening; declared closures cut out."""
    spec = market(key)
    spans = []
    for day in pd.date_range(first, last, freq="D").date:
        if spec.night:
            trades = is_trading_day(day, spec) and is_trading_day(_next_weekday(day), spec)
        else:
            trades = is_trading_day(day, spec)
        if not trades:
            continue
        phases = spec.phases(is_half_day(day, spec))
        start = pd.Timestamp(datetime.combine(day, phases[0][1]), tz=spec.tz)
        end = pd.Timestamp(datetime.combine(day, phases[-1][2]), tz=spec.tz)
        spans.append((start, end if end > start else end + pd.Timedelta(days=1)))
    for closure in (c for c in closures if c.market == spec.key):
        cut = pd.Timestamp(closure.start), pd.Timestamp(closure.end)
        spans = [
            part
            for start, end in spans
            for part in ((start, min(end, cut[0])), (max(start, cut[1]), end))
            if part[0] < part[1]
        ]
    return spans


def in_session(key: str | Market, stamps: pd.DatetimeIndex, closures: tuple[Closure, ...] = ()) -> np.ndarray:
    """For each tz-aware stamp, whether the market ``key`` is in one of ``SESSION_PHASES`` (not the lunch break,
    not closed, not within a declared closure)."""
    return np.isin(session_codes(key, stamps, closures), [PHASES.index(p) for p in SESSION_PHASES])


FEED_MARKETS = {  # a market-data feed's market -> the calendar markets during whose live phases it ticks
    "SSE": ("cn",),
    "SZSE": ("cn",),
    "HKEX": ("hk",),
    "futures": ("cn", "futures"),  # the day session on the A-share calendar, and the night session
    "indices": ("cn",),
}


def feed_live(feed_market: str, now: datetime, closures: tuple[Closure, ...] = ()) -> bool:
    """Whether a feed of ``feed_market`` (a key of ``FEED_MARKETS``) should tick at ``now``: one of its calendar
    markets is in one of ``LIVE_PHASES`` (an auction or continuous trading; not pre-open, lunch or closed)."""
    night = futures_night()
    return any(
        session(night if key == "futures" else key, now, closures).phase in LIVE_PHASES
        for key in FEED_MARKETS[feed_market]
    )
