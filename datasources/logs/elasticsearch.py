"""Elasticsearch and OpenSearch: ``POST /<index>/_search`` with the query DSL.

Options: ``ElasticsearchOptions`` (``token`` is sent as ``ApiKey``); document fields have
their ECS names by default.

Counts are one search with ``size: 0``: a one-minute ``date_histogram`` with ``terms`` on
service and level beneath. Lines are a bounded search sorted newest first. Values are only
ever placed in structured ``term``/``terms``/``range`` clauses, never in query strings.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
from pydantic import AfterValidator, Field

from datasources.base import Health, Source, SourceError
from datasources.logs import LogOptions, level_of, rates_frame, trace_in, trace_then_window
from datasources.options import HttpOptions
from datasources.registry import register
from datasources.transport import HttpClient

FIELDS = {
    "timestamp": "@timestamp",
    "service": "service.name",
    "level": "log.level",
    "instance": "host.name",
    "message": "message",
    "trace": "trace.id",
}
MAX_SERVICES = 1000
INDEX = re.compile(r"[^\s\"\\/?#<>|]+")


def field_of(document: dict, dotted: str) -> Any:
    """A field of ``_source`` by its dotted name, whether stored flat or as nested objects."""
    if dotted in document:
        return document[dotted]
    value: Any = document
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def window_filter(fields: dict[str, str], start: pd.Timestamp, end: pd.Timestamp) -> dict:
    return {
        "range": {
            fields["timestamp"]: {
                "gte": start.isoformat(),
                "lte": end.isoformat(),
                "format": "strict_date_optional_time",
            }
        }
    }


def rates_query(fields: dict[str, str], services: tuple[str, ...], start: pd.Timestamp, end: pd.Timestamp) -> dict:
    """The ``_search`` body counting documents per minute, service and level."""
    filters = [window_filter(fields, start, end)] + (
        [{"terms": {fields["service"]: list(services)}}] if services else []
    )
    return {
        "size": 0,
        "query": {"bool": {"filter": filters}},
        "aggs": {
            "per_minute": {
                "date_histogram": {"field": fields["timestamp"], "fixed_interval": "1m"},
                "aggs": {
                    "service": {
                        "terms": {"field": fields["service"], "size": MAX_SERVICES},
                        "aggs": {"level": {"terms": {"field": fields["level"], "size": 20}}},
                    }
                },
            }
        },
    }


def lines_query(
    fields: dict[str, str],
    services: tuple[str, ...],
    instances: tuple[str, ...],
    start: pd.Timestamp,
    end: pd.Timestamp,
    limit: int,
    trace_id: str | None,
) -> dict:
    """The ``_search`` body for at most ``limit`` lines, newest first."""
    filters = [window_filter(fields, start, end), {"terms": {fields["service"]: list(services)}}]
    if trace_id:
        filters.append({"term": {fields["trace"]: trace_id}})
    elif instances:
        filters.append({"terms": {fields["instance"]: list(instances)}})
    return {"size": limit, "sort": [{fields["timestamp"]: {"order": "desc"}}], "query": {"bool": {"filter": filters}}}


def rates_from_aggregations(payload: Any) -> pd.DataFrame:
    """A log_rates frame from the answer to ``rates_query``."""
    buckets = _answer(payload).get("aggregations", {}).get("per_minute", {}).get("buckets") or []
    records = []
    for minute in buckets:
        ts = int(minute["key"]) * 1_000_000
        for service in (minute.get("service") or {}).get("buckets") or ():
            for level in (service.get("level") or {}).get("buckets") or ():
                records.append((ts, str(service["key"]), level_of(level["key"]), int(level["doc_count"])))
    return rates_frame(records)


def lines_from_hits(payload: Any, fields: dict[str, str]) -> list[dict]:
    """Line records from the answer to ``lines_query``."""
    records = []
    for hit in (_answer(payload).get("hits") or {}).get("hits") or ():
        doc = hit.get("_source") or {}
        stamp = pd.Timestamp(field_of(doc, fields["timestamp"]))
        message = str(field_of(doc, fields["message"]) or "")
        trace = field_of(doc, fields["trace"])
        records.append(
            {
                "ts": (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).value,
                "service": str(field_of(doc, fields["service"]) or "unknown"),
                "instance": field_of(doc, fields["instance"]),
                "level": level_of(field_of(doc, fields["level"])),
                "message": message,
                "trace_id": str(trace).lower() if trace else trace_in(message),
            }
        )
    return records


def _answer(payload: Any) -> dict:
    if not isinstance(payload, dict) or "error" in payload:
        raise SourceError(f"Elasticsearch answered {str(payload)[:200]}")
    return payload


def _index_pattern(index: str) -> str:
    if not INDEX.fullmatch(index):
        raise ValueError(f"{index!r} is not an index pattern")
    return index


class ElasticsearchOptions(HttpOptions, LogOptions):
    """Elasticsearch or OpenSearch: counts per service and level by aggregation; lines on demand.
    A `token` is sent as `ApiKey`."""

    index: Annotated[str, AfterValidator(_index_pattern)] = Field("logs-*", description="Index pattern searched.")
    services: list[str] = Field(default_factory=list, description="Services to count (empty: every service).")
    timestamp_field: str = Field(FIELDS["timestamp"], description="Field holding the time.")
    service_field: str = Field(FIELDS["service"], description="Field naming the service.")
    level_field: str = Field(FIELDS["level"], description="Field holding the level.")
    instance_field: str = Field(FIELDS["instance"], description="Field naming the instance.")
    message_field: str = Field(FIELDS["message"], description="Field holding the message.")
    trace_field: str = Field(FIELDS["trace"], description="Field holding the trace id.")


@register
@dataclass
class ElasticsearchSource(Source):
    """Log counts per service and level from Elasticsearch or OpenSearch; lines on demand."""

    kind = "elasticsearch"
    options_model = ElasticsearchOptions
    polled = ("log_rates",)

    def __post_init__(self):
        super().__post_init__()
        cfg = self.config
        self.client = HttpClient.from_options(self.name, cfg.transport(), token_scheme="ApiKey")
        self.search_path = f"/{urllib.parse.quote(cfg.index, safe='*,-_.')}/_search"
        self.fields = {key: getattr(cfg, f"{key}_field") for key in FIELDS}
        self.services = tuple(cfg.services)

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        end = pd.Timestamp(now)
        start = end - pd.Timedelta(minutes=self.config.window_m)
        payload = self.client.post(self.search_path, rates_query(self.fields, self.services, start, end))
        return {"log_rates": rates_from_aggregations(payload)}

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
            body = lines_query(
                self.fields, services, instances, pd.Timestamp(start), pd.Timestamp(end), limit, carrying
            )
            return lines_from_hits(self.client.post(self.search_path, body), self.fields)

        return trace_then_window(ask, trace_id, limit)

    def check(self) -> Health:
        try:
            self.client.get("/")
        except SourceError as exc:
            return Health(False, str(exc))
        return Health(True, "Elasticsearch answers")
