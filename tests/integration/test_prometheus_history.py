"""A real Prometheus backfilled with eight days of latency histograms, and a real VictoriaMetrics with the
same history imported: ``history()`` reads them in chunks, and the derived step learns the anomaly model from
them and flags a latency step and an error-ratio jump, not the noise; the chains' SLO hours are backfilled from them."""

import numpy as np
import pandas as pd
import pytest

from dashboard.core.derived import DerivedFrames
from dashboard.core.store import open_store
from datasources.monitoring import prometheus as prom
from datasources.monitoring.prometheus import PrometheusSource
from tests.servers import backfill, import_openmetrics, prometheus, victoria_metrics

HISTOGRAM = "http_server_request_duration_seconds"
BOUNDS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, float("inf"))
NOW = pd.Timestamp("2026-11-18 03:00", tz="UTC")  # 11:00 on a Wednesday in Shanghai: the morning session
SCRAPE_S = 120  # a sample every two minutes keeps eight days small; rate(5m) always sees two or three
DAYS = 8
SERVICES = {  # requests per second, usual latency (uniform on [0, L] seconds), usual error ratio
    "quotes": (80.0, 0.2, 0.01),
    "orders": (50.0, 0.3, 0.01),
    "ledger": (20.0, 0.4, 0.01),
}
SLOW = ("orders", NOW - pd.Timedelta(minutes=45), 3.0)  # latency x3 over the last 45 minutes
FAILING = ("ledger", NOW - pd.Timedelta(minutes=30), 0.15)  # 15 % errors over the last 30 minutes
QUERIES = len(prom.SERVICE_QUERIES) + 1  # the service columns and the node resource set


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else f"{bound:g}"


def openmetrics(seed: int = 7) -> str:
    """Cumulative histograms of every service at status 200 and 500, with +-10 % traffic and +-5 % latency
    noise per scrape, the slow service's latency step and the failing service's error jump; ends '# EOF'."""
    rng = np.random.default_rng(seed)
    stamps = np.arange(int((NOW - pd.Timedelta(days=DAYS)).timestamp()), int(NOW.timestamp()) + 1, SCRAPE_S)
    when = pd.to_datetime(stamps, unit="s", utc=True)
    lines = [f"# TYPE {HISTOGRAM} histogram"]
    for service, (rate, latency_s, error_ratio) in SERVICES.items():
        requests = rate * SCRAPE_S * rng.uniform(0.9, 1.1, len(stamps))
        latency = (
            latency_s
            * rng.uniform(0.95, 1.05, len(stamps))
            * np.where((service == SLOW[0]) & (when >= SLOW[1]), SLOW[2], 1.0)
        )
        errors = np.where((service == FAILING[0]) & (when >= FAILING[1]), FAILING[2], error_ratio)
        shares = np.minimum(np.array(BOUNDS_S)[None, :] / latency[:, None], 1.0)  # uniform latency's CDF
        for status, part in (("200", 1 - errors), ("500", errors)):
            counts = np.cumsum(requests * part)
            buckets = np.round(np.cumsum((requests * part)[:, None] * shares, axis=0))
            sums = np.cumsum(requests * part * latency / 2)
            labels = f'service="{service}",instance="{service}-1",http_response_status_code="{status}"'
            for i, ts in enumerate(stamps):
                lines += [
                    f'{HISTOGRAM}_bucket{{{labels},le="{_le(b)}"}} {buckets[i, j]:.0f} {ts}'
                    for j, b in enumerate(BOUNDS_S)
                ]
                lines += [
                    f"{HISTOGRAM}_count{{{labels}}} {round(counts[i])} {ts}",
                    f"{HISTOGRAM}_sum{{{labels}}} {sums[i]:.3f} {ts}",
                ]
    return "\n".join(lines + ["# EOF", ""])


