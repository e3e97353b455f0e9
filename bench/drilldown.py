"""Drill-down pages at scale: server-side time of the chain, service and trace pages.

One poll of a 1,000-service demo estate, with the poller's derived step as deployed, fills an
in-process store; the app reads it through a store of its own, as a web worker does (so the first
call decodes what the page reads), and the garbage collector set as a production worker's
(``callbacks.as_worker``). Each page's ``layout()`` is then called inside a Flask request
context and its result serialized as Dash would send it, repeatedly. The refresh callbacks do the
same work as ``layout()`` for the parts they redraw, so these figures bound them too.
``python -m bench.drilldown [services]`` prints the rows.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import pandas as pd
from dash._utils import to_json

from bench import callbacks
from bench.store import NOW
from layouts.pages import chain, service, trace

WINDOW = {"from": (pd.Timestamp(NOW) - pd.Timedelta(hours=1)).isoformat(), "to": NOW.isoformat()}
REPEAT = 30


def _samples(func, repeat: int = REPEAT) -> tuple[list[float], list[float]]:
    """Wall and CPU times in milliseconds of ``func`` plus the serialization of what it returns.

    CPU time (this thread's) is what the page costs a server; wall time also counts whatever
    else the machine is doing.
    """
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.thread_time()
        to_json(func())
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.thread_time() - start_cpu) * 1000)
    return wall, cpu


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def _row(name: str, cold_ms: float, wall: list[float], cpu: list[float], detail: str) -> dict:
    return {
        "benchmark": name,
        "median_ms": round(statistics.median(wall), 1),
        "detail": f"wall p95 {_p95(wall):.1f} ms (target < 50 ms); "
        f"CPU p50 {statistics.median(cpu):.1f} ms, p95 {_p95(cpu):.1f} ms; "
        f"first call {cold_ms:.1f} ms; {len(wall)} runs; {detail}",
    }


def pages(store) -> tuple:
    """(name, page function, detail) of the chain, service and trace pages drawn from ``store``'s demo estate."""
    calls = store.frame("calls")
    in_window = calls[(calls["service"] == "pretrade-risk") & (calls["start"] >= pd.Timestamp(WINDOW["from"]))]
    slowest = in_window.nlargest(1, "duration_ms")["trace_id"].iloc[0]
    return (
        ("/chain/equity-trading", lambda: chain.layout(chain="equity-trading", **WINDOW), "6 steps, 1 h window"),
        (
            "/service/pretrade-risk",
            lambda: service.layout(service="pretrade-risk", chain="equity-trading", **WINDOW),
            "1 h window",
        ),
        ("/trace/<slowest call>", lambda: trace.layout(trace_id=slowest, **WINDOW), "spans from the cache"),
    )


def run(services: int = 1000) -> list[dict]:
    """Return one row per drill-down page for the benchmark report."""
    app, store, _next_minute = callbacks.estate(services, f"bench-drill-{services}", worker=True)
    sizes = (
        f"{services:,} services, calls {len(store.frame('calls')):,} rows, "
        f"resource_metrics {len(store.frame('resource_metrics')):,} rows"
    )
    rows = []
    with app.server.test_request_context():
        for name, page, detail in pages(store):
            cold = _samples(page, repeat=1)[0][0]
            callbacks.as_worker()
            load = f"load average {os.getloadavg()[0]:.1f}"
            rows.append(_row(f"drill-down {name}", cold, *_samples(page), f"{detail}; {sizes}; {load}"))
    return rows


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000):
        print(row)
