"""Simulated viewers against the production set-up on loopback, and the web workers' memory.

``deploy/production.sh`` (the ``make production`` set-up) runs gunicorn and two pollers on
Redis and PostgreSQL. The pollers poll a 1,000-service demo estate (the wall's chains and
tiles) and a real Prometheus backfilled with 1,000 services (the source whose queries are
counted, from its own ``prometheus_http_requests_total``). Each simulated viewer does what a
browser on /wall does every tick: the versions callback, then the wall refresh when the
versions changed. 1, 10, 50 and 100 viewers run in turn; then 10 viewers for ten minutes
while the workers' resident memory is sampled.
"""

from __future__ import annotations

import math
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import requests

from bench.viewer import WallRequests, answered
from dashboard import ids
from dashboard.app import create_app
from dashboard.core.settings import load
from layouts.pages import wall
from tests.conftest import free_port
from tests.servers import backfill, histogram_backfill, prometheus

ROOT = Path(__file__).resolve().parent.parent
SERVICES = 1000
WORKERS, THREADS = 2, 8
TICK_S = 1.0  # each viewer ticks every second: five times a default wall's pace
STEP_S = 60.0
SOAK_S = 600.0
SOAK_VIEWERS = 10
CONFIG = f"""
deployment: bench-production
refresh_s: 5
sources:
  - {{kind: demo, name: demo, interval_s: 15, services: {SERVICES}}}
  - {{kind: prometheus, name: prometheus, interval_s: 15, url: "${{BENCH_PROMETHEUS_URL}}", timeout_s: 60, retries: 0}}
"""


