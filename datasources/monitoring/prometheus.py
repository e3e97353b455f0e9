"""Prometheus: RED metrics from a latency histogram, resources per instance, calls from exemplars, edges.

A poll sends the same queries whatever the number of services, all at once: one
range query per service column, aggregated in PromQL (``sum by``,
``histogram_quantile``); one per resource set, its columns' expressions tagged
with their column by ``label_replace`` and joined with ``or``; one exemplar
query; two instant queries (edges, the service info metric). Nine by default.

Expressions are ``string.Template`` text; ``$metric``, ``$service``, ``$instance``,
``$match`` (label matchers of option ``match``), ``$error_match``, ``$rate`` and
``$unit_ms`` are filled in from the options, label values always as escaped
PromQL strings. Non-finite values (NaN, +Inf) become nulls; series that lack the
labels a frame needs are dropped, and a result where every series lacks them is
an error naming the label.
"""
from __future__ import annotations

import contextvars
import json
import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from string import Template
from typing import Any

import pandas as pd

from datasources.base import CONTRACTS, Health, Source, SourceError, empty_frame, validate, parser
from datasources.traces import frame_from_records, select_calls
from datasources.transport import OPTION_KEYS, HttpClient, HttpError
from datasources.registry import register

COLUMN_LABEL = "opscenter_column"
RANGE, INSTANT, EXEMPLARS = "/api/v1/query_range", "/api/v1/query", "/api/v1/query_exemplars"
SERVICE_QUERIES = {
    "requests_per_s": "sum by ($service) (rate(${metric}_count{$match}[$rate]))",
    "error_ratio": "(sum by ($service) (rate(${metric}_count{$error_match}[$rate]))"
                   " or 0 * sum by ($service) (rate(${metric}_count{$match}[$rate])))"
                   " / sum by ($service) (rate(${metric}_count{$match}[$rate]))",
    **{f"latency_p{q}_ms": f"$unit_ms * histogram_quantile(0.{q}, sum by ($service, le) "
                           f"(rate(${{metric}}_bucket{{$match}}[$rate])))" for q in ("50", "95", "99")},
}
_BY = "by ($instance, $service)"
RESOURCE_PRESETS = {
    "node": {
        "instance_label": "instance",
        "queries": {
            "cpu_ratio": f'1 - avg {_BY} (rate(node_cpu_seconds_total{{mode="idle",$match}}[$rate]))',
            "memory_bytes": f"sum {_BY} (node_memory_MemTotal_bytes{{$match}}"
                            f" - node_memory_MemAvailable_bytes{{$match}})",
            "memory_ratio": f"1 - sum {_BY} (node_memory_MemAvailable_bytes{{$match}})"
                            f" / sum {_BY} (node_memory_MemTotal_bytes{{$match}})",
            "net_rx_bps": f'sum {_BY} (rate(node_network_receive_bytes_total{{device!="lo",$match}}[$rate]))',
            "net_tx_bps": f'sum {_BY} (rate(node_network_transmit_bytes_total{{device!="lo",$match}}[$rate]))',
        },
    },
    "cadvisor": {
        "instance_label": "pod",
        "service_pattern": r"(?P<service>.+?)(-[a-z0-9]{6,10})?-[a-z0-9]{5}",
        "queries": {
            "cpu_ratio": 'sum by ($instance) (rate(container_cpu_usage_seconds_total{container!="",$match}[$rate]))'
                         ' / sum by ($instance) (container_spec_cpu_quota{container!="",$match}'
                         ' / container_spec_cpu_period{container!="",$match})',
            "memory_bytes": 'sum by ($instance) (container_memory_working_set_bytes{container!="",$match})',
            "memory_ratio": 'sum by ($instance) (container_memory_working_set_bytes{container!="",$match})'
                            ' / sum by ($instance) (container_spec_memory_limit_bytes{container!="",$match} > 0)',
            "net_rx_bps": "sum by ($instance) (rate(container_network_receive_bytes_total{$match}[$rate]))",
            "net_tx_bps": "sum by ($instance) (rate(container_network_transmit_bytes_total{$match}[$rate]))",
        },
    },
}
EDGE_QUERY = "sum by ($caller, $callee) (rate(${edge_metric}{$match}[$rate]))"
INFO_QUERY = "${info_metric}{$match}"
EXEMPLAR_QUERY = "${metric}_bucket{$match}"
INFO_LABELS = ("display_name", "tier", "owner", "runbook_url")
RATIO_COLUMNS = ("error_ratio", "cpu_ratio", "memory_ratio")
MAX_POINTS_PER_SERIES = 11000
DEFAULT_MAX_SERIES = 50_000  # per answer; the 1,000-service demo's resource query has 15,000 (3,000 instances x 5)
_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_DURATION = re.compile(r"([0-9]+(ms|[smhdwy]))+")
OPTIONS = {
    "metric": "http_server_request_duration_seconds", "service_label": "service", "instance_label": "instance",
    "operation_label": "http_route", "status_label": "http_response_status_code", "error_values": "5..",
    "latency_unit_ms": 1000.0, "rate": "5m", "window_m": 60, "step_s": 60, "match": {}, "queries": {},
    "resources": ["node"], "instance_services": {}, "edge_metric": "traces_service_graph_request_total",
    "caller_label": "client", "callee_label": "server", "info_metric": "opscenter_service_info",
    "default_tier": 2, "trace_id_labels": ["trace_id", "traceID", "traceId"], "slowest_calls": 10,
    "max_series": DEFAULT_MAX_SERIES,
}


