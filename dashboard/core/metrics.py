"""The dashboard's own Prometheus metrics: poll durations and errors per source, callback counts and
latency, kept by ``prometheus_client``.

``opscenter poll`` serves them on a port of its own (``serve``); the web app's ``/metrics`` renders
them (``render``). gunicorn workers run in multiprocess mode: with ``PROMETHEUS_MULTIPROC_DIR`` set
(``dashboard.gunicorn_conf``), each worker writes its values to files there and ``render`` adds up
the files of every worker, so one scrape counts them all.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)

# prometheus_client picks per-process files or memory when it is imported; render follows the same choice
MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST

POLL_SECONDS = Histogram("opscenter_poll_duration_seconds", "Time to poll one source.", ["source"], buckets=BUCKETS)
POLL_ERRORS = Counter("opscenter_poll_errors", "Polls that failed, per source.", ["source"])
CALLBACK_SECONDS = Histogram(
    "opscenter_callback_duration_seconds", "Server time of Dash callbacks.", ["callback"], buckets=BUCKETS
)


def observe_poll(source: str, seconds: float, ok: bool) -> None:
    POLL_SECONDS.labels(source).observe(seconds)
    if not ok:
        POLL_ERRORS.labels(source).inc()


def observe_callback(label: str, seconds: float) -> None:
    """Record one callback request; ``label`` must come from a bounded set (``callbacks.metric_label``)."""
    CALLBACK_SECONDS.labels(label).observe(seconds)


def render() -> bytes:
    """Every metric in the Prometheus text format: this process's, or every worker's in multiprocess mode."""
    if MULTIPROCESS_DIR is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=MULTIPROCESS_DIR)
    return generate_latest(registry)


def serve(host: str, port: int) -> None:
    """Serve this process's metrics on ``http://host:port/metrics`` from a daemon thread."""
    start_http_server(port, addr=host)
