"""One Prometheus poll of 1,000 services backfilled into a real Prometheus: queries sent and wall time."""
from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from datasources.prometheus import PrometheusSource
from tests.servers import backfill, histogram_backfill, prometheus


def run(services: int = 1000, repeat: int = 3) -> list[dict]:
    """Return the benchmark rows: a poll's median wall time, queries per poll and rows."""
    end_s = int(datetime.now(timezone.utc).timestamp()) // 60 * 60 - 60
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
                frames = source.fetch(datetime.fromtimestamp(end_s, timezone.utc))
                samples.append((time.perf_counter() - started) * 1000)
                queries.append(source.client.requests_sent)
    metrics = frames["service_metrics"]
    return [{
        "benchmark": f"prometheus poll, {metrics['service'].nunique():,} services backfilled",
        "median_ms": round(statistics.median(samples[1:]), 1),
        "detail": f"{queries[-1]} queries per poll (target <= 10), first poll {samples[0]:.0f} ms, "
                  f"service_metrics {len(metrics):,} rows over 60 min at 60 s (target < 2,000 ms); "
                  f"backfill {backfill_s:.1f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
    }]


if __name__ == "__main__":
    for row in run():
        print(row)
