"""A real Prometheus: backfilled histograms give known quantiles; a live scrape of the demo exporter
gives calls whose trace ids the demo knows, and the market-data feeds' status as the demo has them; node_exporter
resources map to services; bad queries fail clearly."""

import math
import threading
import time
from datetime import UTC, datetime

import pandas as pd
import pytest

from datasources.base import SourceError, validate
from datasources.demo import DemoSource
from datasources.demo.exporter import BUCKETS, serve
from datasources.monitoring.prometheus import PrometheusSource
from datasources.transport import HttpClient
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


RATE_S = 10  # the feeds' rate() range: short, so the test waits only for the range to fill
EARLIER_S = 6  # the first of two reads, this long before the second


def _feeds_filled(client: HttpClient) -> bool:
    """Whether every feed's messages counter has samples from more than a rate range before the earlier read (a
    range holding the counter's first sample is extrapolated short: the rate reads low while feeds trade)."""
    query = f"min(count_over_time(opscenter_feed_messages_total[{3 * RATE_S}s]))"
    result = client.get("/api/v1/query", {"query": query})["data"]["result"]
    return bool(result) and float(result[0]["value"][1]) >= RATE_S + EARLIER_S + 3


def test_feed_status_from_a_live_scrape_of_the_demo_exporter(tmp_path):
    """Prometheus scraping the demo exporter gives one row per market, feed and site; each tick age is the demo's
    own at the moment of the poll, not of the poll's last step (exactly for a feed silent for over a minute, whose
    age grows with the clock), each rate the demo's."""
    port = free_port()
    exporter = serve(port)
    threading.Thread(target=exporter.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        with prometheus(tmp_path, (f"127.0.0.1:{port}",)) as url:
            wait_until(lambda: _feeds_filled(HttpClient("test", url)), 60, "a rate range of feed samples", 0.5)
            source = PrometheusSource(
                name="prom", options={"url": url, "feeds": {}, "step_s": 60, "window_m": 2, "rate": f"{RATE_S}s"}
            )
            later = int(time.time())
            reads = {
                at: source.fetch(datetime.fromtimestamp(at, UTC))["feed_status"] for at in (later - EARLIER_S, later)
            }
    finally:
        exporter.shutdown()
        exporter.server_close()
    demo = DemoSource(name="demo")
    for at, frame in reads.items():
        _assert_as_the_demo_has_it(validate("feed_status", frame), demo, at)
    earlier, now = (reads[at].set_index(list(FEED_KEYS))["tick_age_s"] for at in (later - EARLIER_S, later))
    silent = _demo_feeds(demo, later - EARLIER_S).loc[earlier.index, "tick_age_s"] > 60
    assert (now[silent] - earlier[silent]).tolist() == pytest.approx([EARLIER_S] * int(silent.sum()), abs=0.01)


FEED_KEYS = ("market", "feed", "site")


def _demo_feeds(demo: DemoSource, at: int) -> pd.DataFrame:
    return demo.feed_status(at).set_index(list(FEED_KEYS))


def _assert_as_the_demo_has_it(frame: pd.DataFrame, demo: DemoSource, at: int) -> None:
    """``frame`` read from Prometheus at ``at`` holds every feed of the demo then, its ages and rates."""
    got, want = frame.set_index(list(FEED_KEYS)), _demo_feeds(demo, at)
    assert sorted(got.index) == sorted(want.index) and got.index.is_unique
    want = want.loc[got.index]
    assert (frame["ts"] == pd.Timestamp(at, unit="s", tz="UTC")).all()
    assert (got["tick_age_s"] >= 0).all() and (got["sequence_gaps"] >= 0).all()
    silent = want["tick_age_s"] > 60  # its last tick stays put: Prometheus's age is the demo's, exactly
    assert got.loc[silent, "tick_age_s"].tolist() == pytest.approx(want.loc[silent, "tick_age_s"].tolist(), abs=0.01)
    assert (got.loc[~silent, "tick_age_s"] < want.loc[~silent, "tick_age_s"] + 10).all()  # a scrape or so behind
    rates = pd.concat([want["messages_per_s"], _demo_feeds(demo, at - RATE_S).loc[got.index, "messages_per_s"]], axis=1)
    assert (got["messages_per_s"] >= rates.min(axis=1) * 0.95).all()  # the rate range may span two demo minutes
    assert (got["messages_per_s"] <= rates.max(axis=1) * 1.05).all()
