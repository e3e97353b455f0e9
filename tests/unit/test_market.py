"""Market sessions of the A-share and Hong Kong markets."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.analytics.calendar import is_trading_day, last_completed_trading_day, session, sessions

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(text: str, tz=SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.mark.parametrize(
    "local, expected",
    [
        ("2026-11-18 09:14:59", "closed"),
        ("2026-11-18 09:15", "pre_open"),
        ("2026-11-18 09:27", "pre_open"),
        ("2026-11-18 09:30", "morning"),
        ("2026-11-18 11:29:59", "morning"),
        ("2026-11-18 11:30", "lunch"),
        ("2026-11-18 12:59", "lunch"),
        ("2026-11-18 13:00", "afternoon"),
        ("2026-11-18 14:59:59", "afternoon"),
        ("2026-11-18 15:00", "closed"),
        ("2026-11-18 23:00", "closed"),
        ("2026-11-18 00:00", "closed"),
    ],
)
def test_a_share_day(local, expected):
    assert session("cn", _at(local)) == expected


@pytest.mark.parametrize(
    "local, expected",
    [
        ("2026-11-18 08:59", "closed"),
        ("2026-11-18 09:00", "pre_open"),
        ("2026-11-18 09:30", "morning"),
        ("2026-11-18 11:45", "morning"),
        ("2026-11-18 12:00", "lunch"),
        ("2026-11-18 13:00", "afternoon"),
        ("2026-11-18 16:05", "afternoon"),
        ("2026-11-18 16:10", "closed"),
    ],
)
def test_hong_kong_day(local, expected):
    assert session("hk", _at(local, ZoneInfo("Asia/Hong_Kong"))) == expected


@pytest.mark.parametrize("day", ["2026-11-21", "2026-11-22"])  # Saturday, Sunday
def test_weekends_are_closed(day):
    assert sessions(_at(f"{day} 10:00")) == {"cn": "closed", "hk": "closed"}


def test_any_time_zone_is_converted_to_the_exchange_time():
    now = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai and Hong Kong
    assert sessions(now) == {"cn": "morning", "hk": "morning"}
    assert session("cn", datetime(2026, 11, 20, 16, 0, tzinfo=UTC)) == "closed"  # Saturday 00:00 local


@pytest.mark.parametrize(
    "local, expected",
    [
        ("2026-11-17 03:00", date(2026, 11, 16)),  # Tuesday before the open: Monday
        ("2026-11-16 03:00", date(2026, 11, 13)),  # Monday before the open: Friday
        ("2026-11-17 14:59:59", date(2026, 11, 16)),  # still trading
        ("2026-11-17 15:00", date(2026, 11, 17)),  # at the close the day is completed
        ("2026-11-17 23:30", date(2026, 11, 17)),  # after the close: today
        ("2026-11-21 12:00", date(2026, 11, 20)),  # Saturday: Friday
        ("2026-11-22 23:59", date(2026, 11, 20)),  # Sunday night: Friday
    ],
)
def test_last_completed_a_share_trading_day(local, expected):
    assert last_completed_trading_day(_at(local), "cn") == expected


def test_a_day_is_completed_at_its_own_market_close():
    hong_kong = ZoneInfo("Asia/Hong_Kong")
    assert last_completed_trading_day(_at("2026-11-17 16:00", hong_kong), "hk") == date(2026, 11, 16)
    assert last_completed_trading_day(_at("2026-11-17 16:10", hong_kong), "hk") == date(2026, 11, 17)
    assert last_completed_trading_day(_at("2026-11-17 16:00", hong_kong), "cn") == date(2026, 11, 17)


def test_the_completed_day_is_local_to_the_exchange():
    monday_evening_utc = datetime(2026, 11, 16, 19, 0, tzinfo=UTC)  # Tuesday 03:00 in Shanghai
    assert last_completed_trading_day(monday_evening_utc, "cn") == date(2026, 11, 16)


def test_weekdays_trade_and_weekends_do_not():
    assert [is_trading_day(date(2026, 11, d), "cn") for d in range(16, 23)] == [True] * 5 + [False] * 2
    with pytest.raises(KeyError):
        is_trading_day(date(2026, 11, 16), "nyse")
