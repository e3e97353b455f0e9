"""SLOs per chain: in-session events, burn rates matching a hand computation, multi-window alerts, budgets;
the demo's order-gateway episode consumes budget in session and none at night."""

import numpy as np
import pandas as pd
import pytest

from dashboard.analytics import slo
from dashboard.analytics.calendar import Closure
from datasources.demo import DemoSource

SESSION = pd.Timestamp("2026-11-18 14:10", tz="Asia/Shanghai").tz_convert("UTC")  # a Wednesday afternoon
NIGHT = pd.Timestamp("2026-11-18 22:10", tz="Asia/Shanghai").tz_convert("UTC")
SETTINGS = slo.SloSettings()


def _frame(now, minutes, rows):
    """service_metrics of services ``rows`` (service -> (requests/s, error ratio, p99)) over the last
    ``minutes`` minutes ending at ``now``, the same each minute."""
    stamps = pd.date_range(end=now, periods=minutes, freq="1min")
    return pd.DataFrame(
        [
            {"ts": ts, "service": s, "requests_per_s": r, "error_ratio": e, "latency_p99_ms": p}
            for ts in stamps
            for s, (r, e, p) in rows.items()
        ]
    )


CHAINS = pd.DataFrame({"chain": ["pay", "pay"], "chain_name": ["Pay", "Pay"], "step": [1, 2], "service": ["a", "b"]})


def test_burn_rates_match_a_hand_computation():
    quiet = _frame(SESSION - pd.Timedelta(minutes=10), 50, {"a": (10.0, 0.0, 100.0), "b": (30.0, 0.001, 200.0)})
    loud = _frame(SESSION, 10, {"a": (10.0, 0.02, 100.0), "b": (30.0, 0.05, 900.0)})
    events = slo.events(pd.concat([quiet, loud], ignore_index=True), CHAINS, SETTINGS)
    # by hand, per minute: quiet 40 * 60 = 2400 requests, 0.001 * 1800 = 1.8 failed; loud 2400 requests,
    # 0.02 * 600 + 0.05 * 1800 = 102 failed. Allowed ratio 1 - 0.995 = 0.005.
    availability = {m: b[("pay", "availability")] for m, b in _burns(events).items()}
    assert availability[5] == pytest.approx(102 / 2400 / 0.005)  # 8.5
    assert availability[30] == pytest.approx((10 * 102 + 20 * 1.8) / (30 * 2400) / 0.005)
    assert availability[60] == pytest.approx((10 * 102 + 50 * 1.8) / (60 * 2400) / 0.005)
    # latency: b's p99 900 ms > 500 ms in the loud ten minutes; allowed 1 - 0.99 = 0.01 of the minutes
    latency = {m: b[("pay", "latency")] for m, b in _burns(events).items()}
    assert latency[5] == pytest.approx(1 / 0.01) and latency[60] == pytest.approx(10 / 60 / 0.01)


def _burns(events):
    return {m: slo.burn_rates(events, SESSION, SETTINGS, m) for m in (5, 30, 60)}


def test_an_alert_needs_both_its_windows_over_the_rate():
    alerts = SETTINGS.alerts
    assert slo.alert({60: 15.0, 5: 20.0, 360: 1.0, 30: 1.0}, alerts) == "page"
    assert slo.alert({60: 15.0, 5: 3.0, 360: 7.0, 30: 6.5}, alerts) == "ticket"
    assert slo.alert({60: 20.0, 5: 1.0, 360: 7.0, 30: 2.0}, alerts) == "none"  # the short window has recovered
    assert slo.alert({60: np.nan, 5: np.nan, 360: np.nan, 30: np.nan}, alerts) == "none"


def test_only_session_minutes_count_and_a_closure_takes_them_out():
    lunch = pd.Timestamp("2026-11-18 12:10", tz="Asia/Shanghai").tz_convert("UTC")
    frame = _frame(lunch, 60, {"a": (10.0, 0.5, 100.0), "b": (30.0, 0.5, 100.0)})  # 11:11 to 12:10
    events = slo.events(frame, CHAINS, SETTINGS)
    assert len(events) == 2 * 19  # 11:11 to 11:29, both objectives; the lunch break counts nothing
    typhoon = Closure("cn", lunch - pd.Timedelta(hours=3), lunch, "Typhoon signal")
    assert slo.events(frame, CHAINS, SETTINGS, (typhoon,)).empty


def test_metrics_of_services_on_no_chain_are_no_events():
    """Another source's estate (its services on none of the chains) gives no events, and no error."""
    other = _frame(SESSION, 30, {"service-0001": (10.0, 0.5, 900.0)}).astype({"service": "str"})
    events = slo.events(other, CHAINS.astype({"chain": "str", "service": "str"}), SETTINGS)
    assert events.empty and list(events.columns) == slo.EVENT_COLUMNS
    assert slo.hourly(events).empty


