"""Shared by the trace sources and exemplars: span records to frames, which calls to keep, the search loop.

``calls`` is bounded: per service the slowest calls and the failed ones in the window.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

import pandas as pd
from pydantic import Field

from datasources.base import CONTRACTS, Health, Source, SourceError, empty_frame, validate
from datasources.options import HttpOptions, SourceOptions
from datasources.transport import HttpClient

SLOWEST_PER_SERVICE = 10
FAILED_PER_SERVICE = 20
SPAN_KEYS = tuple(c.name for c in CONTRACTS["spans"])
CALL_KEYS = tuple(c.name for c in CONTRACTS["calls"])


def frame_from_records(name: str, records: list[dict]) -> pd.DataFrame:
    """A ``spans`` or ``calls`` frame from records whose ``start`` is integer nanoseconds since the epoch."""
    if not records:
        return empty_frame(name)
    keys = SPAN_KEYS if name == "spans" else CALL_KEYS
    frame = pd.DataFrame.from_records(records, columns=list(keys))
    frame["start"] = pd.to_datetime(frame["start"].astype("int64"), unit="ns", utc=True)
    frame["duration_ms"] = frame["duration_ms"].astype("float64").clip(lower=0.0)
    for column in ("parent_id", "instance"):
        if column in frame:
            frame[column] = frame[column].astype(object).where(frame[column].notna() & (frame[column] != ""), None)
    return validate(name, frame.sort_values(["start", keys[1]], kind="stable").reset_index(drop=True))


def concat_spans(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The rows of several spans frames as one (an empty spans frame when there are none)."""
    found = [f for f in frames if len(f)]
    return pd.concat(found, ignore_index=True) if found else empty_frame("spans")


def entry_spans(spans: pd.DataFrame) -> pd.DataFrame:
    """Spans where a request enters a service: roots, and spans whose parent ran in another service."""
    parents = (
        spans[["trace_id", "span_id", "service"]]
        .rename(columns={"span_id": "parent_id", "service": "parent_service"})
        .drop_duplicates(["trace_id", "parent_id"])
    )
    joined = spans.merge(parents, on=["trace_id", "parent_id"], how="left")
    return spans[(joined["parent_service"].isna() | (joined["parent_service"] != joined["service"])).to_numpy()]


def select_calls(
    calls: pd.DataFrame, slowest: int = SLOWEST_PER_SERVICE, failed: int = FAILED_PER_SERVICE
) -> pd.DataFrame:
    """Per service the ``slowest`` longest calls and the ``failed`` longest failures, by start time."""
    calls = calls[list(CALL_KEYS)].drop_duplicates(["trace_id", "service", "operation", "start"])
    ranked = calls.sort_values("duration_ms", ascending=False, kind="stable")
    keep = (
        ranked.groupby("service")
        .head(slowest)
        .index.union(ranked[ranked["status"] == "error"].groupby("service").head(failed).index)
    )
    return validate("calls", calls.loc[keep].sort_values(["start", "service"], kind="stable").reset_index(drop=True))


def calls_from_spans(spans: pd.DataFrame, slowest: int = SLOWEST_PER_SERVICE) -> pd.DataFrame:
    """The bounded calls frame from the entry spans of many traces."""
    return select_calls(entry_spans(spans)[list(CALL_KEYS)], slowest=slowest)


class TraceWindowOptions(SourceOptions):
    """Keys of every trace source: which calls a poll keeps."""

    lookback_m: float = Field(60, gt=0, description="Minutes of traces each poll reads.")
    services: list[str] | None = Field(None, description="Services to read (none: every service).")
    slowest_calls: int = Field(SLOWEST_PER_SERVICE, ge=1, description="Slowest calls kept per service.")


class TraceStoreOptions(HttpOptions, TraceWindowOptions):
    """A trace store searched per service, twice a poll: its slowest traces and its failed ones."""

    limit: int = Field(20, ge=1, description="Traces per search.")
    min_duration_ms: float = Field(0, ge=0, description="Shortest trace the slow search returns, in ms.")


class TraceSource(Source):
    """Base of the trace stores searched per service: the slowest and the failed traces of each.

    Subclasses implement ``service_names()``, ``search(service, start, end, failed, cfg)``
    (``cfg`` the ``TraceStoreOptions``) returning a spans frame, and ``spans(trace_id)``.
    """

    options_model = TraceStoreOptions
    polled = ("calls",)

    @cached_property
    def client(self) -> HttpClient:
        return HttpClient.from_options(self.name, self.config.transport())

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        cfg = self.config
        end = pd.Timestamp(now).tz_convert("UTC")
        start = end - pd.Timedelta(minutes=cfg.lookback_m)
        found = [
            self.search(service, start, end, failed, cfg)
            for service in cfg.services or self.service_names()
            for failed in (False, True)
        ]
        return {"calls": calls_from_spans(concat_spans(found), cfg.slowest_calls)}

    def service_names(self) -> list[str]:
        raise NotImplementedError

    def search(
        self, service: str, start: pd.Timestamp, end: pd.Timestamp, failed: bool, cfg: TraceStoreOptions
    ) -> pd.DataFrame:
        raise NotImplementedError

    def check(self) -> Health:
        try:
            names = self.service_names()
        except SourceError as exc:
            return Health(False, str(exc))
        return Health(True, f"{len(names)} service(s) at {self.client.base_url}")


def micros(moment: pd.Timestamp) -> int:
    """Microseconds since the epoch."""
    return int(moment.value // 1000)


def hex_trace_id(trace_id: str) -> str:
    """A lower-case hex trace id of at most 32 digits, or SourceError (so it is never a path fragment)."""
    text = str(trace_id).lower()
    if not text or len(text) > 32 or any(c not in "0123456789abcdef" for c in text):
        raise SourceError(f"not a trace id: {trace_id!r}")
    return text
