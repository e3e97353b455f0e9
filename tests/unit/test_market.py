"""Market sessions of the A-share and Hong Kong markets."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from dashboard.analytics.calendar import session, sessions

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(text: str, tz=SHANGHAI) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz)


@pytest.mark.parametrize("local, expected", [
    ("2026-11-18 09:14:59", "closed"), ("2026-11-18 09:15", "pre_open"), ("2026-11-18 09:27", "pre_open"),
    ("2026-11-18 09:30", "morning"), ("2026-11-18 11:29:59", "morning"), ("2026-11-18 11:30", "lunch"),
    ("2026-11-18 12:59", "lunch"), ("2026-11-18 13:00", "afternoon"), ("2026-11-18 14:59:59", "afternoon"),
    ("2026-11-18 15:00", "closed"), ("2026-11-18 23:00", "closed"), ("2026-11-18 00:00", "closed"),
])
def test_a_share_day(local, expected):
    assert session("cn", _at(local)) == expected


@pytest.mark.parametrize("local, expected", [
    ("2026-11-18 08:59", "closed"), ("2026-11-18 09:00", "pre_open"), ("2026-11-18 09:30", "morning"),
    ("2026-11-18 11:45", "morning"), ("2026-11-18 12:00", "lunch"), ("2026-11-18 13:00", "afternoon"),
    ("2026-11-18 16:05", "afternoon"), ("2026-11-18 16:10", "closed"),
])
def test_hong_kong_day(local, expected):
    assert session("hk", _at(local, ZoneInfo("Asia/Hong_Kong"))) == expected


@pytest.mark.parametrize("day", ["2026-11-21", "2026-11-22"])  # Saturday, Sunday
def test_weekends_are_closed(day):
    assert sessions(_at(f"{day} 10:00")) == {"cn": "closed", "hk": "closed"}


def test_any_time_zone_is_converted_to_the_exchange_time():
    now = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai and Hong Kong
    assert sessions(now) == {"cn": "morning", "hk": "morning"}
    assert session("cn", datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)) == "closed"  # Saturday 00:00 local
