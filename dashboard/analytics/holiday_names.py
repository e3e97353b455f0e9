"""Names of the exchange holidays the ``exchange_calendars`` package closes but does not name.

The package knows every closed day of the Shanghai (XSHG) and Hong Kong (XHKG) exchanges, but gives
no names for XSHG and none for Hong Kong's lunar-calendar holidays. This table names those days of
2025 and 2026, and only those: a day the package names, or does not close, is not in it (the tests
hold both). Sources: the Shanghai Stock Exchange's notices on the market's holiday closures for 2025
and 2026 (关于2025年/2026年部分节假日休市安排的通知), and the general holidays the Hong Kong SAR
Government gazettes for those years. The names are English; ``dashboard.i18n`` words them in Chinese
(``holiday.<name>``). Add a year's rows when the exchanges publish it.
"""

from __future__ import annotations

from datetime import date, timedelta

# exchange, first day, last day, name: each weekday from first to last that the exchange closes
SPANS = (
    ("XSHG", "2025-01-01", "2025-01-01", "New Year's Day"),
    ("XSHG", "2025-01-28", "2025-02-04", "Spring Festival"),
    ("XSHG", "2025-04-04", "2025-04-04", "Qingming Festival"),
    ("XSHG", "2025-05-01", "2025-05-05", "Labour Day holiday"),
    ("XSHG", "2025-06-02", "2025-06-02", "Dragon Boat Festival"),
    ("XSHG", "2025-10-01", "2025-10-03", "National Day holiday"),
    ("XSHG", "2025-10-06", "2025-10-06", "Mid-Autumn Festival"),
    ("XSHG", "2025-10-07", "2025-10-08", "National Day holiday"),
    ("XSHG", "2026-01-01", "2026-01-02", "New Year's Day"),
    ("XSHG", "2026-02-16", "2026-02-23", "Spring Festival"),
    ("XSHG", "2026-04-06", "2026-04-06", "Qingming Festival"),
    ("XSHG", "2026-05-01", "2026-05-05", "Labour Day holiday"),
    ("XSHG", "2026-06-19", "2026-06-19", "Dragon Boat Festival"),
    ("XSHG", "2026-09-25", "2026-09-25", "Mid-Autumn Festival"),
    ("XSHG", "2026-10-01", "2026-10-07", "National Day holiday"),
    ("XHKG", "2025-01-29", "2025-01-31", "Lunar New Year"),
    ("XHKG", "2025-04-04", "2025-04-04", "Ching Ming Festival"),
    ("XHKG", "2025-05-05", "2025-05-05", "Buddha's Birthday"),
    ("XHKG", "2025-10-07", "2025-10-07", "Day after Mid-Autumn Festival"),
    ("XHKG", "2025-10-29", "2025-10-29", "Chung Yeung Festival"),
    ("XHKG", "2026-02-17", "2026-02-19", "Lunar New Year"),
    ("XHKG", "2026-04-07", "2026-04-07", "Ching Ming Festival"),  # in lieu: 5 April a Sunday, 6 April Easter Monday
    ("XHKG", "2026-05-25", "2026-05-25", "Buddha's Birthday"),  # in lieu of Sunday 24 May
    ("XHKG", "2026-06-19", "2026-06-19", "Tuen Ng Festival"),
    ("XHKG", "2026-10-19", "2026-10-19", "Chung Yeung Festival"),  # in lieu of Sunday 18 October
)


def names(exchange: str, closed: frozenset[date]) -> dict[date, str]:
    """The table's names of ``exchange``'s days that are in ``closed`` (the days the package closes)."""
    named = {}
    for code, first, last, name in SPANS:
        day, end = date.fromisoformat(first), date.fromisoformat(last)
        while code == exchange and day <= end:
            if day in closed:
                named[day] = name
            day += timedelta(days=1)
    return named
