"""The demo estate as Prometheus metrics in the OpenMetrics text format, for a real Prometheus to scrape.

Per instance: a latency histogram ``http_server_request_duration_seconds`` (labels
service, instance, http_route, http_response_status_code) whose buckets carry
exemplars with the trace ids of the demo's calls, so ``DemoSource.spans`` knows
them; node_exporter-style CPU, memory and network metrics; per edge a
``traces_service_graph_request_total`` counter; per service an
``opscenter_service_info`` series with its display name, tier, owner and runbook; per market-data
feed and site (labels market, feed, site) ``opscenter_feed_last_tick_timestamp_seconds`` (gauge),
``opscenter_feed_messages_total`` and ``opscenter_feed_sequence_gaps_total`` (counters), taken from
``feeds.feed_status`` at each scrape so the last tick is as of the scrape; the business figures
(``business_metrics``) as ``opscenter_orders_total{counter,channel,result}``,
``opscenter_order_rejects_total{counter,reason}``, ``opscenter_counter_latency_p99_seconds{counter}`` and
``opscenter_bank_transfers_total{channel,result}`` (``BUSINESS_FAMILIES``), advancing only while they flow.

Counters grow by the demo's rates times the time between scrapes; latencies
follow a log-normal distribution with the demo's p50 and p95. Scrape with
``honor_labels: true`` so the ``instance`` and ``service`` labels are kept.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd

from datasources.demo import DemoSource, feeds

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
HISTOGRAM = "http_server_request_duration_seconds"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
Z95 = 1.6448536269514722
REFRESH_S = 60
FIRST_SCRAPE_S = 60.0
FEED_LAST_TICK = "opscenter_feed_last_tick_timestamp_seconds"


def label_text(labels: dict[str, object]) -> str:
    """``{a="1",b="x"}`` with backslashes, quotes and newlines escaped."""

    def escape(value: object) -> str:
        return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return "{" + ",".join(f'{k}="{escape(v)}"' for k, v in labels.items()) + "}"


def le_text(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else f"{bound:g}"


def histogram_lines(
    name: str,
    labels: dict,
    cumulative: list[float],
    total: float,
    exemplars: dict[int, tuple[str, float, float]] | None = None,
    ts: float | None = None,
) -> list[str]:
    """Sample lines of one histogram series: cumulative bucket counts over BUCKETS and +Inf, count, sum.

    ``exemplars`` maps a bucket index to (trace id, value in seconds, timestamp).
    """
    suffix = f" {ts:.3f}" if ts is not None else ""
    lines = []
    for i, (bound, count) in enumerate(zip((*BUCKETS, math.inf), cumulative)):
        line = f"{name}_bucket{label_text({**labels, 'le': le_text(bound)})} {int(count)}{suffix}"
        if exemplars and i in exemplars:
            trace_id, value, at = exemplars[i]
            line += f" # {label_text({'trace_id': trace_id})} {value:.6f} {at:.3f}"
        lines.append(line)
    lines.append(f"{name}_count{label_text(labels)} {int(cumulative[-1])}{suffix}")
    lines.append(f"{name}_sum{label_text(labels)} {total:.6f}{suffix}")
    return lines


def lognormal_cdf(bound_s: float, p50_s: float, p95_s: float) -> float:
    """Share of requests at or under ``bound_s`` for a log-normal latency with the given p50 and p95."""
    sigma = max(math.log(max(p95_s, p50_s * 1.0001) / p50_s) / Z95, 1e-6)
    return 0.5 * (1 + math.erf((math.log(bound_s) - math.log(p50_s)) / (sigma * math.sqrt(2))))


def bucket_of(value_s: float) -> int:
    """Index of the first bucket whose bound holds ``value_s`` (len(BUCKETS) for +Inf)."""
    return next((i for i, bound in enumerate(BUCKETS) if value_s <= bound), len(BUCKETS))


class DemoExporter:
    """Accumulates the demo estate's counters and renders them on each scrape."""

    def __init__(self, seed: int = 42, services: int | None = None, clock=time.time):
        options = {"seed": seed, "window_h": 0.25, "step_s": 60, **({"services": services} if services else {})}
        self.source = DemoSource(name="demo", options=options)
        self.clock = clock
        self.lock = threading.Lock()
        self.frames: dict[str, pd.DataFrame] = {}
        self.frames_at = -math.inf
        self.last_scrape: float | None = None
        self.counters: dict[tuple, float] = defaultdict(float)

    def _refresh(self, now_s: float) -> None:
        if now_s - self.frames_at >= REFRESH_S:
            self.frames = self.source.fetch(pd.Timestamp(int(now_s), unit="s", tz="UTC").to_pydatetime())
            self.frames_at = now_s

    def render(self) -> str:
        """Advance the counters to now and return the exposition text."""
        with self.lock:
            now_s = self.clock()
            self._refresh(now_s)
            dt = FIRST_SCRAPE_S if self.last_scrape is None else max(now_s - self.last_scrape, 0.0)
            self.last_scrape = now_s
            lines = (
                self._latency(dt)
                + self._resources(dt)
                + self._edges(dt)
                + self._info()
                + self._feeds(now_s, dt)
                + self._business(dt)
            )
            return "\n".join(lines + ["# EOF", ""])

    def _latest(self, frame: str, key: str) -> pd.DataFrame:
        data = self.frames[frame]
        return data[data["ts"] == data["ts"].max()].set_index(key)

    def _latency(self, dt: float) -> list[str]:
        metrics = self._latest("service_metrics", "service")
        resources = self.frames["resource_metrics"]
        instances = resources[resources["ts"] == resources["ts"].max()].groupby("service")["instance"].apply(list)
        operations = self.frames["calls"].groupby("service")["operation"].first()
        exemplars = self._exemplars()
        lines = [f"# TYPE {HISTOGRAM} histogram", f"# HELP {HISTOGRAM} Duration of HTTP server requests."]
        for service, row in metrics.iterrows():
            names = instances.get(service, [f"{service}-1"])
            route = operations.get(service, "handle")
            p50, p95 = row["latency_p50_ms"] / 1000, row["latency_p95_ms"] / 1000
            shares = [lognormal_cdf(b, p50, p95) for b in BUCKETS] + [1.0]
            mean_s = p50 * math.exp((math.log(p95 / p50) / Z95) ** 2 / 2)
            for instance in names:
                for status, share in (("200", 1 - row["error_ratio"]), ("500", row["error_ratio"])):
                    count = row["requests_per_s"] * share * dt / len(names)
                    key = (HISTOGRAM, service, instance, status)
                    for i, s in enumerate(shares):
                        self.counters[key + (i,)] += count * s
                    self.counters[key + ("sum",)] += count * mean_s
                    labels = {
                        "service": service,
                        "instance": instance,
                        "http_route": route,
                        "http_response_status_code": status,
                    }
                    cumulative = [self.counters[key + (i,)] for i in range(len(shares))]
                    lines += histogram_lines(
                        HISTOGRAM, labels, cumulative, self.counters[key + ("sum",)], exemplars.get((instance, status))
                    )
        return lines

    def _exemplars(self) -> dict[tuple[str, str], dict[int, tuple[str, float, float]]]:
        """Per (instance, status): the latest call in each bucket as (trace id, seconds, end time)."""
        found: dict[tuple[str, str], dict[int, tuple[str, float, float]]] = defaultdict(dict)
        calls = self.frames["calls"].sort_values("start")
        for call in calls.itertuples(index=False):
            status = "500" if call.status == "error" else "200"
            seconds = call.duration_ms / 1000
            end = call.start.timestamp() + seconds
            found[(call.instance, status)][bucket_of(seconds)] = (call.trace_id, seconds, end)
        return found

    def _resources(self, dt: float) -> list[str]:
        latest = self._latest("resource_metrics", "instance")
        lines = [
            "# TYPE node_cpu_seconds counter",
            "# TYPE node_memory_MemTotal_bytes gauge",
            "# TYPE node_memory_MemAvailable_bytes gauge",
            "# TYPE node_network_receive_bytes counter",
            "# TYPE node_network_transmit_bytes counter",
        ]
        families: dict[str, list[str]] = defaultdict(list)
        for instance, row in latest.iterrows():
            base = {"instance": instance, "service": row["service"]}
            for mode, share in (("idle", 1 - row["cpu_ratio"]), ("user", row["cpu_ratio"])):
                key = ("cpu", instance, mode)
                self.counters[key] += share * dt
                families["node_cpu_seconds"].append(
                    f"node_cpu_seconds_total{label_text({**base, 'cpu': '0', 'mode': mode})} {self.counters[key]:.3f}"
                )
            total = row["memory_bytes"] / row["memory_ratio"]
            families["node_memory_MemTotal_bytes"].append(f"node_memory_MemTotal_bytes{label_text(base)} {total:.0f}")
            families["node_memory_MemAvailable_bytes"].append(
                f"node_memory_MemAvailable_bytes{label_text(base)} {total - row['memory_bytes']:.0f}"
            )
            for direction, rate in (("receive", row["net_rx_bps"]), ("transmit", row["net_tx_bps"])):
                key = ("net", instance, direction)
                self.counters[key] += rate * dt
                families[f"node_network_{direction}_bytes"].append(
                    f"node_network_{direction}_bytes_total{label_text({**base, 'device': 'eth0'})} "
                    f"{self.counters[key]:.0f}"
                )
        return [line for header in lines for line in (header, *families[header.split()[2]])]

    def _edges(self, dt: float) -> list[str]:
        lines = ["# TYPE traces_service_graph_request counter"]
        for edge in self.frames["edges"].itertuples(index=False):
            key = ("edge", edge.caller, edge.callee)
            self.counters[key] += edge.calls_per_s * dt
            labels = label_text({"client": edge.caller, "server": edge.callee})
            lines.append(f"traces_service_graph_request_total{labels} {self.counters[key]:.0f}")
        return lines

    def _info(self) -> list[str]:
        lines = ["# TYPE opscenter_service_info gauge"]
        for row in self.frames["services"].itertuples(index=False):
            labels = {
                "service": row.service,
                "display_name": row.display_name,
                "tier": row.tier,
                "owner": row.owner,
                "runbook_url": row.runbook_url,
                **({"display_name_zh": row.x_display_name_zh} if row.x_display_name_zh else {}),
            }
            lines.append(f"opscenter_service_info{label_text(labels)} 1")
        return lines

    def _feeds(self, now_s: float, dt: float) -> list[str]:
        """The feeds at this scrape: their last tick's time, and counters grown by their rates over ``dt``."""
        frame = self.source.feed_status(int(now_s))
        families: dict[str, list[str]] = defaultdict(list)
        for row in frame.itertuples(index=False):
            labels = label_text({"market": row.market, "feed": row.feed, "site": row.site})
            if not math.isnan(row.tick_age_s):
                families["last_tick"].append(f"{FEED_LAST_TICK}{labels} {row.ts.timestamp() - row.tick_age_s:.3f}")
            for family, per_s in (
                ("messages", row.messages_per_s),
                ("sequence_gaps", row.sequence_gaps / (feeds.GAP_WINDOW_M * 60)),
            ):
                key = ("feed", family, row.market, row.feed, row.site)
                self.counters[key] += per_s * dt
                families[family].append(f"opscenter_feed_{family}_total{labels} {self.counters[key]:.3f}")
        return [
            f"# TYPE {FEED_LAST_TICK} gauge",
            *families["last_tick"],
            "# TYPE opscenter_feed_messages counter",
            *families["messages"],
            "# TYPE opscenter_feed_sequence_gaps counter",
            *families["sequence_gaps"],
        ]

    def _business(self, dt: float) -> list[str]:
        """The business figures at the estate's latest timestamp: counters advanced by their rates, the
        counters' latency as a gauge (absent while no order flows)."""
        figures = self.frames["business_metrics"]
        now = self.frames["service_metrics"]["ts"].max()
        latest = figures[(figures["ts"] == now) & figures[["counter", "channel", "reason"]].notna().any(axis=1)]
        gauges = []
        for row in latest.itertuples(index=False):
            if row.metric == "counter_latency_p99_ms":
                labels = label_text({"counter": row.counter})
                gauges.append(f"opscenter_counter_latency_p99_seconds{labels} {row.value / 1000:.6f}")
            else:
                for key, amount in business_increments(row, latest):
                    self.counters[key] += amount * dt
        lines = []
        for family, kind in BUSINESS_FAMILIES:
            lines.append(f"# TYPE {family} {kind}")
            if kind == "gauge":
                lines += gauges
                continue
            for key in sorted(k for k in self.counters if k[0] == family):
                lines.append(f"{family}_total{label_text(dict(key[1:]))} {self.counters[key]:.3f}")
        return lines


