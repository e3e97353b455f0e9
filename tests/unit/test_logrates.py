"""Error-log rates: lines per minute from the log_rates frame."""

import pandas as pd

from dashboard.analytics import logrates

T0 = pd.Timestamp("2026-11-18 01:00", tz="UTC")


def _rates(rows: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    """log_rates rows from (seconds after T0, service, level, count)."""
    seconds, services, levels, counts = zip(*rows)
    return pd.DataFrame(
        {
            "ts": [T0 + pd.Timedelta(seconds=s) for s in seconds],
            "service": pd.array(services, dtype="str"),
            "level": pd.array(levels, dtype="str"),
            "count": list(counts),
        }
    )


def test_error_series_sums_each_minute_of_each_service_in_the_window():
    rates = _rates(
        [
            (130, "b", "error", 4),
            (70, "b", "error", 1),
            (75, "a", "error", 2),
            (90, "a", "error", 3),
            (80, "a", "warning", 50),
            (60, "c", "error", 9),
            (10, "a", "error", 7),  # before the window
            (240, "a", "error", 8),  # at its end: in it
            (241, "a", "error", 5),  # after it
        ]
    )
    series = logrates.error_series(rates, ["a", "b"], T0 + pd.Timedelta(seconds=60), T0 + pd.Timedelta(seconds=240))
    assert list(series.columns) == ["ts", "service", "count"]
    minutes = [(ts - T0) / pd.Timedelta(minutes=1) for ts in series["ts"]]
    assert list(zip(minutes, series["service"], series["count"])) == [
        (1.0, "a", 5),
        (1.0, "b", 1),
        (2.0, "b", 4),
        (4.0, "a", 8),
    ]
    assert str(series["ts"].dt.tz) == "UTC"


def test_error_series_of_a_service_without_errors_is_empty():
    rates = _rates([(60, "a", "info", 3)])
    series = logrates.error_series(rates, ["a"], T0, T0 + pd.Timedelta(hours=1))
    assert series.empty and list(series.columns) == ["ts", "service", "count"]
