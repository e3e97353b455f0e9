"""The demo's business figures: flowing only in session, the reject spike, the transfer outage, the order errors."""

import numpy as np
import pandas as pd
import pytest

from datasources.base import validate
from datasources.demo import DemoSource, episodes
from datasources.demo.business import business_metrics, orders_flow

TRADING = pd.Timestamp("2026-12-04 03:20", tz="UTC")  # 11:20 Asia/Shanghai, a Friday
SUNDAY = pd.Timestamp("2026-12-06 03:20", tz="UTC")


@pytest.fixture(scope="module")
def figures():
    frame = DemoSource(name="demo", options={"window_h": 6}).fetch(TRADING.to_pydatetime())["business_metrics"]
    return validate("business_metrics", frame)


def _totals(figures, metric):
    rows = figures[(figures["metric"] == metric) & figures[["counter", "channel", "reason"]].isna().all(axis=1)]
    return rows.set_index("ts")["value"]


def _episode(kind, end=TRADING):
    return [e for e in episodes(end - pd.Timedelta(hours=6), end) if e.kind == kind and e.end <= end][-1]


def test_orders_flow_only_while_the_market_takes_orders(figures):
    local = _totals(figures, "orders_per_s").index.tz_convert("Asia/Shanghai")
    minutes = local.hour * 60 + local.minute
    assert minutes.min() == 9 * 60 + 15 and minutes.max() <= 15 * 60  # from the opening auction
    assert not ((minutes >= 9 * 60 + 25) & (minutes < 9 * 60 + 30)).any()  # orders queue before the open
    empty = DemoSource(name="demo").fetch(SUNDAY.to_pydatetime())["business_metrics"]
    assert empty.empty and list(empty.columns)[:5] == ["ts", "chain", "service", "metric", "value"]


def test_the_reject_spike_is_one_counters_risk_limit_rejects(figures):
    spike = _episode("reject_spike")
    assert (spike.service, spike.counter) == ("order-gateway", "central-b")
    during = figures[(figures["ts"] >= spike.start) & (figures["ts"] < spike.end)]
    before = figures[(figures["ts"] >= spike.start - pd.Timedelta(minutes=20)) & (figures["ts"] < spike.start)]
    success = during[(during["metric"] == "order_success_ratio") & during["channel"].notna()]
    by_counter = success.groupby("counter")["value"].mean()
    assert by_counter["central-b"] < 0.9 and by_counter.drop("central-b").min() > 0.99
    rejects = lambda rows: rows[(rows["metric"] == "order_rejects_per_s") & (rows["reason"] == "risk_limit")]  # noqa: E731
    spiking = rejects(during).groupby("counter")["value"].mean()
    assert spiking.idxmax() == "central-b" and spiking["central-b"] > 10 * rejects(before)["value"].mean()
    assert 0.9 < _totals(during, "order_success_ratio").mean() < 0.97


def test_the_transfer_outage_fails_most_transfers_while_the_service_stays_healthy(figures):
    outage = _episode("transfer_outage")
    success = _totals(figures, "transfer_success_ratio")
    assert success[outage.start : outage.end - pd.Timedelta(minutes=1)].max() < 0.5
    assert success[: outage.start - pd.Timedelta(minutes=1)].min() > 0.99
    metrics = DemoSource(name="demo").fetch(TRADING.to_pydatetime())["service_metrics"]
    bank = metrics[
        (metrics["service"] == "bank-transfer") & (metrics["ts"] >= outage.start) & (metrics["ts"] < outage.end)
    ]
    assert bank["error_ratio"].max() < 0.01


def test_orders_fail_on_every_counter_during_the_order_gateway_errors():
    found = episodes(TRADING - pd.Timedelta(hours=6), TRADING)
    ends = [int(e.end.timestamp()) - 600 for e in found if e.kind == "failed_change"]  # ten minutes before its end
    ts = np.array([at for at in ends if orders_flow(np.array([at]))[0]])
    assert len(ts), "an order-gateway error episode falls in the session"
    figures = business_metrics(42, ts[:1])
    success = figures[(figures["metric"] == "order_success_ratio") & figures["channel"].notna()]
    assert len(success) == 12 and success["value"].max() < 0.95  # the gateway's 8% errors on top of the rejects


def test_values_agree_across_overlapping_windows(figures):
    later = DemoSource(name="demo", options={"window_h": 1}).fetch((TRADING + pd.Timedelta(minutes=7)).to_pydatetime())
    overlap = later["business_metrics"]
    overlap = overlap[overlap["ts"] <= TRADING]
    mine = figures[figures["ts"] >= overlap["ts"].min()]
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), overlap.reset_index(drop=True))