def promql_string(value: Any) -> str:
    """``value`` as a double-quoted PromQL string literal, every quote, backslash and control escaped."""
    return json.dumps(str(value), ensure_ascii=False)


def matchers(labels: dict[str, Any]) -> str:
    """``{name: value}`` as PromQL equality matchers, e.g. ``env="prod",region="sh"``."""
    for name in labels:
        if not _NAME.fullmatch(str(name)):
            raise SourceError(f"match: {name!r} is not a valid label name")
    return ",".join(f"{name}={promql_string(value)}" for name, value in labels.items())


@dataclass(frozen=True)
class ResourceSet:
    """Resource expressions of one exporter family and how their series map to instances and services."""

    name: str
    instance_label: str
    queries: dict[str, str]
    service_label: str
    service_pattern: re.Pattern | None = None


@dataclass(frozen=True)
class Settings:
    """Validated options."""

    values: dict[str, Any]
    service_queries: dict[str, str]
    resource_sets: tuple[ResourceSet, ...]

    def __getattr__(self, key: str) -> Any:
        try:
            return self.values[key]
        except KeyError:
            raise AttributeError(key) from None

    def render(self, template: str, **extra: str) -> str:
        """Fill a query template from the options; label values are escaped PromQL strings."""
        v = self.values
        match = matchers(v["match"])
        error = f"{v['status_label']}=~{promql_string(v['error_values'])}"
        fields = {
            "metric": v["metric"], "service": v["service_label"], "instance": v["instance_label"],
            "match": match, "error_match": ",".join(filter(None, (match, error))), "rate": v["rate"],
            "unit_ms": f"{float(v['latency_unit_ms']):g}", "edge_metric": v["edge_metric"],
            "caller": v["caller_label"], "callee": v["callee_label"], "info_metric": v["info_metric"], **extra,
        }
        try:
            return Template(template).substitute(fields)
        except (KeyError, ValueError) as exc:
            raise SourceError(f"query template {template!r}: unknown or bad placeholder {exc}") from None


