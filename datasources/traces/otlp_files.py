"""A directory of OTLP/JSON trace exports (the OpenTelemetry Collector's file exporter, one document a line).

OTLP/JSON: hex trace and span ids, integer enums (status code 2 is an error),
int64 timestamps as strings. Options: ``OtlpFilesOptions``; files last modified
before the lookback are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from datasources.base import Health, Source, SourceError, parser
from datasources.registry import register
from datasources.traces import TraceWindowOptions, calls_from_spans, concat_spans, frame_from_records, hex_trace_id
from datasources.transport import DEFAULT_MAX_BYTES

INSTANCE_ATTRIBUTES = ("service.instance.id", "k8s.pod.name", "host.name")
ERROR_CODES = (2, "2", "STATUS_CODE_ERROR")


def _value(any_value: dict) -> Any:
    """The Python value of an OTLP AnyValue (string, bool, int as string, double)."""
    for key in ("stringValue", "boolValue", "intValue", "doubleValue"):
        if key in any_value:
            return any_value[key]
    return None


def _attributes(items: Any) -> dict[str, Any]:
    return {a.get("key"): _value(a.get("value") or {}) for a in items or () if isinstance(a, dict)}


@parser()
def spans_from_documents(documents: list[dict], trace_id: str | None = None) -> pd.DataFrame:
    """A spans frame from OTLP/JSON TracesData documents, only ``trace_id``'s spans when given."""
    records = []
    for document in documents:
        for resource_spans in document.get("resourceSpans") or ():
            resource = _attributes((resource_spans.get("resource") or {}).get("attributes"))
            instance = next((str(resource[k]) for k in INSTANCE_ATTRIBUTES if resource.get(k)), None)
            for scope_spans in resource_spans.get("scopeSpans") or ():
                for span in scope_spans.get("spans") or ():
                    span_trace = str(span.get("traceId", "")).lower()
                    if trace_id is not None and span_trace != trace_id:
                        continue
                    start, end = int(span.get("startTimeUnixNano", 0)), int(span.get("endTimeUnixNano", 0))
                    records.append(
                        {
                            "trace_id": span_trace,
                            "span_id": str(span.get("spanId", "")).lower(),
                            "parent_id": str(span.get("parentSpanId") or "").lower() or None,
                            "service": resource.get("service.name") or "unknown",
                            "operation": span.get("name") or "unknown",
                            "start": start,
                            "duration_ms": max(end - start, 0) / 1e6,
                            "status": "error" if (span.get("status") or {}).get("code") in ERROR_CODES else "ok",
                            "instance": instance,
                        }
                    )
    return frame_from_records("spans", records)


@parser()
def parse_documents(text: str, where: str) -> list[dict]:
    """One JSON document, or one per line (JSON Lines); SourceError naming the file and line."""
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    documents = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            documents += [json.loads(line)] if line.strip() else []
        except ValueError as exc:
            raise SourceError(f"{where}:{number}: invalid JSON: {exc}") from None
    return documents


class OtlpFilesOptions(TraceWindowOptions):
    """A directory of OTLP/JSON trace exports (the OpenTelemetry Collector's file exporter)."""

    path: str = Field(description="The directory of exports.")
    pattern: str = Field("*.json*", description="Glob of the export files in the directory.")
    max_bytes: int = Field(DEFAULT_MAX_BYTES, gt=0, description="Largest file read, in bytes.")


@register
class OtlpFilesSource(Source):
    """Calls and traces from OTLP/JSON files."""

    kind = "otlp_files"
    options_model = OtlpFilesOptions
    polled = ("calls",)

    def _directory(self) -> Path:
        directory = Path(self.config.path)
        if not directory.is_dir():
            raise SourceError(f"{self.name}: option 'path' must be a readable directory, got {self.config.path!r}")
        return directory

    def _documents(self, since: float | None) -> Iterator[list[dict]]:
        limit = self.config.max_bytes
        for path in sorted(self._directory().glob(self.config.pattern)):
            try:
                stat = path.stat()
                if since is not None and stat.st_mtime < since:
                    continue
                if stat.st_size > limit:
                    raise SourceError(
                        f"{self.name}: {path}: {stat.st_size:,} bytes, over the limit of {limit:,} (option max_bytes)"
                    )
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise SourceError(f"{self.name}: {path}: {exc.strerror}") from None
            yield parse_documents(text, f"{self.name}: {path}")

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        start = pd.Timestamp(now).tz_convert("UTC") - pd.Timedelta(minutes=self.config.lookback_m)
        spans = concat_spans([spans_from_documents(docs) for docs in self._documents(start.timestamp())])
        spans = spans[spans["start"] >= start]
        services = self.config.services
        calls = calls_from_spans(spans, self.config.slowest_calls)
        return {"calls": calls[calls["service"].isin(services)].reset_index(drop=True) if services else calls}

    def spans(self, trace_id: str) -> pd.DataFrame:
        wanted = hex_trace_id(trace_id)
        return concat_spans([spans_from_documents(docs, wanted) for docs in self._documents(None)])

    def check(self) -> Health:
        try:
            directory = self._directory()
        except SourceError as exc:
            return Health(False, str(exc))
        return Health(True, f"{len(list(directory.glob(self.config.pattern)))} file(s) in {directory}")
