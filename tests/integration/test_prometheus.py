"""A real Prometheus: backfilled histograms give known quantiles; a live scrape of the demo exporter
gives calls whose trace ids the demo knows; node_exporter resources map to services; bad queries fail clearly."""

import math
import threading
from datetime import UTC, datetime

import pandas as pd
import pytest

from datasources.base import SourceError
from datasources.demo import DemoSource
from datasources.demo.exporter import BUCKETS, serve
from datasources.monitoring.prometheus import PrometheusSource
from tests.conftest import free_port
from tests.servers import backfill, histogram_backfill, node_exporter, prometheus, wait_until

MEAN_S = 0.1
SHARES = {
    "uniform-1s": lambda b: min(b / 1.0, 1.0),
    "uniform-2500ms": lambda b: min(b / 2.5, 1.0),
    "exponential-100ms": lambda b: 1 - math.exp(-b / MEAN_S),
    "quiet": lambda b: min(b, 1.0),
}
EXPECTED_MS = {  # exact for uniform latencies, whose buckets are linear
    "uniform-1s": (500.0, 950.0, 990.0),
    "uniform-2500ms": (1250.0, 2375.0, 2475.0),
}


def bucket(seconds):
    return next(i for i, b in enumerate((*BUCKETS, math.inf)) if seconds <= b)


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("backfilled")
    end_s = int(datetime.now(UTC).timestamp()) // 60 * 60 - 60
    backfill(histogram_backfill(SHARES, end_s, minutes=70, quiet=("quiet",)), workdir / "data")
    with prometheus(workdir, data_dir=workdir / "data") as url:
        yield url, datetime.fromtimestamp(end_s, UTC)


def test_quantiles_match_known_distributions(backfilled):
    url, end = backfilled
    source = PrometheusSource(name="prom", options={"url": url})
    frames = source.fetch(end)
    metrics = frames["service_metrics"]
    assert source.client.requests_sent == 11  # ten queries and the look for recorded series
    assert metrics["ts"].nunique() == 61 and metrics["ts"].max() == pd.Timestamp(end)
    latest = metrics[metrics["ts"] == metrics["ts"].max()].set_index("service")
    for service, expected in EXPECTED_MS.items():
        got = latest.loc[service, ["latency_p50_ms", "latency_p95_ms", "latency_p99_ms"]].tolist()
        assert got == pytest.approx(expected, rel=1e-3), service
    for q, got in zip(
        (0.5, 0.95, 0.99), latest.loc["exponential-100ms", ["latency_p50_ms", "latency_p95_ms", "latency_p99_ms"]]
    ):
        true_s = -MEAN_S * math.log(1 - q)
        assert bucket(got / 1000) == bucket(true_s), (q, got, true_s)
    busy = latest.drop(index="quiet")
    assert busy["requests_per_s"].tolist() == pytest.approx([100.0] * 3, rel=1e-3)
    assert busy["error_ratio"].tolist() == pytest.approx([0.02] * 3, rel=1e-2)
    assert sorted(frames["services"]["service"]) == sorted(SHARES)
    assert frames["calls"].empty and frames["edges"].empty and frames["resource_metrics"].empty


def test_a_quiet_service_has_no_quantiles_and_no_error_ratio(backfilled):
    url, end = backfilled
    metrics = PrometheusSource(name="prom", options={"url": url}).fetch(end)["service_metrics"]
    quiet = metrics[metrics["service"] == "quiet"]
    assert len(quiet) == 61 and (quiet["requests_per_s"] == 0).all()
    assert quiet[["error_ratio", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms"]].isna().all(axis=None)


def test_prometheus_rejects_a_bad_expression_clearly(backfilled):
    url, end = backfilled
    source = PrometheusSource(name="prom", options={"url": url, "queries": {"requests_per_s": "sum by (service) ("}})
    with pytest.raises(
        SourceError,
        match=r"^prom: http://127.0.0.1:\d+/api/v1/query_range: Prometheus error "
        r"bad_data: .*parse error",
    ):
        source.fetch(end)


def test_hostile_label_values_stay_label_values(backfilled):
    url, end = backfilled
    hostile = 'x"} or vector(1) or up{a="'
    frames = PrometheusSource(name="prom", options={"url": url, "match": {"service": hostile}}).fetch(end)
    assert frames["service_metrics"].empty and frames["services"].empty


def test_live_scrape_of_the_demo_exporter(tmp_path):
    port = free_port()
    exporter = serve(port)
    threading.Thread(target=exporter.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with (
            node_exporter(tmp_path) as host,
            prometheus(tmp_path, (f"127.0.0.1:{port}", host), extra_args=("--enable-feature=exemplar-storage",)) as url,
        ):
            source = PrometheusSource(
                name="prom",
                options={"url": url, "instance_services": {host: "prometheus-host"}, "step_s": 3, "window_m": 20},
            )

            def scraped():
                frames = source.fetch(datetime.now(UTC))
                resources = frames["resource_metrics"]
                node = (resources["service"] == "prometheus-host").any()
                done = len(frames["calls"]) and len(frames["edges"]) and node
                return frames if done else None

            frames = wait_until(scraped, 30, "a scrape with exemplars, edges and node metrics", 0.5)
    finally:
        exporter.shutdown()
        exporter.server_close()
    calls, demo = frames["calls"], DemoSource(name="demo")
    assert len(calls) >= 20 and calls["trace_id"].str.fullmatch(r"[0-9a-f]{32}").all()
    for call in calls.head(20).itertuples():
        spans = demo.spans(call.trace_id)
        assert call.service in set(spans["service"]), call.trace_id
        assert call.instance in set(spans["instance"])
    services = frames["services"].set_index("service")
    assert services.loc["order-gateway", "display_name"] == "Order gateway" and services.loc["ledger", "tier"] == 1
    assert {"pretrade-risk", "prometheus-host"} <= set(frames["resource_metrics"]["service"])
    assert ("order-gateway", "exchange-link") in set(zip(frames["edges"]["caller"], frames["edges"]["callee"]))