def settings(options: dict[str, Any], source: str = "prometheus") -> Settings:
    """Validate the options; raise SourceError naming the first bad one."""
    unknown = sorted(set(options) - set(OPTIONS) - set(OPTION_KEYS))
    if unknown:
        raise SourceError(f"{source}: unknown option(s) {', '.join(unknown)}; known: "
                          f"{', '.join(sorted(set(OPTIONS) | set(OPTION_KEYS)))}")
    values = {**OPTIONS, **{k: v for k, v in options.items() if k in OPTIONS}}
    for key in ("service_label", "instance_label", "operation_label", "status_label", "caller_label",
                "callee_label"):
        if not _NAME.fullmatch(str(values[key])):
            raise SourceError(f"{source}: option {key!r}: {values[key]!r} is not a valid label name")
    for key in ("metric", "edge_metric", "info_metric"):
        if not _METRIC.fullmatch(str(values[key])):
            raise SourceError(f"{source}: option {key!r}: {values[key]!r} is not a valid metric name")
    if not _DURATION.fullmatch(str(values["rate"])):
        raise SourceError(f"{source}: option 'rate' must be a PromQL duration such as 5m, got {values['rate']!r}")
    if not isinstance(values["match"], dict) or not isinstance(values["instance_services"], dict):
        raise SourceError(f"{source}: options 'match' and 'instance_services' must be mappings")
    try:
        matchers(values["match"])
    except SourceError as exc:
        raise SourceError(f"{source}: option {exc}") from None
    try:
        re.compile(str(values["error_values"]))
        window_s, step_s = float(values["window_m"]) * 60, float(values["step_s"])
        slowest = int(values["slowest_calls"])
        tier = int(values["default_tier"])
        max_series = int(values["max_series"])
    except (TypeError, ValueError, re.error) as exc:
        raise SourceError(f"{source}: bad option: {exc}") from None
    steps_ok = 0 < step_s <= window_s and window_s / step_s <= MAX_POINTS_PER_SERIES
    if not steps_ok or slowest < 1 or tier not in (1, 2, 3) or max_series < 1:
        raise SourceError(f"{source}: need 0 < step_s <= window_m x 60 with at most {MAX_POINTS_PER_SERIES} "
                          f"steps, slowest_calls >= 1, default_tier 1-3 and max_series >= 1")
    unknown_columns = sorted(set(values["queries"]) - set(SERVICE_QUERIES))
    if unknown_columns:
        raise SourceError(f"{source}: option 'queries': unknown column(s) {', '.join(unknown_columns)}; "
                          f"known: {', '.join(SERVICE_QUERIES)}")
    return Settings(values, {**SERVICE_QUERIES, **values["queries"]},
                    tuple(_resource_set(spec, values, source) for spec in values["resources"] or ()))


def _resource_set(spec: Any, values: dict[str, Any], source: str) -> ResourceSet:
    """A preset name, or a mapping with an optional ``preset`` whose keys it overrides."""
    if isinstance(spec, str):
        spec = {"preset": spec}
    if not isinstance(spec, dict) or spec.get("preset", "node") not in RESOURCE_PRESETS:
        raise SourceError(f"{source}: option 'resources': expected {' or '.join(RESOURCE_PRESETS)} "
                          f"or a mapping with instance_label and queries, got {spec!r}")
    merged = {"service_label": values["service_label"], **RESOURCE_PRESETS[spec.get("preset", "node")],
              **{k: v for k, v in spec.items() if k != "queries"}}
    queries = {**merged["queries"], **(spec.get("queries") or {})}
    resource_columns = [c.name for c in CONTRACTS["resource_metrics"][3:]]
    if set(queries) - set(resource_columns):
        raise SourceError(f"{source}: option 'resources': query columns must be among {', '.join(resource_columns)}")
    for key in ("instance_label", "service_label"):
        if not _NAME.fullmatch(str(merged[key])):
            raise SourceError(f"{source}: option 'resources': {key} {merged[key]!r} is not a valid label name")
    pattern = merged.get("service_pattern")
    return ResourceSet(spec.get("preset", "custom"), merged["instance_label"], queries, merged["service_label"],
                       re.compile(pattern) if pattern else None)


# ---------------------------------------------------------------- parsing (pure)

