"""The words the wall's header gives a market's session: its phase, or "Closed:" and why."""

from dataclasses import asdict
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dashboard.analytics.calendar import PHASES, Session, session
from dashboard.i18n import CATALOG
from layouts.pages.wall import _session_text


@pytest.mark.parametrize(
    "session, en, zh",
    [
        (Session("opening_auction_no_cancel"), "Opening auction, no cancels", "集合竞价(不可撤单)"),
        (Session("closing_auction"), "Closing auction", "收盘集合竞价"),
        (Session("night"), "Night session", "夜盘"),
        (Session("closed"), "Closed", "休市"),
        (Session("closed", "holiday", "National Day"), "Closed: National Day", "休市：国庆节"),
        (Session("closed", "holiday", "Some New Day"), "Closed: Some New Day", "休市：Some New Day"),
        (Session("closed", "holiday", ""), "Closed: holiday", "休市：节假日"),
        (Session("closed", "half_day"), "Closed: half-day", "休市：半日市"),
        (
            Session("closed", "closure", "Typhoon signal No. 8"),
            "Closed: Typhoon signal No. 8",
            "休市：Typhoon signal No. 8",
        ),
    ],
)
def test_session_words(session, en, zh):
    assert _session_text(asdict(session), "en") == en
    assert _session_text(asdict(session), "zh") == zh


def test_every_phase_has_words_in_both_languages():
    assert all({"en", "zh"} <= set(CATALOG[f"session.{phase}"]) for phase in PHASES)


@pytest.mark.parametrize(
    "key, local, en, zh",
    [
        ("cn", "2025-10-01 10:00", "Closed: National Day holiday", "休市：国庆节"),
        ("hk", "2025-10-01 10:00", "Closed: National Day", "休市：国庆节"),
        ("cn", "2025-10-06 10:00", "Closed: Mid-Autumn Festival", "休市：中秋节"),
        ("hk", "2025-10-07 10:00", "Closed: Day after Mid-Autumn Festival", "休市：中秋节翌日"),
        ("cn", "2025-10-08 10:00", "Closed: National Day holiday", "休市：国庆节"),
        ("hk", "2025-10-08 10:00", "Morning session", "上午交易"),
        ("cn", "2026-02-17 10:00", "Closed: Spring Festival", "休市：春节"),
        ("hk", "2026-02-17 10:00", "Closed: Lunar New Year", "休市：农历新年"),
        ("cn", "2026-01-02 10:00", "Closed: New Year's Day", "休市：元旦"),
        ("hk", "2026-01-02 10:00", "Morning session", "上午交易"),
        ("cn", "2025-04-04 10:00", "Closed: Qingming Festival", "休市：清明节"),
        ("hk", "2026-04-07 10:00", "Closed: Ching Ming Festival", "休市：清明节"),
        ("cn", "2026-05-05 10:00", "Closed: Labour Day holiday", "休市：劳动节"),
        ("hk", "2026-06-19 10:00", "Closed: Tuen Ng Festival", "休市：端午节"),
        ("cn", "2026-06-19 10:00", "Closed: Dragon Boat Festival", "休市：端午节"),
        ("hk", "2025-12-25 10:00", "Closed: Christmas", "休市：圣诞节"),
        ("cn", "2025-10-11 10:00", "Closed", "休市"),  # a Saturday: no holiday to name
    ],
)
def test_known_holidays_are_named_in_both_markets(key, local, en, zh):
    tz = ZoneInfo("Asia/Shanghai" if key == "cn" else "Asia/Hong_Kong")
    now = datetime.fromisoformat(local).replace(tzinfo=tz)
    assert _session_text(asdict(session(key, now)), "en") == en
    assert _session_text(asdict(session(key, now)), "zh") == zh
