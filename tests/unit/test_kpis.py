"""The wall's key figures on small hand-made frames."""

import pandas as pd
import pytest

from dashboard.analytics import kpis
from datasources.base import empty_frame

NOW = pd.Timestamp("2026-11-18 02:00", tz="UTC")  # 10:00 in Shanghai


def _ts(text):
    return pd.Timestamp(text, tz="UTC") if text else pd.NaT


def _frame(name, rows):
    template = empty_frame(name)
    frame = pd.DataFrame([{c: row.get(c) for c in template.columns} for row in rows], columns=template.columns)
    for column, dtype in template.dtypes.items():
        if str(dtype).startswith("datetime"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def test_start_of_day_is_local_midnight():
    assert kpis.start_of_day(NOW, "Asia/Shanghai") == pd.Timestamp("2026-11-17 16:00", tz="UTC")
    assert kpis.start_of_day(pd.Timestamp("2026-11-17 17:00", tz="UTC"), "UTC") == pd.Timestamp("2026-11-17", tz="UTC")


def test_availability_weights_errors_by_requests_since_midnight():
    metrics = pd.DataFrame(
        {
            "ts": pd.to_datetime(["2026-11-17 15:00", "2026-11-17 17:00", "2026-11-17 17:00"], utc=True),
            "service": ["a", "a", "b"],
            "requests_per_s": [100.0, 300.0, 100.0],
            "error_ratio": [1.0, 0.01, 0.05],
        }
    )
    value, count = kpis.availability(metrics, kpis.start_of_day(NOW, "Asia/Shanghai"))
    assert count == 2  # the 15:00 UTC sample is yesterday in Shanghai
    assert value == pytest.approx(1 - (3 + 5) / 400)
    assert kpis.availability(metrics.iloc[:0], NOW) == (None, 0)


def test_mtta_and_mttr_over_thirty_days_without_cancelled():
    incidents = _frame(
        "incidents",
        [
            {
                "opened_at": _ts("2026-11-17 00:00"),
                "acknowledged_at": _ts("2026-11-17 00:10"),
                "resolved_at": _ts("2026-11-17 02:00"),
                "state": "resolved",
            },
            {"opened_at": _ts("2026-11-18 01:00"), "acknowledged_at": _ts("2026-11-18 01:20"), "state": "in_progress"},
            {"opened_at": _ts("2026-11-18 01:30"), "state": "new"},
            {
                "opened_at": _ts("2026-11-18 00:00"),
                "acknowledged_at": _ts("2026-11-18 00:01"),
                "resolved_at": _ts("2026-11-18 00:02"),
                "state": "cancelled",
            },
            {
                "opened_at": _ts("2026-10-01 00:00"),
                "acknowledged_at": _ts("2026-10-01 05:00"),
                "resolved_at": _ts("2026-10-01 09:00"),
                "state": "closed",
            },  # outside the window
            {
                "opened_at": _ts("2026-10-18 00:00"),
                "acknowledged_at": _ts("2026-10-18 00:30"),
                "resolved_at": _ts("2026-10-20 00:00"),
                "state": "closed",
            },  # opened before, resolved inside
        ],
    )
    assert kpis.mtta(incidents, NOW) == (pd.Timedelta(minutes=15), 2)
    assert kpis.mttr(incidents, NOW) == ((pd.Timedelta(hours=2) + pd.Timedelta(days=2)) / 2, 2)
    assert kpis.mtta(incidents.iloc[:0], NOW) == (None, 0)


def test_change_success_rate_counts_known_outcomes_of_finished_changes():
    changes = _frame(
        "changes",
        [
            {"actual_end": _ts("2026-11-10"), "outcome": "success"},
            {"actual_end": _ts("2026-11-11"), "outcome": "success"},
            {"actual_end": _ts("2026-11-12"), "outcome": "rolled_back"},
            {"actual_end": _ts("2026-11-13"), "outcome": "failed"},
            {"actual_end": _ts("2026-11-14"), "outcome": "unknown"},
            {"actual_end": None, "outcome": "unknown"},  # in progress
            {"actual_end": _ts("2026-09-01"), "outcome": "failed"},
        ],
    )
    assert kpis.change_success_rate(changes, NOW) == (0.5, 4)


def test_chaos_pass_rate_counts_aborted_runs_as_not_passed():
    runs = _frame(
        "chaos_runs",
        [
            {"ended_at": _ts("2026-11-10"), "status": "passed"},
            {"ended_at": _ts("2026-11-11"), "status": "passed"},
            {"ended_at": _ts("2026-11-12"), "status": "passed"},
            {"ended_at": _ts("2026-11-13"), "status": "aborted"},
            {"ended_at": None, "status": "running"},
            {"ended_at": _ts("2026-10-01"), "status": "failed"},
        ],
    )
    assert kpis.chaos_pass_rate(runs, NOW) == (0.75, 4)
    assert kpis.chaos_pass_rate(runs.iloc[:0], NOW) == (None, 0)
