"""Zipkin's v2 API: /api/v2/services, /api/v2/traces (serviceName, endTs, lookback, minDuration, limit,
annotationQuery), /api/v2/trace/{id}.

Options as for ``jaeger`` (``TraceStoreOptions``). Failed traces are those with an
``error`` tag.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from datasources.base import SourceError, empty_frame, parser
from datasources.registry import register
from datasources.traces import TraceSource, TraceStoreOptions, frame_from_records, hex_trace_id, micros
from datasources.transport import HttpError


def _instance(span: dict) -> str | None:
    tags, endpoint = span.get("tags") or {}, span.get("localEndpoint") or {}
    if tags.get("service.instance.id"):
        return str(tags["service.instance.id"])
    host = endpoint.get("ipv4") or endpoint.get("ipv6")
    if not host:
        return None
    return f"{host}:{endpoint['port']}" if endpoint.get("port") else str(host)


@parser()
def spans_from_traces(traces: Any) -> pd.DataFrame:
    """A spans frame from a list of Zipkin v2 traces (each a list of spans)."""
    if not isinstance(traces, list):
        raise SourceError(f"expected a JSON list of traces, got {type(traces).__name__}")
    records = []
    for trace in traces:
        for span in trace if isinstance(trace, list) else ():
            tags = span.get("tags") or {}
            failed = "error" in tags or str(tags.get("otel.status_code", "")).upper() == "ERROR"
            records.append(
                {
                    "trace_id": str(span.get("traceId", "")).lower(),
                    "span_id": str(span.get("id", "")).lower(),
                    "parent_id": span.get("parentId") and str(span["parentId"]).lower(),
                    "service": (span.get("localEndpoint") or {}).get("serviceName") or "unknown",
                    "operation": span.get("name") or "unknown",
                    "start": int(span.get("timestamp", 0)) * 1000,
                    "duration_ms": int(span.get("duration", 0)) / 1000,
                    "status": "error" if failed else "ok",
                    "instance": _instance(span),
                }
            )
    return frame_from_records("spans", records)


class ZipkinOptions(TraceStoreOptions):
    """Zipkin's v2 API: the slowest and the failed traces of each service (those with an `error` tag)."""


@register
class ZipkinSource(TraceSource):
    """Calls and traces from Zipkin."""

    kind = "zipkin"
    options_model = ZipkinOptions

    def service_names(self) -> list[str]:
        names = self.client.get("/api/v2/services")
        if not isinstance(names, list):
            raise SourceError(f"{self.name}: {self.client.base_url}/api/v2/services: expected a JSON list")
        return [str(n) for n in names]

    def search(self, service, start, end, failed, cfg) -> pd.DataFrame:
        params = {
            "serviceName": service,
            "endTs": micros(end) // 1000,
            "lookback": (micros(end) - micros(start)) // 1000,
            "limit": cfg.limit,
        }
        if failed:
            params["annotationQuery"] = "error"
        elif cfg.min_duration_ms:
            params["minDuration"] = int(cfg.min_duration_ms * 1000)
        return self._spans("/api/v2/traces", params)

    def _spans(self, path: str, params: dict | None = None) -> pd.DataFrame:
        payload = self.client.get(path, params)
        try:
            return spans_from_traces(payload)
        except SourceError as exc:
            raise SourceError(f"{self.name}: {self.client.base_url}{path}: {exc}") from None

    def spans(self, trace_id: str) -> pd.DataFrame:
        try:
            payload = self.client.get(f"/api/v2/trace/{hex_trace_id(trace_id)}")
        except HttpError as exc:
            if exc.status == 404:
                return empty_frame("spans")
            raise
        return spans_from_traces([payload] if isinstance(payload, list) else payload)
