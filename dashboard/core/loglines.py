"""Log lines on demand: the lines of a trace's instances around the call, cached briefly.

Pages call ``lines_around(spans)``; only this module asks a log source for lines. The answer
is bounded (``LIMIT`` lines), keyed by the trace id and kept like traces (``ondemand``).
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from dashboard.core.ondemand import OnDemandCache, OnDemandError, ask_sources, built
from dashboard.core.store import FrameStore
from datasources.base import Source, empty_frame

TTL_S = 120
MISS_TTL_S = 30
LIMIT = 200
MARGIN = timedelta(minutes=2)
LogSourceError = OnDemandError


def answers_logs(source: Source) -> bool:
    """Whether the source's kind implements ``log_lines``."""
    return type(source).log_lines is not Source.log_lines


def trace_first(lines: pd.DataFrame, trace_id: str, limit: int = LIMIT) -> pd.DataFrame:
    """Lines carrying ``trace_id`` first, then the rest by time; at most ``limit``."""
    carrying = lines["trace_id"].fillna("").str.lower().eq(trace_id.lower())
    ordered = lines.assign(_other=~carrying).sort_values(["_other", "ts"], kind="stable")
    return ordered.drop(columns="_other").head(limit).reset_index(drop=True)


class LogFinder:
    """Ask the log-capable sources for the lines around one trace, through the store's cache."""

    def __init__(self, sources: list[Source], store: FrameStore, ttl_s: int = TTL_S, miss_ttl_s: int = MISS_TTL_S):
        self.sources = [s for s in sources if answers_logs(s)]
        self.cache = OnDemandCache(store, ttl_s, miss_ttl_s)

    def around(self, spans: pd.DataFrame) -> pd.DataFrame:
        """The lines of the trace's services and instances from ``MARGIN`` before to after it."""
        if spans.empty or not self.sources:
            return empty_frame("log_lines")
        trace_id = str(spans["trace_id"].iloc[0]).lower()
        start = spans["start"].min() - MARGIN
        end = (spans["start"] + pd.to_timedelta(spans["duration_ms"], unit="ms")).max() + MARGIN
        services = tuple(sorted(spans["service"].unique()))
        instances = tuple(sorted(spans["instance"].dropna().unique()))

        def ask(source: Source) -> pd.DataFrame:
            return source.log_lines(
                services,
                start.floor("us").to_pydatetime(),
                end.ceil("us").to_pydatetime(),
                LIMIT,
                instances=instances,
                trace_id=trace_id,
            )

        return self.cache.frame(
            f"loglines:{trace_id}",
            lambda: trace_first(ask_sources("log_lines", self.sources, ask, first=False), trace_id),
        )


def lines_around(spans: pd.DataFrame) -> pd.DataFrame:
    """The log lines around a trace for the app serving this request."""
    return built("opscenter_logs", LogFinder).around(spans)
