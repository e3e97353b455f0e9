"""One Prometheus poll of 1,000 services backfilled into a real Prometheus: queries sent and wall time, with the
raw queries and from the series of the adapter's recording rules (backfilled by promtool).

Then the wall's view of those services (status, figures and sparkline of every tile, the day's
availability) computed two ways: querying Prometheus for every view, as a dashboard without a
frame cache does, and from the frame store the pollers fill. The ratio is the cache's gain.
"""

from __future__ import annotations

import math
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dashboard.analytics import wallframes
from dashboard.core.settings import parse
from dashboard.core.store import open_store
from datasources.base import empty_frame
from datasources.monitoring.prometheus import PrometheusSource, rules_file
from tests.servers import backfill, backfill_rules, histogram_backfill, prometheus

HEALTH = parse("sources:\n  - {kind: demo, name: demo}\n").health  # the default targets


def run(services: int = 1000, repeat: int = 3) -> list[dict]:
    """Return the benchmark rows: a poll's median wall time with the raw queries and from the recorded
    series, queries per poll and rows; the wall's view per Prometheus query vs from the frame cache."""
    end_s = int(datetime.now(UTC).timestamp()) // 60 * 60 - 60
    end = datetime.fromtimestamp(end_s, UTC)
    shares = {f"service-{i:04d}": (lambda b, mean=0.01 + i / 10000: 1 - math.exp(-b / mean)) for i in range(services)}
    with tempfile.TemporaryDirectory(prefix="opscenter-bench-") as tmp:
        workdir, data = Path(tmp), Path(tmp) / "data"
        started = time.perf_counter()
        backfill(histogram_backfill(shares, end_s, minutes=70), data)
        backfill_s = time.perf_counter() - started
        rules = workdir / "rules.yml"
        rules.write_text(rules_file([_source("http://127.0.0.1:9")]))
        with prometheus(workdir, data_dir=data) as url:
            raw = _polls(url, end, repeat, recorded="never")
            uncached, cached = _views(_source(url, recorded="never"), raw["frames"], end)
            started = time.perf_counter()
            backfill_rules(url, rules, end_s - 65 * 60, end_s, workdir / "recorded")
            record_s = time.perf_counter() - started
        for block in (workdir / "recorded").iterdir():
            shutil.move(block, data / block.name)
        with prometheus(workdir, data_dir=data) as url:
            recorded = _polls(url, end, repeat)
    metrics = raw["frames"]["service_metrics"]
    count = f"{metrics['service'].nunique():,}"
    return [
        {
            "benchmark": f"prometheus poll, {count} services backfilled, raw queries",
            "median_ms": raw["median_ms"],
            "detail": f"{raw['queries']} queries per poll (target <= 10), this process's CPU {raw['cpu_ms']:.0f} ms, "
            f"first poll {raw['first_ms']:.0f} ms, "
            f"service_metrics {len(metrics):,} rows over 60 min at 60 s (target < 2,000 ms); "
            f"backfill {backfill_s:.1f} s; {raw['load']}",
        },
        {
            "benchmark": f"prometheus poll, {count} services backfilled, recorded series",
            "median_ms": recorded["median_ms"],
            "detail": f"{recorded['queries']} queries per poll, this process's CPU {recorded['cpu_ms']:.0f} ms "
            f"(decoding and parsing the answers), first poll {recorded['first_ms']:.0f} ms with the look "
            f"for recorded series (`recorded: auto`; {recorded['first_queries']} queries); the same "
            f"{len(recorded['frames']['service_metrics']):,} rows (target < 2,000 ms); "
            f"the rules over 65 min backfilled by promtool in {record_s:.1f} s; {recorded['load']}",
        },
        {
            "benchmark": f"wall view of {count} services: Prometheus per view vs frame cache",
            "median_ms": round(statistics.median(uncached), 1),
            "detail": f"from the frame cache {statistics.median(cached):.1f} ms: "
            f"{statistics.median(uncached) / statistics.median(cached):.0f}x (target >= 10x); "
            f"{len(cached)} views each, raw queries; load average {os.getloadavg()[0]:.1f}",
        },
    ]


def _source(url: str, **options) -> PrometheusSource:
    return PrometheusSource(name="prometheus", options={"url": url, "timeout_s": 60, "retries": 0, **options})


def _polls(url: str, end: datetime, repeat: int, **options) -> dict:
    """Polls by one source: the first (which warms Prometheus's caches, and looks for recorded series in
    ``recorded: auto``) apart, then the median wall and CPU time of ``repeat`` more, with the queries each sent."""
    source, samples, cpu, sent = _source(url, **options), [], [], [0]
    for _ in range(repeat + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        frames = source.fetch(end)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        sent.append(source.client.requests_sent)
    return {
        "frames": frames,
        "first_ms": samples[0],
        "first_queries": sent[1],
        "median_ms": round(statistics.median(samples[1:]), 1),
        "cpu_ms": statistics.median(cpu[1:]),
        "load": f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        "queries": sent[-1] - sent[-2],
    }


def wall_view(frames: dict[str, pd.DataFrame], now: datetime) -> dict[str, pd.DataFrame]:
    """What the wall shows of ``frames``: the views the poller derives of them (tiles, sparklines, the
    availability inputs), by the wall's own computation."""
    return wallframes.compute(lambda name: frames.get(name, empty_frame(name)), HEALTH)


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
