"""The wall refresh callback, server side, at 100 and 1,000 services.

A demo estate is polled into Redis, with the poller's derived step as deployed (anomalies, and
the wall's views the workers format), and the wall rendered by an app reading through a store of its
own, as a web worker beside the poller does; the source is then polled a minute later, so every frame
has a new version, and the refresh callback request the browser would send next (new versions, the
keys of the first rendering) is posted through Flask's test client again and again: each call redraws
everything that changed, the worst case of a refresh. Timed from request to serialized response: for
the first viewer after a poll with the worker's memo emptied and a store that has read nothing yet
before each call (the views read from Redis and decoded anew), for the others with both kept.
Before timing, what the process holds goes into the garbage collector's permanent generation, as a
production worker's does once it has loaded the app (``as_worker``).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta

from bench.store import NOW
from bench.viewer import WallRequests
from dashboard import gunicorn_conf
from dashboard.app import create_app
from dashboard.core.derived import DerivedFrames
from dashboard.core.poller import Poller
from dashboard.core.settings import parse
from dashboard.core.store import FrameStore, open_store
from datasources import registry
from layouts.pages import wall

REDIS_URL = "redis://127.0.0.1:6379/0"
CONFIG = "sources:\n  - {kind: demo, name: demo, interval_s: 15, services: %d}\n"
REPEAT = 50
HISTORY_DAYS = 1  # the anomaly model learns from a day, not a week: what it finds is alike, its set-up 7 x cheaper


def estate(services: int, deployment: str, redis_url: str | None = None, worker: bool = False):
    """A demo estate polled with its derived step and the app over it, plus a function polling the next minute
    (and deriving from it); given ``worker``, the app reads through a store of its own on the same backend,
    decoding what it reads itself, as a web worker beside the poller does."""
    settings = parse(CONFIG % services)
    store = open_store(redis_url, deployment, settings.source_names)
    source = registry.build(settings.sources[0])
    clock = {"now": NOW}
    derived = DerivedFrames(store, history_days=HISTORY_DAYS, health=settings.health)
    poller = Poller([source], store, clock=lambda: clock["now"], derived=derived)
    poller.poll(source)

    def next_minute() -> None:
        clock["now"] += timedelta(minutes=1)
        poller.poll(source)

    reader = FrameStore(store.cache, deployment, settings.source_names) if worker else store
    return create_app(settings, reader), store, next_minute


def as_worker() -> None:
    """Leave the objects allocated so far to the garbage collector's permanent generation, as
    ``dashboard.gunicorn_conf`` does in each web worker once it has loaded the app."""
    gunicorn_conf.post_worker_init(None)


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _timed(client, body: dict, before=lambda: None) -> tuple[list[float], list[float], int]:
    """Wall and CPU (this thread's) milliseconds per call, and the response's size."""
    wall_ms, cpu_ms = [], []
    for _ in range(REPEAT):
        before()
        started, started_cpu = time.perf_counter(), time.thread_time()
        response = client.post("/_dash-update-component", json=body)
        wall_ms.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((time.thread_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    return wall_ms, cpu_ms, len(response.data)


def first_viewer(app, deployment: str) -> None:
    """Make the app's worker one that has served nobody since the poll: its memo empty, its store new."""
    worker = app.server.extensions["opscenter"]
    worker.memo.clear()
    worker.store = FrameStore(worker.store.cache, deployment, worker.settings.source_names)


def wall_refresh(services: int) -> list[dict]:
    """The refresh after a poll: for the first viewer a worker serves (nothing kept), then for the others."""
    deployment = f"bench-wall-{services}"
    app, store, next_minute = estate(services, deployment, REDIS_URL, worker=True)
    with app.server.test_request_context():
        requests = WallRequests(wall.layout(), app.callback_map)
    next_minute()
    body = requests.refresh({"frames": store.versions(), "stale": []}, requests.keys)
    client = app.server.test_client()
    as_worker()
    first, first_cpu, size = _timed(client, body, before=lambda: first_viewer(app, deployment))
    further, further_cpu, _ = _timed(client, body)
    load = f"load average {os.getloadavg()[0]:.1f}"
    return [
        {
            "benchmark": f"wall refresh callback, {services:,} services, first viewer after a poll",
            "median_ms": round(statistics.median(first), 1),
            "detail": f"p95 {_p95(first):.1f} ms; CPU p50 {statistics.median(first_cpu):.1f} ms, "
            f"p95 {_p95(first_cpu):.1f} ms (target < 20 ms); every panel's data changed, its views read from Redis and "
            f"computed anew; {REPEAT} calls, "
            f"{size / 1024:.1f} KB each; {load}",
        },
        {
            "benchmark": f"wall refresh callback, {services:,} services, further viewers",
            "median_ms": round(statistics.median(further), 1),
            "detail": f"p95 {_p95(further):.1f} ms (target < 20 ms); CPU p95 {_p95(further_cpu):.1f} ms; "
            "the same versions, from the worker's memo; "
            f"{REPEAT} calls; {load}",
        },
    ]


def run() -> list[dict]:
    """Return the wall refresh rows for the benchmark report."""
    return [row for services in (100, 1000) for row in wall_refresh(services)]


if __name__ == "__main__":
    for row in run():
        print(row)
