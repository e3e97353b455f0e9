"""Prometheus: RED metrics from a latency histogram, resources per instance, calls from exemplars, edges.

A poll sends the same queries whatever the number of services, all at once: one
range query per service column, aggregated in PromQL (``sum by``,
``histogram_quantile``); one per resource set, its columns' expressions tagged
with their column by ``label_replace`` and joined with ``or``; one exemplar
query; two instant queries (edges, the service info metric); one range query for the business
figures (``business``, tagged like a resource set; ``datasources.monitoring.business``). Ten by default
(and with ``recorded: auto`` an eleventh, the look for recorded series, at the first poll and hourly after);
with option ``feeds`` three more instant queries give ``feed_status`` (``monitoring.feeds``).

Expressions are ``string.Template`` text; ``$metric``, ``$service``, ``$instance``,
``$match`` (label matchers of option ``match``), ``$error_match``, ``$rate`` and
``$unit_ms`` are filled in from the options, label values always as escaped
PromQL strings. Non-finite values (NaN, +Inf) become nulls; series that lack the
labels a frame needs are dropped, and a result where every series lacks them is
an error naming the label.

``history(start, end, step_s)`` sends the poll's service and resource range queries
over a longer span, in chunks, the service columns together and each resource set on
its own: a chunk holds at most ``MAX_POINTS_PER_SERIES`` steps and, for the most
series an answer to its queries has held (a poll comes first), at most
``HISTORY_CHUNK_POINTS`` points in all its answers; each chunk is parsed into frames
before the next is asked, so only one chunk's answers are ever held as JSON, and its
frames are kept as compact arrays (``Gathered``: labels as int32 codes) until the
span's frames are built at the end.

Recording rules: ``recording_rules()`` (printed by ``opscenter prometheus-rules``) records each
default service column's aggregation under a ``level:metric:operations`` name, from the same
``RECORDABLE`` templates the raw queries are made of; polls and ``history()`` read those series
instead when option ``recorded`` says so (``auto``: when they cover the span read, one instant query,
asked again hourly by polls).
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial
from string import Template
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import AfterValidator, Field, field_validator

from datasources.base import CONTRACTS, METRIC_FRAMES, Health, Source, SourceError, empty_frame, parser, validate
from datasources.monitoring.business import BusinessQuery, business_frame, business_labels, default_queries
from datasources.monitoring.feeds import FeedOptions, feed_status_frame
from datasources.options import LABEL_NAME, HttpOptions, LabelName, Regex, Strict
from datasources.registry import register
from datasources.traces import frame_from_records, select_calls
from datasources.transport import HttpClient, HttpError

log = logging.getLogger(__name__)
COLUMN_LABEL = "opscenter_column"
RANGE, INSTANT, EXEMPLARS = "/api/v1/query_range", "/api/v1/query", "/api/v1/query_exemplars"


@dataclass(frozen=True)
class Recordable:
    """A default service column: the aggregation a recording rule records, the recorded series' name
    (``level:metric:operations``) and the scale the column applies to either."""

    record: str
    expr: str
    scale: str = ""

    @property
    def raw(self) -> str:
        return f"{self.scale}{self.expr}"

    @property
    def recorded(self) -> str:
        return f"{self.scale}{self.record}{{$match}}"


_RATE = "sum by ($service) (rate(${metric}_count{$match}[$rate]))"
RECORDABLE = {
    "requests_per_s": Recordable("${service}:${metric}_count:rate$rate", _RATE),
    "error_ratio": Recordable(
        "${service}:${metric}_errors:ratio_rate$rate",
        f"(sum by ($service) (rate(${{metric}}_count{{$error_match}}[$rate])) or 0 * {_RATE}) / {_RATE}",
    ),
    **{
        f"latency_p{q}_ms": Recordable(
            f"${{service}}:${{metric}}:p{q}_rate$rate",
            f"histogram_quantile(0.{q}, sum by ($service, le) (rate(${{metric}}_bucket{{$match}}[$rate])))",
            "$unit_ms * ",
        )
        for q in ("50", "95", "99")
    },
}
SERVICE_QUERIES = {column: recordable.raw for column, recordable in RECORDABLE.items()}
RECHECK_S = 3600  # seconds between two checks, in ``recorded: auto``, for the recorded series
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
RATIO_COLUMNS = ("error_ratio", "cpu_ratio", "memory_ratio")
RESOURCE_COLUMNS = tuple(c.name for c in CONTRACTS["resource_metrics"][3:])
MAX_POINTS_PER_SERIES = 11000
HISTORY_CHUNK_POINTS = 100_000  # points a history chunk's answers hold at most (about 22 MB of decoded JSON)
DEFAULT_MAX_SERIES = 50_000  # per answer; the 1,000-service demo's resource query has 15,000 (3,000 instances x 5)
_METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_DURATION = re.compile(r"([0-9]+(ms|[smhdwy]))+")


def promql_string(value: Any) -> str:
    """``value`` as a double-quoted PromQL string literal, every quote, backslash and control escaped."""
    return json.dumps(str(value), ensure_ascii=False)


def matchers(labels: dict[str, Any]) -> str:
    """``{name: value}`` as PromQL equality matchers, e.g. ``env="prod",region="sh"``."""
    for name in labels:
        if not LABEL_NAME.fullmatch(str(name)):
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


class ResourceOptions(Strict):
    """One resource set: a preset's name, or a mapping whose keys override a preset's."""

    preset: Literal[tuple(RESOURCE_PRESETS)] | None = Field(
        None,
        description="Exporter family giving the defaults: `node` (node_exporter) or `cadvisor` (pods); "
        "none: node_exporter's, and the set is named custom.",
    )
    instance_label: LabelName | None = Field(None, description="Label naming the instance (none: the preset's).")
    service_label: LabelName | None = Field(
        None, description="Label naming the service (none: the source's `service_label`)."
    )
    service_pattern: Regex | None = Field(
        None,
        description="Regular expression with a group `service` taking "
        "the service from the instance name (none: the preset's).",
    )
    queries: dict[str, str] = Field(
        default_factory=dict, description="Expression per resource_metrics column, replacing the preset's."
    )

    @field_validator("service_pattern")
    @classmethod
    def _has_service_group(cls, pattern: str | None) -> str | None:
        if pattern is not None and "service" not in re.compile(pattern).groupindex:
            raise ValueError("needs a named group 'service', e.g. (?P<service>.+)")
        return pattern

    @field_validator("queries")
    @classmethod
    def _known_columns(cls, queries: dict[str, str]) -> dict[str, str]:
        return _known(queries, RESOURCE_COLUMNS)

    def resource_set(self, service_label: str) -> ResourceSet:
        preset = RESOURCE_PRESETS[self.preset or "node"]
        pattern = self.service_pattern or preset.get("service_pattern")
        return ResourceSet(
            self.preset or "custom",
            self.instance_label or preset["instance_label"],
            {**preset["queries"], **self.queries},
            self.service_label or service_label,
            re.compile(pattern) if pattern else None,
        )


def _known(queries: dict[str, str], columns: tuple[str, ...]) -> dict[str, str]:
    unknown = sorted(set(queries) - set(columns))
    if unknown:
        raise ValueError(f"unknown column(s) {', '.join(unknown)}; known: {', '.join(columns)}")
    return queries


def _metric_name(value: str) -> str:
    if not _METRIC.fullmatch(value):
        raise ValueError(f"{value!r} is not a valid metric name")
    return value


def _duration(value: str) -> str:
    if not _DURATION.fullmatch(value):
        raise ValueError(f"must be a PromQL duration such as 5m, got {value!r}")
    return value


MetricName = Annotated[str, AfterValidator(_metric_name)]


class PrometheusOptions(HttpOptions):
    """Prometheus or a compatible API (Thanos, Mimir, VictoriaMetrics): RED metrics from a latency
    histogram, resources per instance, calls from exemplars, edges from a service graph."""

    metric: MetricName = Field(
        "http_server_request_duration_seconds",
        description=(
            "The latency histogram (without `_bucket`/`_count`): requests, errors and quantiles come from it."
        ),
    )
    service_label: LabelName = Field("service", description="Label naming the service.")
    instance_label: LabelName = Field("instance", description="Label naming the instance.")
    operation_label: LabelName = Field("http_route", description="Label naming a call's operation (exemplars).")
    status_label: LabelName = Field("http_response_status_code", description="Label holding the call's status.")
    error_values: Regex = Field("5..", description="Regular expression: status values that count as errors.")
    latency_unit_ms: float = Field(
        1000.0, gt=0, description="Milliseconds per unit of the histogram (1000 for seconds)."
    )
    rate: Annotated[str, AfterValidator(_duration)] = Field(
        "5m", description="The range of `rate()`, a PromQL duration."
    )
    window_m: float = Field(60, gt=0, description="Minutes of metrics each poll reads.")
    step_s: float = Field(
        60, gt=0, description=f"Seconds between points; at most {MAX_POINTS_PER_SERIES} points per window."
    )
    match: dict[LabelName, str] = Field(
        default_factory=dict,
        description=("Label matchers added to every default selector, e.g. `{env: prod}`; values are escaped."),
    )
    queries: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Expression per service_metrics column replacing the default (templates: `$metric`, `$service`, "
            "`$instance`, `$match`, `$error_match`, `$rate`, `$unit_ms`)."
        ),
    )
    resources: list[ResourceOptions] = Field(
        default_factory=lambda: [ResourceOptions(preset="node")],
        description=(
            "Resource sets: preset names (`node`, `cadvisor`) or mappings (keys below); empty: no resource metrics."
        ),
    )
    instance_services: dict[str, str] = Field(
        default_factory=dict, description=("Service of an instance whose series carry no service label.")
    )
    edge_metric: MetricName = Field(
        "traces_service_graph_request_total", description=("Counter of calls between services (edges).")
    )
    caller_label: LabelName = Field("client", description="Label of `edge_metric` naming the caller.")
    callee_label: LabelName = Field("server", description="Label of `edge_metric` naming the callee.")
    info_metric: MetricName = Field(
        "opscenter_service_info",
        description=("Metric whose labels describe services (display_name, tier, owner, runbook_url)."),
    )
    default_tier: int = Field(2, ge=1, le=3, description="Tier of a service the info metric does not describe.")
    trace_id_labels: list[str] = Field(
        default_factory=lambda: ["trace_id", "traceID", "traceId"],
        description=("Exemplar labels that may hold the trace id, in order."),
    )
    slowest_calls: int = Field(10, ge=1, description="Slowest calls kept per service.")
    recorded: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Read the service columns from the series of `opscenter prometheus-rules`' recording rules: "
        "`auto` when they cover the span read (checked hourly for polls, at each history read), `always`, `never`.",
    )
    max_series: int = Field(DEFAULT_MAX_SERIES, ge=1, description="Most series accepted in one answer.")
    feeds: FeedOptions | None = Field(
        None,
        description="Market-data feeds (`feed_status`): `{}` for the defaults, which read the demo exporter's metrics; "
        "unset: not polled.",
    )
    business: list[BusinessQuery] = Field(
        default_factory=default_queries,
        json_schema_extra={"default_text": "the demo exporter's figures ([Business figures](#business-figures))"},
        description="Queries of the business figures (`business_metrics`; keys below), all sent as one range "
        "query; the defaults read the demo exporter's `opscenter_orders_total`, `opscenter_order_rejects_total`, "
        "`opscenter_counter_latency_p99_seconds` and `opscenter_bank_transfers_total`; empty: none.",
    )

    @field_validator("resources", mode="before")
    @classmethod
    def _preset_names(cls, resources: Any) -> Any:
        if resources is None:
            return []
        if isinstance(resources, list):
            return [{"preset": spec} if isinstance(spec, str) else spec for spec in resources]
        return resources

    @field_validator("queries")
    @classmethod
    def _known_columns(cls, queries: dict[str, str]) -> dict[str, str]:
        return _known(queries, tuple(SERVICE_QUERIES))

    @field_validator("step_s")
    @classmethod
    def _bounded_steps(cls, step_s: float, info) -> float:
        window_s = info.data.get("window_m", 0) * 60
        if window_s and not (step_s <= window_s and window_s / step_s <= MAX_POINTS_PER_SERIES):
            raise ValueError(f"need step_s <= window_m x 60 with at most {MAX_POINTS_PER_SERIES} steps")
        return step_s

    @property
    def service_queries(self) -> dict[str, str]:
        return {**SERVICE_QUERIES, **self.queries}

    @property
    def recordable(self) -> dict[str, Recordable]:
        """The service columns a recording rule can serve: those whose expression is the default."""
        return {column: rec for column, rec in RECORDABLE.items() if column not in self.queries}

    def recording_rules(self) -> list[dict[str, Any]]:
        """The recording rules of the recordable columns: the poll's aggregations, labelled with ``match``
        (which they aggregate away) so that each source's recorded series are its own."""
        return [
            {
                "record": self.render(r.record),
                "expr": self.render(r.expr),
                **({"labels": dict(self.match)} if self.match else {}),
            }
            for r in self.recordable.values()
        ]

    def service_query(self, column: str, recorded: bool) -> str:
        """The rendered expression of a service column: from its recorded series when ``recorded`` and it has one."""
        recordable = self.recordable.get(column)
        return self.render(recordable.recorded if recorded and recordable else self.service_queries[column])

    def business_query(self) -> str:
        """The business figures' expressions as one, each tagged with its place in ``business``."""
        return tagged({str(i): self.render(spec.query) for i, spec in enumerate(self.business)})

    @property
    def resource_sets(self) -> tuple[ResourceSet, ...]:
        return tuple(spec.resource_set(self.service_label) for spec in self.resources)

    def render(self, template: str, **extra: str) -> str:
        """Fill a query template from the options; label values are escaped PromQL strings."""
        match = matchers(self.match)
        error = f"{self.status_label}=~{promql_string(self.error_values)}"
        fields = {
            "metric": self.metric,
            "service": self.service_label,
            "instance": self.instance_label,
            "match": match,
            "error_match": ",".join(filter(None, (match, error))),
            "rate": self.rate,
            "unit_ms": f"{self.latency_unit_ms:g}",
            "edge_metric": self.edge_metric,
            "caller": self.caller_label,
            "callee": self.callee_label,
            "info_metric": self.info_metric,
            **extra,
        }
        try:
            return Template(template).substitute(fields)
        except (KeyError, ValueError) as exc:
            raise SourceError(f"query template {template!r}: unknown or bad placeholder {exc}") from None


