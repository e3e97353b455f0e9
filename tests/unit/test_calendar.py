"""The trading calendar: phases, holidays, half-days, declared closures and the futures night session."""

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from dashboard.analytics import holiday_names
from dashboard.analytics.calendar import (
    LIVE_PHASES,
    MARKETS,
    PHASES,
    SESSION_PHASES,
    Closure,
    Session,
    day_kind,
    feed_live,
    futures_night,
    in_session,
    is_half_day,
    is_trading_day,
    last_completed_trading_day,
    session,
    session_codes,
    sessions,
)
from datasources.demo.business import orders_flow

SHANGHAI = ZoneInfo("Asia/Shanghai")
HONG_KONG = ZoneInfo("Asia/Hong_Kong")
TYPHOON = Closure(
    "hk",
    datetime(2026, 9, 16, 9, 0, tzinfo=HONG_KONG),
    datetime(2026, 9, 16, 16, 10, tzinfo=HONG_KONG),
    "Typhoon signal No. 8",
)


def _at(text: str, tz=SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


# market, local time, (phase, reason, name): known dates and minutes of both markets
KNOWN = [
    ("cn", "2025-10-01 10:00", ("closed", "holiday", "National Day holiday")),  # named by holiday_names
    ("hk", "2025-10-01 10:00", ("closed", "holiday", "National Day")),
    (
        "cn",
        "2025-10-08 10:00",
        ("closed", "holiday", "National Day holiday"),
    ),  # the Golden Week: A-shares closed, Hong Kong trades
    ("hk", "2025-10-08 10:00", ("morning", "", "")),
    ("cn", "2026-02-17 10:00", ("closed", "holiday", "Spring Festival")),
    ("hk", "2026-02-17 10:00", ("closed", "holiday", "Lunar New Year")),  # XHKG leaves it unnamed
    ("hk", "2025-12-24 09:15", ("opening_auction_no_cancel", "", "")),  # Christmas Eve: a half-day
    ("hk", "2025-12-24 11:59", ("morning", "", "")),
    ("hk", "2025-12-24 12:05", ("closing_auction", "", "")),
    ("hk", "2025-12-24 12:10", ("closed", "half_day", "")),
    ("hk", "2025-12-24 14:00", ("closed", "half_day", "")),  # the afternoon of a half-day is closed
    ("hk", "2025-12-24 16:30", ("closed", "", "")),  # after the normal close: closed as any evening
    ("cn", "2025-12-24 14:00", ("afternoon", "", "")),  # A-shares have no half-days
    ("hk", "2025-12-25 10:00", ("closed", "holiday", "Christmas")),
    ("cn", "2026-11-18 09:14:59", ("closed", "", "")),
    ("cn", "2026-11-18 09:15", ("opening_auction", "", "")),
    ("cn", "2026-11-18 09:19:59", ("opening_auction", "", "")),
    ("cn", "2026-11-18 09:22", ("opening_auction_no_cancel", "", "")),  # orders in, no cancellations
    ("cn", "2026-11-18 09:25", ("pre_open", "", "")),
    ("cn", "2026-11-18 09:30", ("morning", "", "")),
    ("cn", "2026-11-18 11:30", ("lunch", "", "")),
    ("cn", "2026-11-18 13:00", ("afternoon", "", "")),
    ("cn", "2026-11-18 14:56:59", ("afternoon", "", "")),
    ("cn", "2026-11-18 14:58", ("closing_auction", "", "")),
    ("cn", "2026-11-18 15:00", ("closed", "", "")),
    ("hk", "2026-11-18 08:59", ("closed", "", "")),
    ("hk", "2026-11-18 09:00", ("opening_auction", "", "")),  # the pre-opening session's order input
    ("hk", "2026-11-18 09:17", ("opening_auction_no_cancel", "", "")),
    ("hk", "2026-11-18 09:25", ("pre_open", "", "")),  # random matching, then blocking until 09:30
    ("hk", "2026-11-18 09:30", ("morning", "", "")),
    ("hk", "2026-11-18 12:00", ("lunch", "", "")),
    ("hk", "2026-11-18 13:00", ("afternoon", "", "")),
    ("hk", "2026-11-18 16:05", ("closing_auction", "", "")),
    ("hk", "2026-11-18 16:10", ("closed", "", "")),
    ("cn", "2026-11-21 10:00", ("closed", "", "")),  # Saturday
    ("hk", "2026-11-22 10:00", ("closed", "", "")),  # Sunday
]


@pytest.mark.parametrize("key, local, expected", KNOWN)
def test_known_dates_and_minutes(key, local, expected):
    tz = SHANGHAI if key == "cn" else HONG_KONG
    assert session(key, _at(local, tz)) == Session(*expected)


def test_the_vectorised_phases_match_the_single_ones():
    stamps = pd.DatetimeIndex(
        [_at(local, SHANGHAI if key == "cn" else HONG_KONG).astimezone(UTC) for key, local, _ in KNOWN]
    )
    for key in MARKETS:
        expected = [PHASES.index(session(key, stamp).phase) for stamp in stamps]
        assert list(session_codes(key, stamps)) == expected
    assert session_codes("cn", pd.DatetimeIndex([], tz=UTC)).shape == (0,)


def test_a_holiday_is_a_closed_day_for_the_anomaly_baseline():
    """The same minute of a trading day and of a holiday fall in different conditions."""
    trading, holiday = pd.DatetimeIndex([_at("2025-09-30 10:00"), _at("2025-10-01 10:00")])
    codes = session_codes("cn", pd.DatetimeIndex([trading, holiday]))
    assert [PHASES[c] for c in codes] == ["morning", "closed"]


def test_a_declared_closure_closes_its_market_only_while_it_lasts():
    closures = (TYPHOON,)
    assert session("hk", _at("2026-09-16 10:00", HONG_KONG), closures) == Session(
        "closed", "closure", "Typhoon signal No. 8"
    )
    assert session("hk", _at("2026-09-16 16:10", HONG_KONG), closures) == Session("closed")
    assert session("hk", _at("2026-09-16 08:59", HONG_KONG), closures) == Session("closed")
    assert session("cn", _at("2026-09-16 10:00"), closures) == Session("morning")


@pytest.mark.parametrize(
    "local, expected",
    [
        ("2026-11-18 21:00", Session("night")),
        ("2026-11-18 22:59", Session("night")),
        ("2026-11-18 23:00", Session("closed")),
        ("2026-11-18 20:59", Session("closed")),
        ("2026-11-20 21:30", Session("night")),  # Friday night trades for Monday
        ("2026-11-21 21:30", Session("closed")),  # Saturday
        (
            "2025-09-30 21:30",
            Session("closed", "holiday", "National Day holiday"),
        ),  # no night session before National Day
        ("2025-10-09 21:30", Session("night")),  # the evening of the first trading day after it
    ],
)
def test_the_futures_night_session(local, expected):
    assert session(futures_night(), _at(local)) == expected


def test_a_night_session_past_midnight_belongs_to_the_evening_it_started():
    late = futures_night("21:00", "02:30")
    assert session(late, _at("2026-11-21 01:00")) == Session("night")  # Friday's night, on Saturday morning
    assert session(late, _at("2026-11-21 02:30")) == Session("closed")
    assert session(late, _at("2026-11-22 01:00")) == Session("closed")  # Saturday's: none


def test_sessions_cover_the_markets_asked_for():
    now = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai and Hong Kong
    assert sessions(now) == {"cn": Session("morning"), "hk": Session("morning")}
    assert sessions(now, (futures_night(),)) == {"futures": Session("closed")}


@pytest.mark.parametrize(
    "key, local, expected",
    [
        ("cn", "2026-11-17 03:00", date(2026, 11, 16)),  # Tuesday before the open: Monday
        ("cn", "2026-11-16 03:00", date(2026, 11, 13)),  # Monday before the open: Friday
        ("cn", "2026-11-17 14:59:59", date(2026, 11, 16)),  # still trading
        ("cn", "2026-11-17 15:00", date(2026, 11, 17)),  # at the close the day is completed
        ("cn", "2026-11-22 23:59", date(2026, 11, 20)),  # Sunday night: Friday
        ("cn", "2025-10-05 12:00", date(2025, 9, 30)),  # in the Golden Week: the day before it
        ("cn", "2025-10-09 14:00", date(2025, 9, 30)),  # the first day after it, before its close
        ("hk", "2025-12-24 12:09", date(2025, 12, 23)),  # a half-day ends at 12:10
        ("hk", "2025-12-24 12:10", date(2025, 12, 24)),
        ("hk", "2025-12-27 12:00", date(2025, 12, 24)),  # over Christmas and Boxing Day
    ],
)
def test_last_completed_trading_day(key, local, expected):
    tz = SHANGHAI if key == "cn" else HONG_KONG
    assert last_completed_trading_day(_at(local, tz), key) == expected


def test_the_completed_day_is_local_to_the_exchange():
    monday_evening_utc = datetime(2026, 11, 16, 19, 0, tzinfo=UTC)  # Tuesday 03:00 in Shanghai
    assert last_completed_trading_day(monday_evening_utc, "cn") == date(2026, 11, 16)
    assert last_completed_trading_day(_at("2026-11-17 16:00", HONG_KONG), "hk") == date(2026, 11, 16)


def test_trading_days_know_weekends_and_holidays():
    assert [is_trading_day(date(2026, 11, d), "cn") for d in range(16, 23)] == [True] * 5 + [False] * 2
    assert not is_trading_day(date(2025, 10, 1), "cn") and not is_trading_day(date(2026, 2, 17), "hk")
    assert is_trading_day(date(2025, 10, 8), "hk") and not is_trading_day(date(2025, 10, 8), "cn")
    assert is_half_day(date(2025, 12, 24), "hk") and not is_half_day(date(2025, 12, 24), "cn")
    with pytest.raises(KeyError):
        is_trading_day(date(2026, 11, 16), "nyse")


def test_beyond_the_years_the_exchange_calendar_knows_weekdays_trade():
    far = date(2040, 10, 1)  # a Monday
    assert is_trading_day(far, "cn") and session("cn", _at("2040-10-01 10:00")) == Session("morning")
    assert np.all(session_codes("cn", pd.DatetimeIndex([_at("2040-10-06 10:00")])) == PHASES.index("closed"))


def test_the_vectorised_phases_are_closed_within_a_declared_closure():
    stamps = pd.DatetimeIndex([_at("2026-09-16 10:00", HONG_KONG), _at("2026-09-17 10:00", HONG_KONG)])
    assert [PHASES[c] for c in session_codes("hk", stamps, (TYPHOON,))] == ["closed", "morning"]
    assert [PHASES[c] for c in session_codes("cn", stamps, (TYPHOON,))] == ["morning", "morning"]


@pytest.mark.parametrize("key", ["cn", "hk"])
def test_the_holiday_name_table_names_every_closed_weekday_the_library_leaves_unnamed(key):
    """In 2025 and 2026 every exchange holiday has a name; the table names only days the library closes."""
    exchange = MARKETS[key].exchange
    for code, first, last, _name in holiday_names.SPANS:
        days = pd.bdate_range(first, last).date
        assert code != exchange or not any(is_trading_day(d, key) for d in days), (code, first, last)
    unnamed = [
        d for d in pd.bdate_range("2025-01-01", "2026-12-31").date if day_kind(d, key) == Session("closed", "holiday")
    ]
    assert unnamed == []


def test_session_spans_run_from_the_first_phase_to_the_close_and_leave_out_closures():
    from dashboard.analytics.calendar import session_spans

    spans = session_spans("cn", date(2026, 12, 4), date(2026, 12, 7))  # Friday to Monday
    assert [(s.isoformat(), e.isoformat()) for s, e in spans] == [
        ("2026-12-04T09:15:00+08:00", "2026-12-04T15:00:00+08:00"),
        ("2026-12-07T09:15:00+08:00", "2026-12-07T15:00:00+08:00"),
    ]
    halt = Closure(
        "cn", datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI), datetime(2026, 12, 4, 11, 0, tzinfo=SHANGHAI), "x"
    )
    cut = session_spans("cn", date(2026, 12, 4), date(2026, 12, 4), (halt,))
    assert [(s.strftime("%H:%M"), e.strftime("%H:%M")) for s, e in cut] == [("09:15", "10:00"), ("11:00", "15:00")]
    night = session_spans(futures_night("21:00", "02:30"), date(2026, 12, 4), date(2026, 12, 7))
    assert [s.isoformat() for s, _ in night] == ["2026-12-04T21:00:00+08:00", "2026-12-07T21:00:00+08:00"]
    assert night[0][1].isoformat() == "2026-12-05T02:30:00+08:00"