@pytest.fixture(scope="module", params=["prometheus", "victoria-metrics"])
def week(request, tmp_path_factory):
    """The base URL of a server holding the eight days, read through the ``prometheus`` source kind."""
    workdir = tmp_path_factory.mktemp("week")
    if request.param == "prometheus":
        backfill(openmetrics(), workdir / "data", max_block_duration="24h")
        with prometheus(workdir, data_dir=workdir / "data") as url:
            yield url
    else:
        with victoria_metrics(workdir) as url:
            import_openmetrics(url, openmetrics())
            yield url


def test_history_is_read_in_chunks_within_the_points_per_series(week, monkeypatch):
    start, end = NOW - pd.Timedelta(days=7), NOW
    whole = PrometheusSource(name="prom", options={"url": week, "step_s": 30})
    frames = whole.history(start, end)  # 20,160 steps, chunks of at most 11,000
    metrics = frames["service_metrics"]
    # the look for recorded series; the service columns: 11,000 steps (their series not known yet), then
    # 6,666 (three series in each of five answers, 100,000 points in all); the resource set: two chunks
    assert whole.client.requests_sent == 1 + 3 * (QUERIES - 1) + 2
    assert metrics["ts"].min() == start and metrics["ts"].max() == end - pd.Timedelta(seconds=30)
    assert metrics.groupby("service")["ts"].nunique().tolist() == [20160] * 3 and not metrics.duplicated().any()
    assert frames["resource_metrics"].empty  # no node_exporter in this history
    monkeypatch.setattr(prom, "HISTORY_CHUNK_POINTS", 6000)  # a chunk's answers together hold at most 6,000 points
    chunked = PrometheusSource(name="prom", options={"url": week, "step_s": 30})
    chunked.fetch(NOW)  # a poll tells the source how many series an answer holds
    sent = chunked.client.requests_sent
    pd.testing.assert_frame_equal(chunked.history(start, end)["service_metrics"], metrics)
    services, resources = QUERIES - 1, 1  # each group chunked for its own answers' series, read at once
    steps = 6000 // services // 3  # the service columns' answers: three series each
    assert chunked.client.requests_sent - sent == 1 + -(-20160 // steps) * services + 4 * resources  # and / 6,000


def test_the_derived_step_learns_from_prometheus_and_flags_the_step_and_the_jump_not_the_noise(week):
    source = PrometheusSource(name="prom", options={"url": week})
    store = open_store(None, "prometheus-history", ["prom"])
    frames = source.fetch(NOW)
    DerivedFrames(store).after_poll(source, frames, NOW.to_pydatetime())
    status = store.status("derived:prom")
    assert status["ok"], status["error"]
    anomalies = store.read("derived:prom", "anomalies")
    flagged = set(zip(anomalies["service"], anomalies["metric"]))
    assert flagged & {("orders", "latency_p95_ms"), ("orders", "latency_p99_ms")}, anomalies
    assert ("ledger", "error_ratio") in flagged, anomalies
    assert flagged <= {("orders", "latency_p95_ms"), ("orders", "latency_p99_ms"), ("ledger", "error_ratio")}, (
        anomalies
    )  # the quotes service's noise, the others' traffic: nothing
    assert (anomalies["direction"] == "up").all()
    for service, began in ((SLOW[0], SLOW[1]), (FAILING[0], FAILING[1])):
        runs = anomalies[anomalies["service"] == service]  # a minute without a baseline may split a run
        assert began <= runs["start"].min() <= began + pd.Timedelta(minutes=6), anomalies
        assert runs["end"].max() > NOW, anomalies


def test_the_derived_step_gives_a_chain_its_error_budget_from_prometheus(week):
    """A chain of the three services, polled at 11:00 in the morning session: its availability budget is
    that of the polled window's in-session requests, and its burn over 30 minutes, with the ledger failing,
    is the window's requests-weighted error ratio over the 0.5% allowed."""
    from dashboard.core.settings import load
    from dashboard.core.store import DERIVED_SOURCE

    settings = load()
    source = PrometheusSource(name="prom", options={"url": week})
    store = open_store(None, "prometheus-slo", ["prom", "config"])
    frames = source.fetch(NOW)
    store.write("prom", frames)
    chain = pd.DataFrame({"chain": "trading", "chain_name": "Trading", "step": [1, 2, 3], "service": list(SERVICES)})
    store.write("config", {"chains": chain})
    step = DerivedFrames(store, health=settings.health, slo_settings=settings.slo)
    step.after_poll(source, frames, NOW.to_pydatetime())
    assert store.status(DERIVED_SOURCE)["ok"], store.status(DERIVED_SOURCE)["error"]
    status = store.frame("slo_status").set_index("objective")
    metrics = frames["service_metrics"]
    assert status.at["availability", "total"] > 0 and np.isfinite(status.at["availability", "budget_left"])
    recent = metrics[metrics["ts"] > NOW - pd.Timedelta(minutes=30)]
    by_hand = (recent["requests_per_s"] * recent["error_ratio"]).sum() / recent["requests_per_s"].sum() / 0.005
    assert status.at["availability", "burn_30m"] == pytest.approx(by_hand)
    assert status.at["availability", "burn_30m"] > status.at["availability", "burn_360m"]  # the ledger's jump


def test_the_slo_backfill_counts_the_past_days_prometheus_holds(week, tmp_path):
    """Given the history database, the first poll on a Wednesday morning reads the three days before it from
    Prometheus: Monday's and Tuesday's session hours count their requests (about 150 per second), Sunday none;
    the budget then spans those days and this morning, and every day is read once."""
    from dataclasses import replace

    from dashboard.core.settings import load
    from dashboard.db import slo_hours
    from dashboard.db.history import History

    settings, history = load(), History(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    history.migrate()
    source, reads = PrometheusSource(name="prom", options={"url": week}), []
    read_history = source.history
    source.history = lambda start, end, step_s=None: reads.append(start) or read_history(start, end, step_s)
    store = open_store(None, "prometheus-slo-backfill", ["prom", "config"])
    frames = source.fetch(NOW)
    store.write("prom", frames)
    chain = pd.DataFrame({"chain": "trading", "chain_name": "Trading", "step": [1, 2, 3], "service": list(SERVICES)})
    store.write("config", {"chains": chain})
    three_days = replace(settings.slo, window_days=3)
    step = DerivedFrames(store, history, history_days=1, health=settings.health, slo_settings=three_days)
    step.after_poll(source, frames, NOW.to_pydatetime())
    assert store.status("derived:prom")["ok"], store.status("derived:prom")["error"]
    assert len(reads) == 1 + 3  # learning, then each day once

    today = NOW.tz_convert("Asia/Shanghai").normalize()
    days = [(today - pd.Timedelta(days=k)).tz_convert("UTC") for k in (3, 2, 1)]  # Sunday, Monday, Tuesday
    assert slo_hours.days_read(history.engine, "prom", days[0]) == set(days)
    hours = slo_hours.read(history.engine, days[0])
    local = pd.DatetimeIndex(hours["hour"]).tz_convert("Asia/Shanghai")
    assert sorted(set(local.normalize().day)) == [16, 17, 18]  # Monday, Tuesday and this morning's poll
    monday_ten = pd.Timestamp("2026-11-16 10:00", tz="Asia/Shanghai").tz_convert("UTC")
    requests = hours[(hours["hour"] == monday_ten) & (hours["objective"] == "availability")]["total"]
    assert requests.tolist() == [pytest.approx(sum(r for r, _, _ in SERVICES.values()) * 3600, rel=0.1)]
    spent = store.frame("slo_days")
    spent_days = spent.loc[spent["objective"] == "availability", "day"].dt.tz_convert("Asia/Shanghai")
    assert sorted(spent_days.dt.day) == [16, 17, 18]
    status = store.frame("slo_status").set_index("objective")
    assert status.at["availability", "total"] > 2 * sum(r for r, _, _ in SERVICES.values()) * 4 * 3600

    DerivedFrames(store, history, history_days=1, health=settings.health, slo_settings=three_days).after_poll(
        source, frames, NOW.to_pydatetime()
    )
    assert len(reads) == 1 + 3 + 1  # a restarted step learns again, and reads no day again
    history.close()
