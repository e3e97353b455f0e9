"""The wall refresh callback, server side, at 100 and 1,000 services.

A demo estate is polled into an in-process store and the wall rendered; the source is
then polled a minute later, so every frame has a new version, and the refresh callback
request the browser would send next (new versions, the keys of the first rendering) is
posted through Flask's test client again and again: each call redraws everything that
changed, the worst case of a refresh. Timed from request to serialized response.
"""
from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

from bench.store import NOW
from bench.viewer import WallRequests
from dashboard.app import create_app
from dashboard.poller import Poller
from dashboard.settings import parse
from dashboard.store import open_store
from datasources import registry
from layouts import wall

CONFIG = "sources:\n  - {kind: demo, name: demo, interval_s: 15, services: %d}\n"
REPEAT = 50


def estate(services: int, deployment: str, redis_url: str | None = None):
    """A polled demo estate and the app over it, plus a function polling the next minute."""
    settings = parse(CONFIG % services)
    store = open_store(redis_url, deployment, settings.source_names)
    source = registry.build(settings.sources[0])
    clock = {"now": NOW}
    poller = Poller([source], store, clock=lambda: clock["now"])
    poller.poll(source)

    def next_minute() -> None:
        clock["now"] += timedelta(minutes=1)
        poller.poll(source)

    return create_app(settings, store), store, next_minute


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def wall_refresh(services: int) -> dict:
    app, store, next_minute = estate(services, f"bench-wall-{services}")
    with app.server.test_request_context():
        requests = WallRequests(wall.layout(), app.callback_map)
    next_minute()
    body = requests.refresh({"frames": store.versions(), "stale": []}, requests.keys)
    client = app.server.test_client()
    samples = []
    for _ in range(REPEAT + 1):
        started = time.perf_counter()
        response = client.post("/_dash-update-component", json=body)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    cold, samples = samples[0], samples[1:]
    return {"benchmark": f"wall refresh callback, {services:,} services, data changed",
            "median_ms": round(statistics.median(samples), 1),
            "detail": f"p95 {_p95(samples):.1f} ms (target < 20 ms); first call {cold:.1f} ms; {REPEAT} calls, "
                      f"{len(response.data) / 1024:.1f} KB each; load average {os.getloadavg()[0]:.1f}"}


def run() -> list[dict]:
    """Return the wall refresh rows for the benchmark report."""
    return [wall_refresh(services) for services in (100, 1000)]


if __name__ == "__main__":
    for row in run():
        print(row)