# ---------------------------------------------------------------- parsing (pure)


def result_of(payload: Any, query: str) -> Any:
    """The ``data`` of a Prometheus API answer; SourceError on ``status: error`` or a bad shape."""
    if not isinstance(payload, dict) or "status" not in payload:
        raise SourceError(f"not a Prometheus API answer for query {query!r}")
    if payload["status"] != "success":
        raise SourceError(
            f"Prometheus error {payload.get('errorType', '')}: {payload.get('error', '?')} (query {query!r})"
        )
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


@parser()
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


def service_labels(service_label: str) -> tuple[str, ...]:
    """The labels the service query's points are read with."""
    return (service_label, COLUMN_LABEL)


def service_metrics_frame(result: list[dict], service_label: str) -> pd.DataFrame:
    """The service_metrics frame from the tagged matrix of the service query."""
    return service_metrics_from_points(long_points(result, service_labels(service_label)), service_label)


@parser()
def service_metrics_from_points(points: pd.DataFrame, service_label: str) -> pd.DataFrame:
    """The service_metrics frame from the ``long_points`` of the service query's tagged matrix."""
    columns = [c.name for c in CONTRACTS["service_metrics"][2:]]
    points = _require(points, service_label, "service metrics")
    if points.empty:
        return empty_frame("service_metrics")
    wide = _wide(points, ["ts", service_label], columns).rename(columns={service_label: "service"})
    wide = wide[wide["requests_per_s"].notna()]
    wide["requests_per_s"] = wide["requests_per_s"].clip(lower=0.0)
    wide["service"] = wide["service"].astype("str")
    return validate("service_metrics", wide.sort_values(["ts", "service"]).reset_index(drop=True))


