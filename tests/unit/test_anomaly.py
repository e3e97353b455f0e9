"""Anomaly detection on synthetic series: known anomalies found, the open and the lunch break left alone."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard.analytics import anomaly
from dashboard.analytics.calendar import Closure, is_trading_day
from datasources.base import validate

MONDAY = pd.Timestamp("2024-03-04 00:00", tz="Asia/Shanghai").tz_convert("UTC")


def _load(ts: pd.DatetimeIndex, closed: tuple[date, ...] = ()) -> np.ndarray:
    """Activity: high at the 09:30 open, 1 in session, low at lunch and at night; lower still on weekends,
    exchange holidays and the ``closed`` days."""
    local = ts.tz_convert("Asia/Shanghai")
    minute = np.asarray(local.hour * 60 + local.minute, dtype=float)
    morning, afternoon = (minute >= 570) & (minute < 690), (minute >= 780) & (minute < 900)
    level = np.where(morning, 1 + 2 * np.exp(-(minute - 570) / 8), np.where(afternoon, 1.0, 0.08))
    days = pd.Index(local.date)
    trading = days.map({d: is_trading_day(d, "cn") and d not in closed for d in days.unique()})
    return np.where(np.asarray(trading, dtype=bool), level, 0.05)


def _frames(
    days: int, start: pd.Timestamp, spike: tuple | None = None, seed: int = 1, closed: tuple[date, ...] = ()
) -> dict:
    ts = pd.date_range(start, periods=days * 1440, freq="min", tz="UTC")
    rng = np.random.default_rng(seed)
    rows = []
    for service, base in (("alpha", 100.0), ("beta", 40.0), ("gamma", 10.0)):
        load = _load(ts, closed)
        latency = 5 * (1 + 0.5 * load) * np.exp(0.05 * rng.standard_normal(len(ts)))
        if spike and spike[0] == service:
            latency[(ts >= spike[1]) & (ts < spike[2])] *= 5
        rows.append(
            pd.DataFrame(
                {
                    "ts": ts,
                    "service": service,
                    "requests_per_s": base * load * (1 + 0.03 * rng.standard_normal(len(ts))),
                    "error_ratio": 0.001 * np.exp(0.3 * rng.standard_normal(len(ts))),
                    "latency_p50_ms": latency / 2,
                    "latency_p95_ms": latency,
                    "latency_p99_ms": latency * 1.5,
                }
            )
        )
    return {"service_metrics": validate("service_metrics", pd.concat(rows, ignore_index=True))}


def _model():
    return anomaly.learn(_frames(5, MONDAY - pd.Timedelta(days=7)))


def test_a_latency_spike_is_found_with_its_baseline():
    day = MONDAY
    spike = ("beta", day + pd.Timedelta(hours=2, minutes=10), day + pd.Timedelta(hours=2, minutes=30))  # 10:10 local
    found = anomaly.find(_model(), _frames(1, day, spike, seed=2))
    assert set(found["service"]) == {"beta"}
    assert set(found["metric"]) >= {"latency_p95_ms"}
    row = found[found["metric"] == "latency_p95_ms"].iloc[0]
    assert row.start == spike[1] and row.end == spike[2] and row.direction == "up"
    assert row.low < row.baseline < row.high < row.value


def test_points_two_minutes_apart_make_one_anomaly_of_the_spike():
    """A source polled at a 2-minute step (Prometheus's ``step_s: 120``): runs follow the frames' step."""
    spike = ("beta", MONDAY + pd.Timedelta(hours=2, minutes=10), MONDAY + pd.Timedelta(hours=2, minutes=30))
    recent = _frames(1, MONDAY, spike, seed=2)["service_metrics"]
    recent = recent[recent["ts"].dt.minute % 2 == 0]
    found = anomaly.find(_model(), {"service_metrics": recent})
    row = found[found["metric"] == "latency_p95_ms"]
    assert len(row) == 1 and (row.iloc[0].start, row.iloc[0].end) == spike[1:]


def test_the_open_and_the_lunch_break_are_not_anomalies():
    found = anomaly.find(_model(), _frames(1, MONDAY, seed=3))
    assert found.empty


def test_no_history_judges_nothing():
    model = anomaly.learn({})
    assert anomaly.find(model, _frames(1, MONDAY)).empty


def test_recurring_history_anomalies_do_not_widen_the_baseline():
    """A spike in a third of history is trimmed out; the same spike today is still found."""
    history = _frames(5, MONDAY - pd.Timedelta(days=7))["service_metrics"]
    hot = (history["service"] == "alpha") & (history["ts"].dt.minute < 20)
    history.loc[hot, "latency_p95_ms"] *= 5
    spike = ("alpha", MONDAY + pd.Timedelta(hours=6), MONDAY + pd.Timedelta(hours=6, minutes=15))
    found = anomaly.find(anomaly.learn({"service_metrics": history}), _frames(1, MONDAY, spike, seed=4))
    assert (found["metric"] == "latency_p95_ms").any()


def test_learning_in_batches_of_services_gives_the_same_baselines():
    history = _frames(2, MONDAY - pd.Timedelta(days=7))
    whole = anomaly.learn(history, batch=10).base.sort_values(anomaly.KEYS, ignore_index=True)
    one_by_one = anomaly.learn(history, batch=1).base.sort_values(anomaly.KEYS, ignore_index=True)
    assert len(whole) and set(whole["service"]) == {"alpha", "beta", "gamma"}
    pd.testing.assert_frame_equal(whole, one_by_one)


NATIONAL_DAY = pd.Timestamp("2025-10-01", tz="Asia/Shanghai")  # a Wednesday, an exchange holiday
TYPHOON_DAY = pd.Timestamp("2025-09-30", tz="Asia/Shanghai")  # a Tuesday the exchange would trade
TYPHOON = Closure("cn", TYPHOON_DAY + pd.Timedelta(hours=8), TYPHOON_DAY + pd.Timedelta(hours=16), "Typhoon signal")


def _spiked_day(day: pd.Timestamp, seed: int) -> dict:
    """A closed day's quiet traffic, with beta's latency x5 from 10:10 to 10:30 local."""
    spike = ("beta", day + pd.Timedelta(hours=10, minutes=10), day + pd.Timedelta(hours=10, minutes=30))
    return _frames(1, day.tz_convert("UTC"), spike, seed=seed, closed=(day.date(),))


@pytest.mark.parametrize("day, closures", [(NATIONAL_DAY, ()), (TYPHOON_DAY, (TYPHOON,))], ids=["holiday", "closure"])
def test_a_holiday_and_a_declared_closure_are_judged_as_closed_days(day, closures):
    """Their quiet morning is no missing session: it is judged with weekends, and a spike in it is found
    against a closed day's baseline."""
    model = anomaly.learn(_frames(14, pd.Timestamp("2025-09-15", tz="Asia/Shanghai").tz_convert("UTC")))
    sunday = anomaly.find(model, _spiked_day(pd.Timestamp("2025-09-28", tz="Asia/Shanghai"), seed=5))
    found = anomaly.find(model, _spiked_day(day, seed=5), closures)
    assert set(zip(found["service"], found["metric"])) <= {("beta", "latency_p95_ms"), ("beta", "latency_p99_ms")}
    assert (found["start"].min(), found["end"].max()) == (day + pd.Timedelta(hours=10, minutes=10),) + (
        day + pd.Timedelta(hours=10, minutes=30),
    )
    pd.testing.assert_frame_equal(found[["metric", "baseline"]], sunday[["metric", "baseline"]])
    if closures:  # the same day without its closure is a trading morning: no closed day's baseline
        undeclared = anomaly.find(model, _spiked_day(day, seed=5))
        assert not set(undeclared["baseline"]) & set(sunday["baseline"]), undeclared
