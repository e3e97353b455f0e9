"""A source's status record: what its last attempt did, kept in the store as JSON, shown on /sources,
appended to history as the ``source_status`` frame, and read to tell whether the source is stale."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

import pandas as pd

from dashboard.security.redact import redact
from datasources.base import validate


class StatusRecord(TypedDict):
    """One source's status after its latest attempt (a poll, or the derived step after one)."""

    source: str
    kind: str
    interval_s: float
    last_attempt: str  # ISO 8601, UTC
    last_success: str | None
    ok: bool
    error: str | None  # redacted
    warning: str | None  # redacted: what a successful attempt found to fix (``Source.warnings``)
    failures: int  # consecutive failed attempts
    failing_since: str | None  # ISO 8601, UTC: the first of those failed attempts
    pending: str | None  # what a failed attempt waits for rather than failed at ("learning": a first model)
    rows: int
    duration_ms: float
    frames: list[str]  # what its last good attempt delivered
    offers: list[str]  # what it delivers once it succeeds


def after_attempt(
    previous: dict | None,
    *,
    source: str,
    kind: str,
    interval_s: float,
    started: datetime,
    errors: list[str],
    rows: int,
    duration_ms: float,
    frames: list[str],
    offers: list[str],
    warnings: list[str] = (),
    pending: str | None = None,
) -> StatusRecord:
    """The record after an attempt that started at ``started``; ``errors`` empty means it succeeded."""
    previous = previous or {}
    ok = not errors
    return StatusRecord(
        source=source,
        kind=kind,
        interval_s=interval_s,
        last_attempt=started.isoformat(),
        last_success=started.isoformat() if ok else previous.get("last_success"),
        ok=ok,
        error=redact("; ".join(errors)) if errors else None,
        warning=redact("; ".join(warnings)) if warnings and ok else None,
        failures=0 if ok else int(previous.get("failures", 0)) + 1,
        failing_since=None
        if ok
        else (previous.get("failing_since") if previous.get("ok") is False else None) or started.isoformat(),
        pending=None if ok else pending,
        rows=rows,
        duration_ms=round(duration_ms, 1),
        frames=sorted(frames) or previous.get("frames", []),
        offers=sorted(offers),
    )


STATUS_COLUMNS = ("source", "kind", "last_attempt", "last_success", "ok", "error", "rows", "duration_ms")


def status_frame(records: list[dict]) -> pd.DataFrame:
    """Build a source_status contract frame from status records."""
    frame = pd.DataFrame([{c: r.get(c) for c in STATUS_COLUMNS} for r in records], columns=list(STATUS_COLUMNS))
    for column in ("last_attempt", "last_success"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    frame["ok"] = frame["ok"].astype(bool)
    frame["rows"] = frame["rows"].fillna(0).astype("int64")
    frame["duration_ms"] = frame["duration_ms"].astype("float64")
    frame["error"] = frame["error"].astype(object).where(frame["error"].notna(), None)
    return validate("source_status", frame)


def is_stale(status: dict | None, now: datetime, factor: float = 3.0) -> bool:
    """A source is stale when its last poll failed or its last success is too old."""
    if not status or not status.get("last_success"):
        return True
    last = pd.Timestamp(status["last_success"])
    return (not status.get("ok")) or (now - last).total_seconds() > factor * float(status.get("interval_s", 30))


def newest_success(statuses: dict[str, dict]) -> str | None:
    """The latest successful attempt among the status records (ISO 8601): when the newest data was polled."""
    return max(
        (s["last_success"] for s in statuses.values() if s and s.get("last_success")), default=None, key=pd.Timestamp
    )