PHASE_NAMES = re.compile(r"[\"'](?:" + "|".join(p for p in PHASES if p != "closed") + r")[\"']")


def test_which_phases_count_for_what_is_defined_in_the_calendar_alone():
    """In session (SLOs, grading) is every phase but the lunch break; live (feeds, the demo's orders) leaves out
    the pre-open too; no other module names phases to decide either."""
    assert set(PHASES) - set(SESSION_PHASES) == {"lunch", "closed"}
    assert set(SESSION_PHASES) - set(LIVE_PHASES) == {"pre_open"}
    pre_open = pd.DatetimeIndex([pd.Timestamp("2026-12-02 09:27", tz="Asia/Shanghai")])
    assert in_session("cn", pre_open).tolist() == [True]
    assert not feed_live("SSE", pre_open[0].to_pydatetime())
    order_input = pd.Timestamp("2026-12-02 09:10", tz="Asia/Hong_Kong").to_pydatetime()
    assert feed_live("HKEX", order_input)  # quotes carry the indicative opening price: a stall is late
    root = Path(__file__).resolve().parents[2]
    naming = [
        str(path.relative_to(root))
        for folder in ("dashboard", "layouts", "datasources")
        for path in (root / folder).rglob("*.py")
        if path.name not in ("calendar.py", "i18n.py") and PHASE_NAMES.search(path.read_text(encoding="utf-8"))
    ]
    assert naming == []


def test_the_demo_takes_orders_exactly_when_the_a_share_market_is_live():
    day = pd.date_range("2026-12-02 09:00", "2026-12-02 15:10", freq="1min", tz="Asia/Shanghai")
    expected = [feed_live("SSE", stamp.to_pydatetime()) for stamp in day]
    assert orders_flow(day.as_unit("s").asi8).tolist() == expected
    assert sum(expected) == 10 + 120 + 120  # opening auctions, morning, afternoon with its closing auction