def test_the_budget_left_is_what_the_bad_events_leave_of_the_allowed_ones():
    days = pd.DataFrame(
        {
            "chain": ["pay"] * 3,
            "objective": ["availability"] * 3,
            "day": pd.to_datetime(["2026-10-01", "2026-11-10", "2026-11-17"], utc=True),
            "total": [1e6, 1e6, 1e6],
            "bad": [9e9, 1000.0, 4000.0],  # the first day is outside the 30 days
        }
    )
    status = slo.status(days.iloc[:0].rename(columns={"day": "ts"}), days, CHAINS, SESSION, SETTINGS)
    row = status[status["objective"] == "availability"].iloc[0]
    assert row["total"] == 2e6 and row["budget_left"] == pytest.approx(1 - 5000 / (0.005 * 2e6))  # 0.5
    assert np.isnan(status[status["objective"] == "latency"]["budget_left"].iloc[0])
    assert slo.badges(status)["pay"] == ("ok", pytest.approx(0.5), "none")


def _demo(now):
    frames = DemoSource(name="demo", options={"window_h": 1}).fetch(now)
    return frames, slo.events(frames["service_metrics"], frames["chains"], SETTINGS)


def test_the_order_gateway_episode_in_session_consumes_budget():
    frames, events = _demo(SESSION)  # 13:10 to 14:10; the episode runs 13:35 to 14:07
    gateway = frames["service_metrics"][frames["service_metrics"]["service"] == "order-gateway"]
    assert gateway["error_ratio"].max() > 0.07
    status = slo.status(events, slo.daily(slo.hourly(events), SETTINGS), frames["chains"], SESSION, SETTINGS)
    availability = status[status["objective"] == "availability"].set_index("chain")
    assert availability.at["equity-trading", "burn_30m"] > 2 > 0.5 > availability.at["market-data", "burn_30m"]
    assert availability.at["equity-trading", "budget_left"] < 0 < availability.at["market-data", "budget_left"]


def test_the_same_episode_at_night_consumes_none():
    frames, events = _demo(NIGHT)  # 21:10 to 22:10; the episode runs 21:35 to 22:07
    gateway = frames["service_metrics"][frames["service_metrics"]["service"] == "order-gateway"]
    assert gateway["error_ratio"].max() > 0.07
    assert events.empty
    status = slo.status(events, slo.daily(slo.hourly(events), SETTINGS), frames["chains"], NIGHT, SETTINGS)
    assert (status["bad"] == 0).all() and status["budget_left"].isna().all()
    assert (status["alert"] == slo.NO_DATA).all()  # nothing measured: no data, never a green "none"


def test_an_objective_without_events_in_the_window_has_no_data_while_one_with_events_is_judged():
    frames, events = _demo(SESSION)
    market_data = events["chain"] == "market-data"
    status = slo.status(
        events, slo.daily(slo.hourly(events[~market_data]), SETTINGS), frames["chains"], SESSION, SETTINGS
    )
    by_chain = status.set_index(["chain", "objective"])["alert"]
    assert by_chain["market-data"].tolist() == [slo.NO_DATA, slo.NO_DATA]  # its budget's window holds no event
    assert by_chain["equity-trading"].tolist() == ["none", "none"]  # judged: no alert over the burn windows
    assert slo.badges(status)["market-data"] == ("nodata", None, slo.NO_DATA)


def test_hours_seen_twice_keep_the_fuller_view():
    hour = pd.Timestamp("2026-11-18 05:00", tz="UTC")
    row = lambda total, bad: pd.DataFrame(  # noqa: E731
        {"chain": ["pay"], "objective": ["availability"], "hour": [hour], "total": [total], "bad": [bad]}
    )
    assert slo.merge_hours(row(100.0, 1.0), row(40.0, 0.0))["total"].tolist() == [100.0]
    assert slo.merge_hours(row(40.0, 0.0), row(100.0, 1.0))["bad"].tolist() == [1.0]


def test_each_chain_badge_takes_its_least_budget_left_raised_by_an_alert():
    def badge(*pairs):
        frame = pd.DataFrame({"chain": "pay", "budget_left": [p[0] for p in pairs], "alert": [p[1] for p in pairs]})
        other = pd.DataFrame({"chain": ["other"], "budget_left": [-1.0], "alert": ["page"]})
        return slo.badges(pd.concat([other, frame, other], ignore_index=True))["pay"]

    assert badge((0.8, "none"), (0.2, "none")) == ("warn", 0.2, "none")
    assert badge((0.8, "page"), (0.9, "none")) == ("crit", 0.8, "page")
    assert badge((-0.1, "ticket")) == ("crit", -0.1, "ticket")
    assert badge((np.nan, "none")) == ("nodata", None, "none")
    assert badge((np.nan, "none"), (0.5, "none")) == ("ok", 0.5, "none")
    assert badge((np.nan, slo.NO_DATA), (0.9, "none")) == ("ok", 0.9, "none")
    assert badge((np.nan, slo.NO_DATA), (np.nan, slo.NO_DATA)) == ("nodata", None, slo.NO_DATA)