def result_of(payload: Any, query: str) -> Any:
    """The ``data`` of a Prometheus API answer; SourceError on ``status: error`` or a bad shape."""
    if not isinstance(payload, dict) or "status" not in payload:
        raise SourceError(f"not a Prometheus API answer for query {query!r}")
    if payload["status"] != "success":
        raise SourceError(f"Prometheus error {payload.get('errorType', '')}: {payload.get('error', '?')} "
                          f"(query {query!r})")
    data = payload.get("data")
    if isinstance(data, dict) and "result" in data:
        data = data["result"]
    if not isinstance(data, (list, dict)):
        raise SourceError(f"Prometheus answer without data for query {query!r}")
    return data


def within_limits(data: Any, max_series: int, max_rows: int) -> Any:
    """``data`` (a query's result) unless it holds more than ``max_series`` series or ``max_rows`` points."""
    if not isinstance(data, list):
        return data
    if len(data) > max_series:
        raise SourceError(f"{len(data):,} series, over the limit of {max_series:,} (option max_series)")
    points = sum(len(s.get("values") or s.get("exemplars") or ()) or 1 for s in data if isinstance(s, dict))
    if points > max_rows:
        raise SourceError(f"{points:,} points, over the limit of {max_rows:,} rows (max_rows)")
    return data


def _number(text: Any) -> float:
    """A sample value as a float; NaN, +Inf, -Inf and garbage become NaN."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan


def long_points(result: list[dict], labels: tuple[str, ...]) -> pd.DataFrame:
    """Matrix or vector series as long rows: ts, the given labels (None when absent), value."""
    rows: dict[str, list] = {"ts": [], "value": [], **{label: [] for label in labels}}
    for series in result:
        metric = series.get("metric") or {}
        points = series.get("values") or ([series["value"]] if "value" in series else [])
        rows["ts"] += [p[0] for p in points]
        rows["value"] += [_number(p[1]) for p in points]
        for label in labels:
            rows[label] += [metric.get(label)] * len(points)
    frame = pd.DataFrame(rows)
    frame["ts"] = pd.to_datetime(frame["ts"].astype("float64"), unit="s", utc=True).dt.as_unit("ns")
    frame["value"] = frame["value"].astype("float64")
    return frame


def _require(frame: pd.DataFrame, label: str, what: str) -> pd.DataFrame:
    """Drop rows lacking ``label``; an error when rows existed but none carried it."""
    present = frame[label].notna() & (frame[label] != "")
    if len(frame) and not present.any():
        raise SourceError(f"{what}: no series carries the label {label!r}; set the label option or the query")
    return frame[present]


def _wide(points: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """One column per COLUMN_LABEL tag (the last value when an expression repeats a key); ratios clipped to [0, 1]."""
    wide = points.groupby(keys + [COLUMN_LABEL], sort=False)["value"].last().unstack(COLUMN_LABEL)
    wide = wide.reindex(columns=columns).reset_index()
    wide.columns.name = None
    for column in RATIO_COLUMNS:
        if column in wide:
            wide[column] = wide[column].clip(0.0, 1.0)
    return wide


@parser()
def service_metrics_frame(result: list[dict], service_label: str) -> pd.DataFrame:
    """The service_metrics frame from the tagged matrix of the service query."""
    columns = [c.name for c in CONTRACTS["service_metrics"][2:]]
    points = _require(long_points(result, (service_label, COLUMN_LABEL)), service_label, "service metrics")
    if points.empty:
        return empty_frame("service_metrics")
    wide = _wide(points, ["ts", service_label], columns).rename(columns={service_label: "service"})
    wide = wide[wide["requests_per_s"].notna()]
    wide["requests_per_s"] = wide["requests_per_s"].clip(lower=0.0)
    wide["service"] = wide["service"].astype(object)
    return validate("service_metrics", wide.sort_values(["ts", "service"]).reset_index(drop=True))


@parser()
def resource_metrics_frame(result: list[dict], rset: ResourceSet, instance_services: dict[str, str]) -> pd.DataFrame:
    """The resource_metrics frame from the tagged matrix of one resource set.

    An instance's service comes from ``instance_services``, else the set's service
    label, else the set's ``service_pattern`` on the instance name; others are dropped.
    """
    columns = [c.name for c in CONTRACTS["resource_metrics"][3:]]
    labels = tuple(dict.fromkeys((rset.instance_label, rset.service_label, COLUMN_LABEL)))
    points = _require(long_points(result, labels), rset.instance_label, f"resources ({rset.name})")
    if points.empty:
        return empty_frame("resource_metrics")
    instance = points[rset.instance_label]
    service = instance.map(lambda i: instance_services.get(i)).fillna(points[rset.service_label])
    if rset.service_pattern is not None:
        guessed = instance.map(lambda i: (m := rset.service_pattern.fullmatch(i)) and m.group("service"))
        service = service.fillna(guessed.where(guessed.astype(bool)))
    points = points.assign(service=service.where(service != ""), instance=instance)
    points = _require(points, "service", f"resources ({rset.name}): label {rset.service_label!r}")
    wide = _wide(points, ["ts", "service", "instance"], columns)
    wide[["service", "instance"]] = wide[["service", "instance"]].astype(object)
    return validate("resource_metrics", wide.sort_values(["ts", "instance"]).reset_index(drop=True))


@parser()
def edges_frame(result: list[dict], caller_label: str, callee_label: str) -> pd.DataFrame:
    """The edges frame from the instant call-rate vector; non-finite or negative rates are dropped."""
    points = long_points(result, (caller_label, callee_label))
    points = _require(_require(points, caller_label, "edges"), callee_label, "edges")
    points = points[points["value"] >= 0]
    if points.empty:
        return empty_frame("edges")
    frame = pd.DataFrame({"caller": points[caller_label].astype(object), "callee": points[callee_label].astype(object),
                          "calls_per_s": points["value"]})
    return validate("edges", frame.sort_values(["caller", "callee"]).reset_index(drop=True))


@parser()
def services_frame(info: list[dict], seen: list[str], service_label: str, default_tier: int) -> pd.DataFrame:
    """The services frame: the info metric's labels, plus every service seen in metrics with defaults."""
    described = {}
    for series in info:
        labels = series.get("metric") or {}
        name = labels.get(service_label)
        if not name:
            continue
        tier = labels.get("tier", "")
        described[name] = {
            "service": name, "display_name": labels.get("display_name") or name,
            "tier": int(tier) if tier in ("1", "2", "3") else default_tier,
            "owner": labels.get("owner") or None, "runbook_url": labels.get("runbook_url") or None}
    for name in seen:
        described.setdefault(name, {"service": name, "display_name": name, "tier": default_tier,
                                    "owner": None, "runbook_url": None})
    if not described:
        return empty_frame("services")
    frame = pd.DataFrame(sorted(described.values(), key=lambda r: r["service"]))
    return validate("services", frame.astype({"tier": "int64"}))