BUSINESS_FAMILIES = (
    ("opscenter_orders", "counter"),
    ("opscenter_order_rejects", "counter"),
    ("opscenter_counter_latency_p99_seconds", "gauge"),
    ("opscenter_bank_transfers", "counter"),
)


def business_increments(row, latest: pd.DataFrame) -> list[tuple[tuple, float]]:
    """The counters one ``business_metrics`` row (of a breakdown) advances, with their rates per second:
    orders and transfers split by result with the success ratio of the same dimensions."""
    if row.metric == "order_rejects_per_s":
        return [(("opscenter_order_rejects", ("counter", row.counter), ("reason", row.reason)), row.value)]
    volume = {"orders_per_s": ("order_success_ratio", "opscenter_orders", ("counter", "channel"))}
    volume["transfers_per_s"] = ("transfer_success_ratio", "opscenter_bank_transfers", ("channel",))
    if row.metric not in volume:
        return []
    ratio_metric, family, dimensions = volume[row.metric]
    same = latest["metric"] == ratio_metric
    for dimension in dimensions:
        same &= latest[dimension] == getattr(row, dimension)
    success = float(latest.loc[same, "value"].iloc[0]) if same.any() else 1.0
    labels = tuple((d, getattr(row, d)) for d in dimensions)
    return [
        ((family, *labels, ("result", "success")), row.value * success),
        ((family, *labels, ("result", "failed")), row.value * (1 - success)),
    ]


def serve(
    port: int, host: str = "127.0.0.1", seed: int = 42, services: int | None = None, clock=time.time
) -> ThreadingHTTPServer:
    """A server answering GET /metrics with the demo estate as of ``clock()``; call ``serve_forever()`` on it."""
    exporter = DemoExporter(seed=seed, services=services, clock=clock)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "only /metrics is served")
                return
            body = exporter.render().encode()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            log.debug("%s %s", self.address_string(), fmt % args)

    return ThreadingHTTPServer((host, port), Handler)
