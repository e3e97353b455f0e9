"""A real Prometheus scraping the demo exporter: the business figures read back through the prometheus source."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboard.analytics.calendar import last_completed_trading_day
from datasources.demo import DemoSource, episodes
from datasources.demo.exporter import serve
from datasources.monitoring.prometheus import PrometheusSource
from tests.conftest import free_port
from tests.servers import prometheus, wait_until


def _reject_spike() -> pd.Timestamp:
    """Four minutes into the demo's reject spike on the last completed A-share trading day."""
    day = pd.Timestamp(last_completed_trading_day(datetime.now(UTC), "cn"), tz="Asia/Shanghai")
    found = [e for e in episodes(day, day + pd.Timedelta(days=1)) if e.kind == "reject_spike"]
    assert found, "the demo has a reject spike on every trading day"
    return found[0].start + pd.Timedelta(minutes=4)


@pytest.fixture
def spiking_exporter():
    """The demo exporter serving the estate as it was during a reject spike, its clock running from there."""
    offset = time.time() - _reject_spike().timestamp()
    port = free_port()
    exporter = serve(port, clock=lambda: time.time() - offset)
    threading.Thread(target=exporter.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"127.0.0.1:{port}", offset
    exporter.shutdown()
    exporter.server_close()


def test_business_figures_from_a_live_scrape(tmp_path, spiking_exporter):
    target, offset = spiking_exporter
    with prometheus(tmp_path, (target,)) as url:
        source = PrometheusSource(
            name="prom", options={"url": url, "step_s": 3, "window_m": 20, "resources": [], "rate": "5s"}
        )

        def scraped():
            figures = source.fetch(datetime.now(UTC))["business_metrics"]
            latest = figures[figures["ts"] == figures["ts"].max()]
            complete = {"order_success_ratio", "counter_latency_p99_ms", "transfer_success_ratio"}
            rated = len(figures) and figures["ts"].max() - figures["ts"].min() >= pd.Timedelta(seconds=9)
            return [latest] if rated and complete <= set(latest["metric"]) else None  # a whole rate window

        [latest] = wait_until(scraped, 40, "business figures over a whole rate window", 0.5)
    assert set(latest["chain"]) == {"equity-trading", "accounts"}
    total = latest[latest[["counter", "channel", "reason"]].isna().all(axis=1)].set_index("metric")["value"]
    success = latest[(latest["metric"] == "order_success_ratio") & latest["channel"].notna()]
    by_counter = success.groupby("counter")["value"].mean()
    assert by_counter["central-b"] < 0.9 < 0.98 < by_counter.drop("central-b").min()  # the spiking counter
    assert 0.9 < total["order_success_ratio"] < 0.97
    rejects = latest[(latest["metric"] == "order_rejects_per_s") & latest["reason"].notna()]
    worst = rejects.loc[rejects["value"].idxmax()]
    assert (worst["counter"], worst["reason"]) == ("central-b", "risk_limit")
    assert total["transfer_success_ratio"] > 0.99
    assert set(latest.loc[latest["metric"] == "counter_latency_p99_ms", "counter"]) == {
        "central-a",
        "central-b",
        "fast-1",
        "fast-2",
    }
    demo_at = pd.Timestamp(int(time.time() - offset), unit="s", tz="UTC") - timedelta(minutes=1)
    demo = DemoSource(name="demo", options={"window_h": 0.1}).fetch(demo_at.to_pydatetime())["business_metrics"]
    orders = demo[(demo["metric"] == "orders_per_s") & demo["counter"].isna()]["value"]
    assert total["orders_per_s"] == pytest.approx(orders.mean(), rel=0.2)