@parser()
def calls_from_exemplars(data: list[dict], cfg: Settings) -> pd.DataFrame:
    """Calls from exemplars: the exemplar's trace id, its series' service, route, instance and status."""
    errors = re.compile(str(cfg.error_values))
    records = []
    for series in data:
        labels = series.get("seriesLabels") or {}
        service = labels.get(cfg.service_label)
        if not service:
            continue
        failed = bool(errors.fullmatch(labels.get(cfg.status_label, "")))
        for exemplar in series.get("exemplars") or ():
            tags = exemplar.get("labels") or {}
            trace_id = next((tags[k] for k in cfg.trace_id_labels if tags.get(k)), None)
            duration_ms = _number(exemplar.get("value")) * float(cfg.latency_unit_ms)
            ts = _number(exemplar.get("timestamp"))
            if not trace_id or math.isnan(duration_ms) or math.isnan(ts):
                continue
            records.append({
                "trace_id": trace_id, "service": service, "operation": labels.get(cfg.operation_label) or "unknown",
                "start": (round(ts * 1e6) - round(duration_ms * 1e3)) * 1000, "duration_ms": duration_ms,
                "status": "error" if failed else "ok", "instance": labels.get(cfg.instance_label)})
    calls = frame_from_records("calls", records)
    return select_calls(calls, slowest=int(cfg.slowest_calls))