def resource_labels(rset: ResourceSet) -> tuple[str, ...]:
    """The labels a resource set's points are read with."""
    return tuple(dict.fromkeys((rset.instance_label, rset.service_label, COLUMN_LABEL)))


def resource_metrics_frame(result: list[dict], rset: ResourceSet, instance_services: dict[str, str]) -> pd.DataFrame:
    """The resource_metrics frame from the tagged matrix of one resource set."""
    return resource_metrics_from_points(long_points(result, resource_labels(rset)), rset, instance_services)


@parser()
def resource_metrics_from_points(
    points: pd.DataFrame, rset: ResourceSet, instance_services: dict[str, str]
) -> pd.DataFrame:
    """The resource_metrics frame from the ``long_points`` of one resource set's tagged matrix.

    An instance's service comes from ``instance_services``, else the set's service
    label, else the set's ``service_pattern`` on the instance name; others are dropped.
    """
    columns = [c.name for c in CONTRACTS["resource_metrics"][3:]]
    points = _require(points, rset.instance_label, f"resources ({rset.name})")
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
    wide[["service", "instance"]] = wide[["service", "instance"]].astype("str")
    return validate("resource_metrics", wide.sort_values(["ts", "instance"]).reset_index(drop=True))


@parser()
def edges_frame(result: list[dict], caller_label: str, callee_label: str) -> pd.DataFrame:
    """The edges frame from the instant call-rate vector; non-finite or negative rates are dropped."""
    points = long_points(result, (caller_label, callee_label))
    points = _require(_require(points, caller_label, "edges"), callee_label, "edges")
    points = points[points["value"] >= 0]
    if points.empty:
        return empty_frame("edges")
    frame = pd.DataFrame(
        {
            "caller": points[caller_label].astype(object),
            "callee": points[callee_label].astype(object),
            "calls_per_s": points["value"],
        }
    )
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
            "service": name,
            "display_name": labels.get("display_name") or name,
            "tier": int(tier) if tier in ("1", "2", "3") else default_tier,
            "owner": labels.get("owner") or None,
            "runbook_url": labels.get("runbook_url") or None,
            "x_display_name_zh": labels.get("display_name_zh") or None,
        }
    for name in seen:
        described.setdefault(
            name,
            {
                "service": name,
                "display_name": name,
                "tier": default_tier,
                "owner": None,
                "runbook_url": None,
                "x_display_name_zh": None,
            },
        )
    if not described:
        return empty_frame("services")
    frame = pd.DataFrame(sorted(described.values(), key=lambda r: r["service"]))
    return validate("services", frame.astype({"tier": "int64"}))


