"""One Prometheus poll of 1,000 services backfilled into a real Prometheus: queries sent and wall time.

Then the wall's view of those services (status, figures and sparkline of every tile, the day's
availability) computed two ways: querying Prometheus for every view, as a dashboard without a
frame cache does, and from the frame store the pollers fill. The ratio is the cache's gain.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dashboard.analytics import health, kpis, rollup, sites, wallview
from dashboard.core.settings import parse
from dashboard.core.store import open_store
from datasources.base import empty_frame
from datasources.monitoring.prometheus import PrometheusSource
from tests.servers import backfill, histogram_backfill, prometheus

HEALTH = parse("sources:\n  - {kind: demo, name: demo}\n").health  # the default targets


def run(services: int = 1000, repeat: int = 3) -> list[dict]:
    """Return the benchmark rows: a poll's median wall time, queries per poll and rows."""
    end_s = int(datetime.now(UTC).timestamp()) // 60 * 60 - 60
    shares = {f"service-{i:04d}": (lambda b, mean=0.01 + i / 10000: 1 - math.exp(-b / mean)) for i in range(services)}
    with tempfile.TemporaryDirectory(prefix="opscenter-bench-") as tmp:
        workdir = Path(tmp)
        started = time.perf_counter()
        backfill(histogram_backfill(shares, end_s, minutes=65), workdir / "data")
        backfill_s = time.perf_counter() - started
        with prometheus(workdir, data_dir=workdir / "data") as url:
            samples, queries = [], []
            for _ in range(repeat + 1):  # the first poll warms Prometheus's caches and is not counted
                source = PrometheusSource(name="prometheus", options={"url": url, "timeout_s": 60, "retries": 0})
                started = time.perf_counter()
                frames = source.fetch(datetime.fromtimestamp(end_s, UTC))
                samples.append((time.perf_counter() - started) * 1000)
                queries.append(source.client.requests_sent)
            uncached, cached = _views(source, frames, datetime.fromtimestamp(end_s, UTC))
    metrics = frames["service_metrics"]
    return [
        {
            "benchmark": f"prometheus poll, {metrics['service'].nunique():,} services backfilled",
            "median_ms": round(statistics.median(samples[1:]), 1),
            "detail": f"{queries[-1]} queries per poll (target <= 10), first poll {samples[0]:.0f} ms, "
            f"service_metrics {len(metrics):,} rows over 60 min at 60 s (target < 2,000 ms); "
            f"backfill {backfill_s:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        },
        {
            "benchmark": f"wall view of {metrics['service'].nunique():,} services: Prometheus per view vs frame cache",
            "median_ms": round(statistics.median(uncached), 1),
            "detail": f"from the frame cache {statistics.median(cached):.1f} ms: "
            f"{statistics.median(uncached) / statistics.median(cached):.0f}x (target >= 10x); "
            f"{len(cached)} views each; load average {os.getloadavg()[0]:.1f}",
        },
    ]


def wall_view(frames: dict[str, pd.DataFrame], now: datetime) -> dict:
    """What the wall shows of ``frames``: every service's tile and sparkline, and today's availability."""
    evaluated = health.evaluate(frames["services"], frames["service_metrics"], HEALTH)
    order = evaluated["service"].tolist()
    resources, instances = frames.get("resource_metrics", empty_frame("resource_metrics")), empty_frame("instances")
    rolled = rollup.services(
        evaluated,
        empty_frame("alerts"),
        empty_frame("anomalies"),
        resources,
        instances,
        sites.site_states(instances, resources),
        HEALTH["amber_at"],
        frames["service_metrics"]["ts"].max(),
    )
    return {
        "rows": wallview.tile_rows(evaluated, rolled, order, lambda reason: reason.kind),
        "spark": wallview.spark_points(frames["service_metrics"], order, None),
        "availability": kpis.availability(frames["service_metrics"], kpis.start_of_day(pd.Timestamp(now), "UTC")),
    }


def _views(source: PrometheusSource, frames: dict[str, pd.DataFrame], now: datetime, repeat: int = 5):
    """Milliseconds per view: fetching from Prometheus each time, and reading the frame store."""
    store = open_store(None, "bench-views", [source.name])
    store.write(source.name, frames)
    uncached, cached = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        wall_view(source.fetch(now), now)
        uncached.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        wall_view({name: store.frame(name) for name in ("services", "service_metrics")}, now)
        cached.append((time.perf_counter() - started) * 1000)
    return uncached, cached


if __name__ == "__main__":
    for row in run():
        print(row)