def tagged(queries: dict[str, str]) -> str:
    """One expression returning every column's series, each tagged with its column name."""
    return " or ".join(f'label_replace({expr}, "{COLUMN_LABEL}", "{column}", "", "")'
                       for column, expr in queries.items())


# ---------------------------------------------------------------- the source

@register
class PrometheusSource(Source):
    """Prometheus (or a compatible API: Thanos, Mimir, VictoriaMetrics); see the module docstring."""

    kind = "prometheus"
    polled = ("services", "service_metrics", "resource_metrics", "calls", "edges")

    @cached_property
    def client(self) -> HttpClient:
        return HttpClient.from_options(self.name, self.options)

    def _result(self, path: str, query: str, params: dict[str, Any], max_series: int) -> Any:
        """One API call's result, within the series and row limits; errors name the source, URL and query."""
        try:
            payload = self.client.get(path, {"query": query, **params})
        except HttpError as exc:  # keep Prometheus's own error text from a 4xx/5xx answer
            try:
                payload = json.loads(exc.body)
            except ValueError:
                raise exc from None
            if not isinstance(payload, dict) or payload.get("status") != "error":
                raise
        return self._parsed(path, lambda: within_limits(result_of(payload, query), max_series, self.max_rows))

    def _parsed(self, path: str, parse) -> Any:
        try:
            return parse()
        except SourceError as exc:
            raise SourceError(f"{self.name}: {self.client.base_url}{path}: {exc}") from None

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        cfg = settings(self.options, self.name)
        step = float(cfg.step_s)
        end = math.floor(pd.Timestamp(now).timestamp() / step) * step
        span = {"start": end - float(cfg.window_m) * 60, "end": end}
        window = {**span, "step": f"{step:g}"}
        requests = [(RANGE, tagged({column: cfg.render(q)}), window) for column, q in cfg.service_queries.items()]
        requests += [(RANGE, tagged({c: cfg.render(q, instance=rset.instance_label, service=rset.service_label)
                                     for c, q in rset.queries.items()}), window) for rset in cfg.resource_sets]
        requests += [(EXEMPLARS, cfg.render(EXEMPLAR_QUERY), span),
                     (INSTANT, cfg.render(EDGE_QUERY), {"time": end}), (INSTANT, cfg.render(INFO_QUERY), {"time": end})]
        with ThreadPoolExecutor(max_workers=len(requests)) as pool:  # each in this context: the poll's deadline
            answers = [f.result() for f in [pool.submit(contextvars.copy_context().run, self._result, *request,
                                                        int(cfg.max_series)) for request in requests]]
        columns, sets = len(cfg.service_queries), len(cfg.resource_sets)
        exemplars, edges, info = answers[columns + sets:]
        service_metrics = self._parsed(RANGE, lambda: service_metrics_frame(
            [series for answer in answers[:columns] for series in answer], cfg.service_label))
        resources = [self._parsed(RANGE, lambda a=answer, r=rset: resource_metrics_frame(a, r, cfg.instance_services))
                     for answer, rset in zip(answers[columns:columns + sets], cfg.resource_sets)]
        seen = sorted(set(service_metrics["service"]))
        return {
            "services": self._parsed(INSTANT, lambda: services_frame(info, seen, cfg.service_label,
                                                                     int(cfg.default_tier))),
            "service_metrics": service_metrics,
            "resource_metrics": pd.concat(resources, ignore_index=True) if resources else empty_frame(
                "resource_metrics"),
            "calls": self._parsed(EXEMPLARS, lambda: calls_from_exemplars(exemplars, cfg)),
            "edges": self._parsed(INSTANT, lambda: edges_frame(edges, cfg.caller_label, cfg.callee_label)),
        }

    def check(self) -> Health:
        """Validate the options and ask the server for its build information."""
        try:
            settings(self.options, self.name)
            info = result_of(self.client.get("/api/v1/status/buildinfo"), "buildinfo")
        except SourceError as exc:
            return Health(False, str(exc))
        version = info.get("version", "?") if isinstance(info, dict) else "?"
        return Health(True, f"Prometheus {version} at {self.client.base_url}")
