"""Peak memory of learning the anomaly model: from the demo's history and from a Prometheus history.

Each side runs in a fresh process and reports its peak resident size: the demo generates a week at
the step the derived step asks for and learns from it; the Prometheus side polls once, reads the same
week through ``PrometheusSource.history()`` (chunked) and learns from it. Its Prometheus is a loopback
server in a third process answering every range query with the demo estate's own values for the
window asked (the service columns per service, the node resource set per instance), so both sides
learn the same model from the same points and the difference is the cost of reading them.

    python -m bench.history_memory [services]
"""

from __future__ import annotations

import json
import multiprocessing
import re
import resource
import sys
import threading
import urllib.parse
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd

from dashboard.analytics import anomaly
from dashboard.core.derived import HISTORY_DAYS, learn_step_s
from datasources.base import METRIC_FRAMES

NOW = pd.Timestamp("2026-11-18 03:00", tz="UTC")
WINDOW_START = NOW - pd.Timedelta(hours=1)  # where the Prometheus poll's window (60 minutes) begins
_COLUMN = re.compile(r'"opscenter_column", "(\w+)"')


def _series(frames: dict[str, pd.DataFrame], query: str) -> list[dict]:
    """The tagged series answering ``query`` from the demo's ``frames``: per service, or per instance for
    a resource query."""
    resource_query = "node_" in query
    frame = frames["resource_metrics" if resource_query else "service_metrics"]
    keys = ["service", "instance"] if resource_query else ["service"]
    stamps = (frame["ts"].astype("int64") // 10**9).to_numpy()
    groups = frame.groupby(keys, sort=False).indices
    result = []
    for column in _COLUMN.findall(query):
        values = frame[column].to_numpy()
        for key, rows in groups.items():
            labels = dict(zip(keys, key if isinstance(key, tuple) else (key,)), opscenter_column=column)
            points = [[int(t), repr(float(v))] for t, v in zip(stamps[rows], values[rows])]
            result.append({"metric": labels, "values": points})
    return result


def _serve(port_out, services: int) -> None:
    from datasources.demo import DemoSource

    estate = DemoSource(name="demo", options={"services": services})

    lock = threading.Lock()

    @lru_cache(maxsize=1)  # the queries of one chunk share its window
    def generated(start: float, end: float, step: float) -> dict[str, pd.DataFrame]:
        begin = pd.Timestamp(start, unit="s", tz="UTC")
        return estate.history(begin, pd.Timestamp(end + step, unit="s", tz="UTC"), step_s=int(step))

    def window(start: float, end: float, step: float) -> dict[str, pd.DataFrame]:
        with lock:  # the chunk's queries arrive together: generate it once
            return generated(start, end, step)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            args = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
            if url.path.endswith("/query_range"):
                data = {
                    "resultType": "matrix",
                    "result": _series(
                        window(float(args["start"]), float(args["end"]), float(args["step"])), args["query"]
                    ),
                }
            else:
                data = [] if url.path.endswith("/query_exemplars") else {"resultType": "vector", "result": []}
            body = json.dumps({"status": "success", "data": data}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_out.put(server.server_address[1])
    server.serve_forever()


def _learn(kind: str, services: int, url: str, out) -> None:
    """In a fresh process: history as the derived step asks for it, then the model; report peak RSS. Both
    sides read the week before ``WINDOW_START`` (the demo's own poll window is six hours, where the derived
    step would start its week five hours earlier than the Prometheus side's)."""
    from datasources.demo import DemoSource
    from datasources.monitoring.prometheus import PrometheusSource

    source = (
        DemoSource(name="demo", options={"services": services})
        if kind == "demo"
        else PrometheusSource(name="prom", options={"url": url, "timeout_s": 120, "max_bytes": 2**30})
    )
    polled = source.fetch(NOW.to_pydatetime())
    metrics = {name: polled[name] for name in METRIC_FRAMES}
    step_s = learn_step_s(metrics, HISTORY_DAYS)
    history = source.history(WINDOW_START - pd.Timedelta(days=HISTORY_DAYS), WINDOW_START, step_s=step_s)
    history_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = anomaly.learn(history)
    out.put(
        {
            "kind": kind,
            "step_s": step_s or 60,
            "rows": {n: len(f) for n, f in history.items()},
            "baselines": len(model.base),
            "history_peak_mb": history_mb,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "requests": getattr(getattr(source, "client", None), "requests_sent", 0),
        }
    )


def run(services: int = 100) -> list[dict]:
    spawn = multiprocessing.get_context("spawn")
    ports = spawn.Queue()
    server = spawn.Process(target=_serve, args=(ports, services), daemon=True)
    server.start()
    try:
        url = f"http://127.0.0.1:{ports.get(timeout=60)}"
        results = []
        for kind in ("demo", "prometheus"):
            out = spawn.Queue()
            child = spawn.Process(target=_learn, args=(kind, services, url, out))
            child.start()
            results.append(out.get(timeout=1800))
            child.join()
    finally:
        server.terminate()
        server.join()
    return results


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else 100):
        print(row)