@parser()
def calls_from_exemplars(data: list[dict], cfg: PrometheusOptions) -> pd.DataFrame:
    """Calls from exemplars: the exemplar's trace id, its series' service, route, instance and status."""
    errors = re.compile(cfg.error_values)
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
            duration_ms = _number(exemplar.get("value")) * cfg.latency_unit_ms
            ts = _number(exemplar.get("timestamp"))
            if not trace_id or math.isnan(duration_ms) or math.isnan(ts):
                continue
            records.append(
                {
                    "trace_id": trace_id,
                    "service": service,
                    "operation": labels.get(cfg.operation_label) or "unknown",
                    "start": (round(ts * 1e6) - round(duration_ms * 1e3)) * 1000,
                    "duration_ms": duration_ms,
                    "status": "error" if failed else "ok",
                    "instance": labels.get(cfg.instance_label),
                }
            )
    calls = frame_from_records("calls", records)
    return select_calls(calls, slowest=cfg.slowest_calls)


@dataclass(frozen=True)
class MetricGroup:
    """Range queries whose answers are parsed together into one part of a metric frame."""

    frame: str
    queries: list[str]
    labels: tuple[str, ...]  # read from each answer's series into its long points
    parse: Callable[[pd.DataFrame], pd.DataFrame]  # the frame from the answers' long points, concatenated


