"""What the log adapters share: level names, trace ids found in text, records to frames.

Records carry ``ts`` as integer nanoseconds since the epoch. ``level_of`` maps a tool's
level word onto the contract's levels (unknown words count as ``info``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd
from pydantic import Field

from datasources.base import CONTRACTS, empty_frame, validate
from datasources.options import SourceOptions

LEVEL_WORDS = {
    "error": "error",
    "err": "error",
    "fatal": "error",
    "critical": "error",
    "crit": "error",
    "alert": "error",
    "emerg": "error",
    "panic": "error",
    "severe": "error",
    "warning": "warning",
    "warn": "warning",
    "info": "info",
    "information": "info",
    "notice": "info",
    "debug": "debug",
    "trace": "debug",
    "fine": "debug",
}
TRACE_IN_TEXT = re.compile(r"trace[_.\-]?id[\"']?\s*[=:]\s*[\"']?([0-9a-fA-F]{32}|[0-9a-fA-F]{16})\b")
LINE_COLUMNS = tuple(c.name for c in CONTRACTS["log_lines"])


class LogOptions(SourceOptions):
    """Keys of every log source."""

    window_m: float = Field(60, gt=0, description="Minutes of log_rates each poll returns.")


def level_of(word: Any) -> str:
    """The contract level of a level word (``WARN``, ``Error``, ``notice``...)."""
    return LEVEL_WORDS.get(str(word or "").strip().lower(), "info")


def trace_in(text: str) -> str | None:
    """A trace id written in a line as ``trace_id=...`` (or traceId, trace.id), lower case."""
    found = TRACE_IN_TEXT.search(text or "")
    return found.group(1).lower() if found else None


def rates_frame(records: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    """A log_rates frame from (ts ns, service, level, count) tuples, summed per key."""
    if not records:
        return empty_frame("log_rates")
    frame = pd.DataFrame(records, columns=["ts", "service", "level", "count"])
    frame = frame.groupby(["ts", "service", "level"], as_index=False)["count"].sum()
    frame["ts"] = pd.to_datetime(frame["ts"].astype("int64"), unit="ns", utc=True)
    frame["count"] = frame["count"].astype("int64")
    return validate("log_rates", frame)


def lines_frame(records: list[dict], limit: int) -> pd.DataFrame:
    """A log_lines frame from records, newest first, duplicates dropped, at most ``limit``."""
    if not records:
        return empty_frame("log_lines")
    frame = pd.DataFrame.from_records(records, columns=list(LINE_COLUMNS)).drop_duplicates()
    frame["ts"] = pd.to_datetime(frame["ts"].astype("int64"), unit="ns", utc=True)
    for column in ("instance", "trace_id"):
        frame[column] = frame[column].astype(object).where(frame[column].notna() & (frame[column] != ""), None)
    frame = frame.sort_values("ts", ascending=False, kind="stable").head(limit)
    return validate("log_lines", frame.reset_index(drop=True))


def trace_then_window(ask: Callable[[str | None], list[dict]], trace_id: str | None, limit: int) -> pd.DataFrame:
    """Lines carrying ``trace_id`` (one query), then the window's other lines (another), at most ``limit``."""
    carrying = lines_frame([{**r, "trace_id": trace_id} for r in ask(trace_id)], limit) if trace_id else None
    rest = lines_frame(ask(None), limit)
    if carrying is None or carrying.empty:
        return rest
    rest = rest[
        ~rest.set_index(["ts", "instance", "message"]).index.isin(
            carrying.set_index(["ts", "instance", "message"]).index
        )
    ]
    return pd.concat([carrying, rest], ignore_index=True).head(limit)
