"""A 5,000-service demo estate on Redis: one poll with the poller's derived step as a serving poller runs it,
the first refresh after it of a wall opened before it, in a worker of its own, and the largest value the
store wrote to Redis.

``python -m bench.scale`` measures in a process of its own and ends there: the first anomaly learning, which
a serving poller begins in the background (minutes at this size), would otherwise run on under the
benchmarks that follow. The refresh runs in a process of its own too (``python -m bench.scale refresh``), as
a web worker beside the poller. ``run()`` starts the measuring process and returns its row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import redis

from bench.viewer import WallRequests
from dashboard.app import create_app
from dashboard.core.derived import DerivedFrames
from dashboard.core.poller import Poller
from dashboard.core.settings import parse
from dashboard.core.store import DERIVED_SOURCE, FRAME_LIMIT_MB, FrameStore, open_store
from datasources import registry
from layouts.pages import wall

SERVICES = 5000
INTERVAL_S = 60
REDIS_URL = "redis://127.0.0.1:6379/0"
DEPLOYMENT = "bench-scale"
CONFIG = "sources:\n  - {kind: demo, name: demo, interval_s: %d, services: %d, max_rows: 10000000}\n"


def _values(client: redis.Redis, prefix: str) -> list[int]:
    """The size in bytes of every value under ``prefix``."""
    return [client.strlen(key) for key in client.scan_iter(f"{prefix}*", count=1000) if client.type(key) == b"string"]


def _clear(client: redis.Redis, prefix: str) -> None:
    for key in client.scan_iter(f"{prefix}*", count=1000):
        client.delete(key)


def measure() -> dict:
    """Poll the estate once and refresh the wall once; the figures as a dict."""
    client, prefix = redis.Redis.from_url(REDIS_URL), f"opscenter:{DEPLOYMENT}:"
    _clear(client, prefix)
    settings = parse(CONFIG % (INTERVAL_S, SERVICES))
    store = open_store(REDIS_URL, DEPLOYMENT, settings.source_names)
    source = registry.build(settings.sources[0])
    poller = Poller([source], store, derived=DerivedFrames(store, health=settings.health, first_wait_s=0))
    poller.publish_config(settings.chains)
    started = time.perf_counter()
    polled = poller.poll(source)
    poll_s = time.perf_counter() - started
    assert polled["ok"], polled["error"]
    wall_refresh = json.loads(_run("refresh"))  # while the learning goes on here, as in a serving poller
    sizes, views = _values(client, prefix), store.status(DERIVED_SOURCE)
    _clear(client, prefix)
    return {
        "poll_s": poll_s,
        "source_s": polled["duration_ms"] / 1000,
        "views_s": views["duration_ms"] / 1000,
        "views_ok": bool(views["ok"]),
        **wall_refresh,
        "largest_mb": max(sizes) / 1e6,
        "total_mb": sum(sizes) / 1e6,
        "keys": len(sizes),
        "load": os.getloadavg()[0],
    }


def refresh() -> dict:
    """The wall's first refresh in a worker over the polled store, for a browser holding nothing yet."""
    settings = parse(CONFIG % (INTERVAL_S, SERVICES))
    store = FrameStore(
        open_store(REDIS_URL, DEPLOYMENT, settings.source_names).cache, DEPLOYMENT, settings.source_names
    )
    app = create_app(settings, store)
    with app.server.test_request_context():
        requests = WallRequests(wall.layout(), app.callback_map)
    blank = {**requests.keys, "panels": {}, "stale": {}, "digests": {}, "structure": None, "spark_ms": None}
    body = requests.refresh({"frames": store.versions(), "stale": []}, blank)
    started, started_cpu = time.perf_counter(), time.thread_time()
    response = app.server.test_client().post("/_dash-update-component", json=body)
    return {
        "refresh_ms": (time.perf_counter() - started) * 1000,
        "refresh_cpu_ms": (time.thread_time() - started_cpu) * 1000,
        "refresh_status": response.status_code,
        "refresh_kb": len(response.data) / 1024,
    }


def _run(*args: str) -> str:
    """The last line ``python -m bench.scale *args`` prints."""
    done = subprocess.run([sys.executable, "-m", "bench.scale", *args], capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def run() -> list[dict]:
    """The row of the 5,000-service estate, measured in a process of its own."""
    m = json.loads(_run())
    within = "within" if m["poll_s"] < INTERVAL_S and m["views_ok"] and m["refresh_status"] == 200 else "NOT within"
    return [
        {
            "benchmark": f"{SERVICES:,}-service demo estate on Redis: poll, views, wall",
            "median_ms": round(m["poll_s"] * 1000),
            "detail": f"one poll {m['poll_s']:.1f} s ({m['source_s']:.1f} s fetching and storing, the wall's views "
            f"derived in {m['views_s']:.1f} s, the first anomaly learning begun beside it), {within} its "
            f"{INTERVAL_S} s interval; the wall's first refresh in a worker of its own {m['refresh_ms']:.0f} ms "
            f"(CPU {m['refresh_cpu_ms']:.0f} ms, {m['refresh_kb']:,.0f} KB); largest "
            f"Redis value {m['largest_mb']:.1f} MB (limit {FRAME_LIMIT_MB:g} MB), {m['total_mb']:,.0f} MB in "
            f"{m['keys']:,} values; load average {m['load']:.1f}",
        }
    ]


if __name__ == "__main__":
    print(json.dumps(refresh() if sys.argv[1:] == ["refresh"] else measure()), flush=True)
    os._exit(0)  # the learning thread may be inside Arrow: finalizing the interpreter under it can abort