def _joined(name: str, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames of contract ``name`` (one per resource set) as one frame, emptying ``frames``: joined a
    column at a time, each column of the parts let go once joined."""
    parts = [frame for frame in frames if len(frame)]
    frames.clear()
    if len(parts) < 2:
        return parts[0] if parts else empty_frame(name)
    columns = list(parts[0].columns)
    joined = {}
    for column in columns:
        joined[column] = pd.concat([part.pop(column) for part in parts], ignore_index=True)
    return pd.DataFrame(joined, columns=columns, copy=False)  # no consolidating copy


class Gathered:
    """A metric frame gathered part by part as compact arrays: each column's values, a label column as
    int32 codes into the labels seen so far; a part's frame can be let go as soon as it is added, and
    ``frame()`` builds the whole a column at a time, letting each column's arrays go once joined."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.arrays: dict[str, list[np.ndarray]] = {}
        self.labels: dict[str, dict[str, int]] = {}

    def add(self, frame: pd.DataFrame) -> None:
        if not len(frame):
            return
        for column in frame.columns:
            values = frame[column]
            if isinstance(values.dtype, pd.DatetimeTZDtype):  # UTC, in its own unit
                array = values.dt.tz_localize(None).to_numpy()
            elif pd.api.types.is_string_dtype(values.dtype):  # required labels: never null
                seen = self.labels.setdefault(column, {})
                codes, uniques = pd.factorize(values)
                array = np.array([seen.setdefault(u, len(seen)) for u in uniques], dtype=np.int32)[codes]
            else:
                array = values.to_numpy()
            self.arrays.setdefault(column, []).append(array)

    def frame(self) -> pd.DataFrame:
        if not self.arrays:
            return empty_frame(self.name)
        columns = {}
        for column in list(self.arrays):
            array = np.concatenate(self.arrays.pop(column))
            if column in self.labels:
                columns[column] = pd.Series(pd.array(list(self.labels.pop(column)), dtype="str").take(array))
            elif array.dtype.kind == "M":
                columns[column] = pd.Series(array).dt.tz_localize("UTC")
            else:
                columns[column] = pd.Series(array)
        return pd.DataFrame(columns, copy=False)


def tagged(queries: dict[str, str]) -> str:
    """One expression returning every column's series, each tagged with its column name."""
    return " or ".join(
        f'label_replace({expr}, "{COLUMN_LABEL}", "{column}", "", "")' for column, expr in queries.items()
    )


def rules_file(sources: list[PrometheusSource]) -> str:
    """A Prometheus rules file (YAML) with a group of recording rules per source; sources whose rules are
    the same share the first one's group. SourceError when two sources would record one series differently."""
    groups: list[dict[str, Any]] = []
    recorded: dict[tuple, tuple[str, str]] = {}  # (record, labels) -> (expression, source)
    for source in sources:
        rules = source.config.recording_rules()
        for rule in rules:
            key = (rule["record"], tuple(sorted(rule.get("labels", {}).items())))
            expr, first = recorded.setdefault(key, (rule["expr"], source.name))
            if expr != rule["expr"]:
                raise SourceError(f"sources {first} and {source.name} would record {rule['record']} differently")
        same = next((group for group in groups if group["rules"] == rules), None)
        if same is not None:
            same["name"] += f", {source.name}"
        elif rules:
            groups.append({"name": f"opscenter: {source.name}", "rules": rules})
    header = "# Recording rules of opscenter's Prometheus sources, written by `opscenter prometheus-rules`.\n"
    return header + yaml.safe_dump({"groups": groups}, sort_keys=False, width=10_000, allow_unicode=True)


# ---------------------------------------------------------------- the source


@register
class PrometheusSource(Source):
    """Prometheus (or a compatible API: Thanos, Mimir, VictoriaMetrics); see the module docstring."""

    kind = "prometheus"
    options_model = PrometheusOptions
    polled = ("services", "service_metrics", "resource_metrics", "calls", "edges", "business_metrics")

    @classmethod
    def offers(cls, options: dict[str, Any]) -> frozenset[str]:
        """The polled frames: ``business_metrics`` unless ``business`` is empty, and ``feed_status`` when option
        ``feeds`` is set."""
        offered = frozenset(cls.polled) - (frozenset() if options.get("business", True) else {"business_metrics"})
        return offered | ({"feed_status"} if options.get("feeds") is not None else set())

    @cached_property
    def _series_seen(self) -> dict[str, int]:
        """The most series an answer to each range query has held: sizes the history chunks."""
        return {}

    @cached_property
    def client(self) -> HttpClient:
        return HttpClient.from_options(self.name, self.config.transport())

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
        result = self._parsed(path, lambda: within_limits(result_of(payload, query), max_series, self.max_rows))
        if path == RANGE:
            self._series_seen[query] = max(self._series_seen.get(query, 1), len(result))
        return result

    def _parsed(self, path: str, parse) -> Any:
        try:
            return parse()
        except SourceError as exc:
            raise SourceError(f"{self.name}: {self.client.base_url}{path}: {exc}") from None

    @cached_property
    def _poll_recorded(self) -> list:
        """When (monotonic seconds) the poll last asked ``uses_recorded``, and the answer."""
        return [-math.inf, False]

    def uses_recorded(self, end: float, span_s: float) -> bool | None:
        """Whether to read the service columns from recorded series over [end - span_s, end]: option
        ``recorded``; in ``auto``, whether every recordable column's series is there at both ends (one query),
        None when the query fails (the raw queries are read, and will tell what is wrong)."""
        cfg = self.config
        if cfg.recorded != "auto" or not cfg.recordable:
            return cfg.recorded == "always"
        names = sorted({cfg.render(r.record) for r in cfg.recordable.values()})
        selector = f"{{__name__=~{promql_string('|'.join(names))},{matchers(cfg.match)}}}"
        query = f"count by (__name__) ({selector}) and count by (__name__) ({selector} offset {round(span_s * 1000)}ms)"
        try:
            found = self._result(INSTANT, query, {"time": end}, len(names))
        except SourceError as exc:
            log.warning("%s: no answer on recorded series, reading the raw queries: %s", self.name, exc)
            return None
        return {(series.get("metric") or {}).get("__name__") for series in found} >= set(names)

    def _poll_uses_recorded(self, end: float, span_s: float) -> bool:
        """``uses_recorded`` for a poll's window, asked again every ``RECHECK_S`` seconds (at once after a failure)."""
        asked, answer = self._poll_recorded
        if time.monotonic() - asked < RECHECK_S:
            return answer
        recorded = self.uses_recorded(end, span_s)
        if recorded is not None:
            if recorded != answer or asked == -math.inf:
                log.info("%s: service columns from %s", self.name, "recorded series" if recorded else "raw queries")
            self._poll_recorded[:] = [time.monotonic(), recorded]
        return bool(recorded)

    def _metric_groups(self, recorded: bool) -> list[MetricGroup]:
        """The range queries of the metric frames, grouped as they are parsed: the service columns together
        (from their recorded series when ``recorded``), then each resource set."""
        cfg = self.config
        columns = [tagged({column: cfg.service_query(column, recorded)}) for column in cfg.service_queries]
        groups = [
            MetricGroup(
                "service_metrics",
                columns,
                service_labels(cfg.service_label),
                partial(service_metrics_from_points, service_label=cfg.service_label),
            )
        ]
        for rset in cfg.resource_sets:
            query = tagged(
                {
                    c: cfg.render(q, instance=rset.instance_label, service=rset.service_label)
                    for c, q in rset.queries.items()
                }
            )
            groups.append(
                MetricGroup(
                    "resource_metrics",
                    [query],
                    resource_labels(rset),
                    partial(resource_metrics_from_points, rset=rset, instance_services=cfg.instance_services),
                )
            )
        return groups

    def _points(self, query: str, window: dict[str, Any], labels: tuple[str, ...]) -> pd.DataFrame:
        """The long points of one range query's answer: its JSON is let go as soon as it is read."""
        result = self._result(RANGE, query, window, int(self.config.max_series))
        return self._parsed(RANGE, partial(long_points, result, labels))

    def _group_frame(self, group: MetricGroup, points: list[pd.DataFrame]) -> pd.DataFrame:
        """The part of ``group.frame`` parsed from the long points of the group's answers."""
        return self._parsed(
            RANGE, partial(group.parse, pd.concat([p for p in points if len(p)] or points[:1], ignore_index=True))
        )

    @staticmethod
    def _concurrently(calls: list[Callable[[], Any]]) -> list[Any]:
        """The results of ``calls``, made at once, each in a copy of this context: the poll's deadline."""
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            return [f.result() for f in [pool.submit(contextvars.copy_context().run, call) for call in calls]]

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        cfg = self.config
        step = cfg.step_s
        end = math.floor(pd.Timestamp(now).timestamp() / step) * step
        at = round(pd.Timestamp(now).timestamp(), 3)  # the feeds' ages as of the poll, not of its last step
        span = {"start": end - cfg.window_m * 60, "end": end}
        window = {**span, "step": f"{step:g}"}
        groups = self._metric_groups(self._poll_uses_recorded(end, cfg.window_m * 60))
        metric_calls = [
            partial(self._points, query, window, group.labels) for group in groups for query in group.queries
        ]
        answers = self._concurrently(
            metric_calls
            + [
                partial(self._result, path, cfg.render(query), params, int(cfg.max_series))
                for path, query, params in (
                    (EXEMPLARS, EXEMPLAR_QUERY, span),
                    (INSTANT, EDGE_QUERY, {"time": end}),
                    (INSTANT, INFO_QUERY, {"time": end}),
                )
            ]
            + [
                partial(self._result, INSTANT, cfg.render(query, **cfg.feeds.labels), {"time": at}, int(cfg.max_series))
                for query in (cfg.feeds.all_queries.values() if cfg.feeds is not None else ())
            ]
            + (
                [partial(self._points, cfg.business_query(), window, business_labels(COLUMN_LABEL))]
                if cfg.business
                else []
            )
        )
        parts, first = {name: [] for name in METRIC_FRAMES}, 0
        for group in groups:
            parts[group.frame].append(self._group_frame(group, answers[first : first + len(group.queries)]))
            first += len(group.queries)
        metrics = {name: _joined(name, frames) for name, frames in parts.items()}
        exemplars, edges, info = answers[len(metric_calls) : len(metric_calls) + 3]
        figures = answers[len(metric_calls) + 3 + (len(cfg.feeds.all_queries) if cfg.feeds is not None else 0) :]
        seen = sorted(set(metrics["service_metrics"]["service"]))
        feeds = {}
        if cfg.feeds is not None:
            vectors = dict(zip(cfg.feeds.all_queries, answers[len(metric_calls) + 3 :]))
            feeds["feed_status"] = self._parsed(INSTANT, lambda: feed_status_frame(vectors, cfg.feeds, at))
        return {
            **feeds,
            "services": self._parsed(INSTANT, lambda: services_frame(info, seen, cfg.service_label, cfg.default_tier)),
            **metrics,
            "calls": self._parsed(EXEMPLARS, lambda: calls_from_exemplars(exemplars, cfg)),
            "edges": self._parsed(INSTANT, lambda: edges_frame(edges, cfg.caller_label, cfg.callee_label)),
            "business_metrics": self._parsed(RANGE, lambda: business_frame(figures[0], cfg.business, COLUMN_LABEL))
            if figures
            else empty_frame("business_metrics"),
        }

    def history(self, start: datetime, end: datetime, step_s: int | None = None) -> dict[str, pd.DataFrame]:
        """service_metrics and resource_metrics over [start, end), a point per ``step_s`` (None: option
        ``step_s``): the poll's range queries, each group chunk by chunk (see the module docstring), the
        service columns from recorded series when ``uses_recorded`` over the whole span."""
        step = float(step_s or self.config.step_s)
        first = math.ceil(pd.Timestamp(start).timestamp() / step)  # in steps since the epoch
        last = math.ceil(pd.Timestamp(end).timestamp() / step) - 1
        if first > last:
            return {}
        gathered = {name: Gathered(name) for name in METRIC_FRAMES}
        for group in self._metric_groups(bool(self.uses_recorded(last * step, (last - first) * step))):
            chunk_first = first
            while chunk_first <= last:
                chunk_last = min(last, chunk_first + self.history_chunk_steps(group.queries) - 1)
                window = {"start": chunk_first * step, "end": chunk_last * step, "step": f"{step:g}"}
                points = self._concurrently(
                    [partial(self._points, query, window, group.labels) for query in group.queries]
                )
                gathered[group.frame].add(self._group_frame(group, points))
                del points
                chunk_first = chunk_last + 1
        return {name: gathered.pop(name).frame() for name in METRIC_FRAMES}  # each part validated

    def history_chunk_steps(self, queries: list[str]) -> int:
        """Steps of one history chunk of ``queries``: at most ``MAX_POINTS_PER_SERIES``, and within
        ``HISTORY_CHUNK_POINTS`` (or ``max_rows``) points for the most series their answers have held so far,
        all of the chunk's answers together (they are read at once)."""
        budget = min(HISTORY_CHUNK_POINTS, self.max_rows) // max(1, len(queries))
        series = max([self._series_seen.get(query, 1) for query in queries], default=1)
        return max(1, min(MAX_POINTS_PER_SERIES, budget // series))

    def check(self) -> Health:
        """Ask the server for its build information."""
        try:
            info = result_of(self.client.get("/api/v1/status/buildinfo"), "buildinfo")
        except SourceError as exc:
            return Health(False, str(exc))
        version = info.get("version", "?") if isinstance(info, dict) else "?"
        return Health(True, f"Prometheus {version} at {self.client.base_url}")
