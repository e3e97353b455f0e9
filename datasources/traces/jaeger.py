"""Jaeger's query API: /api/services, /api/traces (service, start, end, limit, minDuration, tags), /api/traces/{id}.

Options: ``TraceStoreOptions``. Each poll searches every service twice: its slow
traces and its failed ones (tag ``error=true``).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from datasources.base import SourceError, empty_frame, parser
from datasources.registry import register
from datasources.traces import TraceSource, TraceStoreOptions, frame_from_records, hex_trace_id, micros
from datasources.transport import HttpError

INSTANCE_TAGS = ("service.instance.id", "hostname", "host.name", "ip")


def _tags(items: Any) -> dict[str, Any]:
    return {t.get("key"): t.get("value") for t in items or () if isinstance(t, dict)}


def _failed(tags: dict[str, Any]) -> bool:
    return str(tags.get("error", "")).lower() == "true" or str(tags.get("otel.status_code", "")).upper() == "ERROR"


@parser()
def data_of(payload: Any) -> list:
    """The ``data`` list of a query API answer; SourceError when it reports errors."""
    if not isinstance(payload, dict):
        raise SourceError(f"expected a JSON object, got {type(payload).__name__}")
    if payload.get("errors"):
        messages = "; ".join(str(e.get("msg", e)) if isinstance(e, dict) else str(e) for e in payload["errors"])
        raise SourceError(f"Jaeger error: {messages}")
    return payload.get("data") or []


@parser()
def spans_from_traces(traces: list[dict]) -> pd.DataFrame:
    """A spans frame from Jaeger traces (each with spans and processes)."""
    records = []
    for trace in traces:
        processes = trace.get("processes") or {}
        for span in trace.get("spans") or ():
            process = processes.get(span.get("processID")) or {}
            process_tags, tags = _tags(process.get("tags")), _tags(span.get("tags"))
            parent = next(
                (r.get("spanID") for r in span.get("references") or () if r.get("refType") == "CHILD_OF"), None
            )
            records.append(
                {
                    "trace_id": str(span.get("traceID", trace.get("traceID", ""))).lower(),
                    "span_id": str(span.get("spanID", "")).lower(),
                    "parent_id": parent and str(parent).lower(),
                    "service": process.get("serviceName") or "unknown",
                    "operation": span.get("operationName") or "unknown",
                    "start": int(span.get("startTime", 0)) * 1000,
                    "duration_ms": int(span.get("duration", 0)) / 1000,
                    "status": "error" if _failed(tags) else "ok",
                    "instance": next((str(process_tags[k]) for k in INSTANCE_TAGS if process_tags.get(k)), None),
                }
            )
    return frame_from_records("spans", records)


class JaegerOptions(TraceStoreOptions):
    """Jaeger's query API: the slowest and the failed traces of each service (tag `error=true`)."""


@register
class JaegerSource(TraceSource):
    """Calls and traces from Jaeger."""

    kind = "jaeger"
    options_model = JaegerOptions

    def _get(self, path: str, params: dict | None = None) -> list:
        payload = self.client.get(path, params)
        try:
            return data_of(payload)
        except SourceError as exc:
            raise SourceError(f"{self.name}: {self.client.base_url}{path}: {exc}") from None

    def service_names(self) -> list[str]:
        return [str(s) for s in self._get("/api/services")]

    def search(self, service, start, end, failed, cfg) -> pd.DataFrame:
        params = {
            "service": service,
            "start": micros(start),
            "end": micros(end),
            "lookback": "custom",
            "limit": cfg.limit,
        }
        if failed:
            params["tags"] = json.dumps({"error": "true"})
        elif cfg.min_duration_ms:
            params["minDuration"] = f"{cfg.min_duration_ms:g}ms"
        return spans_from_traces(self._get("/api/traces", params))

    def spans(self, trace_id: str) -> pd.DataFrame:
        try:
            return spans_from_traces(self._get(f"/api/traces/{hex_trace_id(trace_id)}"))
        except HttpError as exc:
            if exc.status == 404:
                return empty_frame("spans")
            raise
