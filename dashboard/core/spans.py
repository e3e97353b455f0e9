"""Whole traces on demand: one trace id asked of the trace sources, the answer cached briefly.

Pages call ``spans(trace_id)``; only this module asks a source. The answer is kept as Arrow
bytes in the frame store's cache under ``opscenter:<deployment>:spans:<trace_id>`` for
``TTL_S`` seconds (``MISS_TTL_S`` when no source knows the trace), so a trace opened by many
viewers costs its source one query. A malformed id never reaches a source.
"""

from __future__ import annotations

import re

import pandas as pd

from dashboard.core.ondemand import OnDemandCache, OnDemandError, ask_sources, built
from dashboard.core.store import FrameStore
from datasources.base import Source

TTL_S = 300
MISS_TTL_S = 30
TRACE_ID = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}")


class InvalidTraceId(ValueError):
    """A trace id that is not 16 or 32 hexadecimal characters."""


TraceSourceError = OnDemandError


def normalise(trace_id: str) -> str:
    """Return the id in lower case; raise InvalidTraceId when it is not 16 or 32 hex digits."""
    text = trace_id.strip().lower() if isinstance(trace_id, str) else ""
    if not TRACE_ID.fullmatch(text):
        raise InvalidTraceId("a trace id is 16 or 32 hexadecimal characters")
    return text


def answers_traces(source: Source) -> bool:
    """Whether the source's kind implements ``spans``."""
    return type(source).spans is not Source.spans


class TraceFinder:
    """Ask the trace-capable sources for one trace, through the store's cache."""

    def __init__(self, sources: list[Source], store: FrameStore, ttl_s: int = TTL_S, miss_ttl_s: int = MISS_TTL_S):
        self.sources = [s for s in sources if answers_traces(s)]
        self.cache = OnDemandCache(store, ttl_s, miss_ttl_s)

    def key(self, trace_id: str) -> str:
        return self.cache.key(f"spans:{trace_id}")

    def spans(self, trace_id: str) -> pd.DataFrame:
        """The spans of ``trace_id`` (empty when no source knows it)."""
        trace_id = normalise(trace_id)
        return self.cache.frame(f"spans:{trace_id}", lambda: self._ask(trace_id))

    def _ask(self, trace_id: str) -> pd.DataFrame:
        def ask(source: Source) -> pd.DataFrame:
            frame = source.spans(trace_id)
            return frame[frame["trace_id"].str.lower() == trace_id]

        return ask_sources("spans", self.sources, ask, first=True)


def finder() -> TraceFinder:
    """The finder of the app serving this request, built on first use."""
    return built("opscenter_traces", TraceFinder)


def spans(trace_id: str) -> pd.DataFrame:
    """The spans of ``trace_id`` for the app serving this request."""
    return finder().spans(trace_id)
