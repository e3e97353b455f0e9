"""Grafana Loki's HTTP API: ``/loki/api/v1/query_range`` with LogQL.

Options: ``LokiOptions``.

Counts are one metric query, ``sum by (service, level) (count_over_time({...}[1m]))`` at a
one-minute step; lines are a log query bounded by ``limit``, ``direction=backward``. Label
values reach LogQL only as escaped string literals (regular-expression metacharacters escaped
too in ``=~`` matchers); label names are checked against LogQL's grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from pydantic import Field

from datasources.base import Health, Source, SourceError
from datasources.logs import LogOptions, level_of, rates_frame, trace_in, trace_then_window
from datasources.options import HttpOptions, LabelName
from datasources.registry import register
from datasources.transport import HttpClient

API = "/loki/api/v1/query_range"


def literal(value: str) -> str:
    """``value`` as a LogQL double-quoted string literal."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def one_of(values: tuple[str, ...]) -> str:
    """A regular expression matching exactly one of ``values``, as a LogQL string literal."""
    return literal("|".join(re.escape(v) for v in values))


def selector(labels: dict[str, str], services: tuple[str, ...], instances: tuple[str, ...] = ()) -> str:
    """The stream selector for ``services`` (every service when empty) and ``instances``."""
    matchers = [f"{labels['service']}=~{one_of(services) if services else literal('.+')}"]
    if instances:
        matchers.append(f"{labels['instance']}=~{one_of(instances)}")
    return "{" + ", ".join(matchers) + "}"


def rates_from_matrix(payload: Any, labels: dict[str, str]) -> pd.DataFrame:
    """A log_rates frame from a metric query's matrix."""
    records = []
    for series in _result(payload, "matrix"):
        metric = series.get("metric") or {}
        service, level = metric.get(labels["service"]) or "unknown", level_of(metric.get(labels["level"]))
        for stamp, value in series.get("values") or ():
            records.append((int(float(stamp) * 1e9), service, level, int(float(value))))
    return rates_frame(records)


def lines_from_streams(payload: Any, labels: dict[str, str]) -> list[dict]:
    """Line records from a log query's streams."""
    records = []
    for stream in _result(payload, "streams"):
        tags = stream.get("stream") or {}
        for stamp, text in stream.get("values") or ():
            records.append(
                {
                    "ts": int(stamp),
                    "service": tags.get(labels["service"]) or "unknown",
                    "instance": tags.get(labels["instance"]),
                    "level": level_of(tags.get(labels["level"])),
                    "message": text,
                    "trace_id": (tags.get(labels["trace"] or "") or trace_in(text) or None),
                }
            )
    return records


def _result(payload: Any, kind: str) -> list:
    if not isinstance(payload, dict) or payload.get("status") != "success":
        raise SourceError(f"Loki answered {str(payload)[:200]}")
    data = payload.get("data") or {}
    if data.get("resultType") != kind:
        raise SourceError(f"Loki answered resultType {data.get('resultType')!r}, expected {kind}")
    return data.get("result") or []


class LokiOptions(HttpOptions, LogOptions):
    """Grafana Loki: counts per service and level by LogQL; lines on demand."""

    tenant: str | None = Field(None, description="Sent as `X-Scope-OrgID` (multi-tenant Loki).")
    services: list[str] = Field(default_factory=list, description="Services to count (empty: every service).")
    service_label: LabelName = Field("service", description="Stream label naming the service.")
    level_label: LabelName = Field("level", description="Stream label holding the level.")
    instance_label: LabelName = Field("instance", description="Stream label naming the instance.")
    trace_label: LabelName | None = Field(
        None, description=("Label holding the trace id (none: read from the line text, `trace_id=...`).")
    )


@register
@dataclass
class LokiSource(Source):
    """Error, warning and info counts per service from Loki; lines on demand."""

    kind = "loki"
    options_model = LokiOptions
    polled = ("log_rates",)

    def __post_init__(self):
        super().__post_init__()
        cfg = self.config
        self.client = HttpClient.from_options(self.name, cfg.transport())
        if cfg.tenant:
            self.client.headers["X-Scope-OrgID"] = cfg.tenant
        self.labels = {
            "service": cfg.service_label,
            "level": cfg.level_label,
            "instance": cfg.instance_label,
            "trace": cfg.trace_label,
        }
        self.services = tuple(cfg.services)

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        end = pd.Timestamp(now)
        start = end - pd.Timedelta(minutes=self.config.window_m)
        query = (
            f"sum by ({self.labels['service']}, {self.labels['level']}) "
            f"(count_over_time({selector(self.labels, self.services)}[1m]))"
        )
        payload = self.client.get(API, {"query": query, "start": start.value, "end": end.value, "step": "60s"})
        return {"log_rates": rates_from_matrix(payload, self.labels)}

    def log_lines(
        self,
        services: tuple[str, ...],
        start: datetime,
        end: datetime,
        limit: int,
        instances: tuple[str, ...] = (),
        trace_id: str | None = None,
    ) -> pd.DataFrame:
        def ask(carrying: str | None) -> list[dict]:
            query = selector(self.labels, services, instances if not carrying else ())
            if carrying:
                query += f" |= {literal(carrying)}"
            payload = self.client.get(
                API,
                {
                    "query": query,
                    "start": pd.Timestamp(start).value,
                    "end": pd.Timestamp(end).value,
                    "limit": limit,
                    "direction": "backward",
                },
            )
            return lines_from_streams(payload, self.labels)

        return trace_then_window(ask, trace_id, limit)

    def check(self) -> Health:
        try:
            self.client.get("/loki/api/v1/labels")
        except SourceError as exc:
            return Health(False, str(exc))
        return Health(True, "Loki answers")