def _query_count(prometheus_url: str) -> float:
    """Queries Prometheus has answered on its query APIs."""
    text = requests.get(f"{prometheus_url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("prometheus_http_requests_total{") and '"/api/v1/query' in line
    )


def children(pid: int) -> list[int]:
    """The PIDs of the direct children of ``pid``."""
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _workers(master: int) -> list[int]:
    """The PIDs of gunicorn's workers: the children of its master process."""
    gunicorn = next(c for c in children(master) if "gunicorn" in command_line(c))
    return children(gunicorn)


def rss_mb(pid: int) -> float:
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


class Viewer(threading.Thread):
    """One browser on /wall: ticks every ``tick_s`` until ``stop``, recording each request's time and errors."""

    def __init__(self, url: str, calls: WallRequests, stop: threading.Event, offset_s: float, tick_s: float = TICK_S):
        super().__init__(daemon=True)
        self.url, self.calls, self.stop, self.offset_s, self.tick_s = url, calls, stop, offset_s, tick_s
        self.session = requests.Session()
        self.samples: list[float] = []
        self.errors = 0

    def post(self, body: dict) -> dict:
        started = time.perf_counter()
        try:
            response = self.session.post(f"{self.url}/_dash-update-component", json=body, timeout=30)
            ok = response.status_code in (200, 204)
        except requests.RequestException:
            response, ok = None, False
        self.samples.append((time.perf_counter() - started) * 1000)
        self.errors += not ok
        return response.json() if ok and response.status_code == 200 else {}

    def run(self) -> None:
        known, keys, tick = None, self.calls.keys, 0
        self.stop.wait(self.offset_s)
        while not self.stop.is_set():
            started = time.monotonic()
            tick += 1
            versions = answered(self.post(self.calls.versions(tick, known)), ids.VERSIONS)
            if versions:
                known = versions
                keys = answered(self.post(self.calls.refresh(versions, keys)), ids.WALL_KEYS) or keys
            self.stop.wait(max(0.0, self.tick_s - (time.monotonic() - started)))


def _viewers(url: str, calls: WallRequests, count: int, seconds: float, prometheus_url: str):
    stop = threading.Event()
    viewers = [Viewer(url, calls, stop, offset_s=i * TICK_S / count) for i in range(count)]
    queries = _query_count(prometheus_url)
    started = time.monotonic()
    for viewer in viewers:
        viewer.start()
    stop.wait(seconds)
    stop.set()
    for viewer in viewers:
        viewer.join()
    elapsed = time.monotonic() - started
    queries = _query_count(prometheus_url) - queries
    samples = [s for v in viewers for s in v.samples]
    return samples, sum(v.errors for v in viewers), elapsed, queries


@contextmanager
def production(env: dict, log=subprocess.DEVNULL):
    """``deploy/production.sh`` running until the block ends, its output to ``log``; yields its PID."""
    proc = subprocess.Popen(
        [str(ROOT / "deploy" / "production.sh")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)


def wait_healthy(url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            sources = requests.get(f"{url}/health", timeout=5).json()["sources"]
            if all(s["ok"] for s in sources.values()):
                return
        except (requests.RequestException, ValueError, KeyError):
            pass
        time.sleep(1)
    raise TimeoutError("the production set-up did not become healthy")


def run(soak_s: float = SOAK_S) -> list[dict]:
    """Return the rows for 1, 10, 50 and 100 viewers and for the workers' memory."""
    end_s = int(datetime.now(UTC).timestamp()) // 60 * 60 - 60
    shares = {f"service-{i:04d}": (lambda b, mean=0.01 + i / 10000: 1 - math.exp(-b / mean)) for i in range(SERVICES)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="opscenter-bench-") as tmp:
        workdir = Path(tmp)
        backfill(histogram_backfill(shares, end_s, minutes=65), workdir / "data")
        config = workdir / "opscenter.yaml"
        config.write_text(CONFIG)
        with prometheus(workdir, data_dir=workdir / "data") as prometheus_url:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = {
                **os.environ,
                "BIN": str(ROOT / ".venv" / "bin"),
                "PORT": str(port),
                "WORKERS": str(WORKERS),
                "THREADS": str(THREADS),
                "OPSCENTER_CONFIG": str(config),
                "BENCH_PROMETHEUS_URL": prometheus_url,
                "OPSCENTER_DATABASE_URL": "postgresql+psycopg2://postgres@127.0.0.1:5432/opscenter_bench",
            }
            with production(env) as pid:
                wait_healthy(url)
                os.environ.update({k: env[k] for k in ("OPSCENTER_CONFIG", "BENCH_PROMETHEUS_URL")})
                os.environ["OPSCENTER_REDIS_URL"] = env.get("OPSCENTER_REDIS_URL", "redis://127.0.0.1:6379/0")
                app = create_app(load())
                with app.server.test_request_context():
                    calls = WallRequests(wall.layout(), app.callback_map)
                for count in (1, 10, 50, 100):
                    samples, errors, elapsed, queries = _viewers(url, calls, count, STEP_S, prometheus_url)
                    rows.append(
                        {
                            "benchmark": f"{count} simulated viewer{'s' * (count > 1)}, gunicorn + Redis",
                            "median_ms": round(statistics.median(samples), 1),
                            "detail": f"{len(samples) / elapsed:.1f} requests/s, "
                            f"p95 {statistics.quantiles(samples, n=20)[-1]:.1f} ms, "
                            f"{errors} errors; Prometheus {queries / elapsed * 60:.0f} queries/min; "
                            f"{WORKERS} workers x {THREADS} threads, 2 pollers, {SERVICES:,} services, "
                            f"a tick per viewer per {TICK_S:g} s, {elapsed:.0f} s; "
                            f"load average {os.getloadavg()[0]:.1f}",
                        }
                    )
                workers = _workers(pid)
                before = [rss_mb(w) for w in workers]
                samples, errors, elapsed, queries = _viewers(url, calls, SOAK_VIEWERS, soak_s, prometheus_url)
                after = [rss_mb(w) for w in workers]
    rows.append(
        {
            "benchmark": f"web worker RSS, {SERVICES:,} services",
            "median_ms": "–",
            "detail": f"{', '.join(f'{b:.0f} -> {a:.0f} MB' for b, a in zip(before, after))} per worker over "
            f"{elapsed / 60:.0f} min of {SOAK_VIEWERS} viewers ({len(samples):,} requests, {errors} errors, "
            f"Prometheus {queries / elapsed * 60:.0f} queries/min); growth "
            f"{max((a - b) / b for a, b in zip(after, before)):+.1%} at most (target under 10%); "
            f"load average {os.getloadavg()[0]:.1f}",
        }
    )
    return rows


if __name__ == "__main__":
    import sys

    for row in run(float(sys.argv[1]) if len(sys.argv) > 1 else SOAK_S):
        print(row)
