"""The URL time window: relative, ISO and epoch forms; clear errors for nonsense."""

from datetime import UTC, datetime

import pandas as pd
import pytest

from dashboard.core.timewindow import WindowError, resolve

NOW = datetime(2026, 11, 18, 2, 5, tzinfo=UTC)


def test_default_is_the_last_hour():
    window = resolve(None, None, NOW)
    assert (window.start, window.end) == (pd.Timestamp("2026-11-18 01:05", tz="UTC"), pd.Timestamp(NOW))
    assert window.query() == "?from=now-1h&to=now"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("now-15m", "2026-11-18 01:50"),
        ("now-2d", "2026-11-16 02:05"),
        ("2026-11-18T09:00:00+08:00", "2026-11-18 01:00"),
        ("2026-11-18T01:00:00", "2026-11-18 01:00"),
        ("1795395600000", "2026-11-23 01:00"),
    ],
)
def test_forms(raw, expected):
    assert resolve(raw, "2026-11-30T00:00:00Z", NOW).start == pd.Timestamp(expected, tz="UTC")


def test_query_keeps_relative_values_and_extras():
    assert resolve("now-6h", "now", NOW).query(lang="zh") == "?from=now-6h&to=now&lang=zh"


@pytest.mark.parametrize(
    "raw_from, raw_to, message",
    [
        ("yesterday", "now", "from='yesterday' is not"),
        ("now", "now-1h", "before"),
        ("now-90d", "now", "at most 31 days"),
        ("now-1h", "'; DROP TABLE", "to="),
    ],
)
def test_errors(raw_from, raw_to, message):
    with pytest.raises(WindowError, match=message):
        resolve(raw_from, raw_to, NOW)
