"""Whole traces on demand: one trace id asked of the trace sources, the answer cached briefly.

Pages call ``spans(trace_id)``; only this module asks a source. The answer is kept as Arrow
bytes in the frame store's cache under ``opscenter:<deployment>:spans:<trace_id>`` for
``TTL_S`` seconds (``MISS_TTL_S`` when no source knows the trace), so a trace opened by many
viewers costs its source one query. A malformed id never reaches a source.
"""
from __future__ import annotations

import logging
import re

import flask
import pandas as pd

from dashboard import context
from dashboard.store import FrameStore, decode_frame, encode_frame
from datasources import registry
from datasources.base import Source, empty_frame, validate

log = logging.getLogger(__name__)
TTL_S = 300
MISS_TTL_S = 30
TRACE_ID = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}")


class InvalidTraceId(ValueError):
    """A trace id that is not 16 or 32 hexadecimal characters."""


class TraceSourceError(RuntimeError):
    """Every source that could answer failed."""


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
        self.store, self.ttl_s, self.miss_ttl_s = store, ttl_s, miss_ttl_s

    def key(self, trace_id: str) -> str:
        return f"{self.store.prefix}spans:{trace_id}"

    def spans(self, trace_id: str) -> pd.DataFrame:
        """The spans of ``trace_id`` (empty when no source knows it)."""
        trace_id = normalise(trace_id)
        cached = self.store.cache.get(self.key(trace_id))
        if cached:
            return decode_frame(cached)
        frame = self._ask(trace_id)
        self.store.cache.set(self.key(trace_id), encode_frame(frame), timeout=self.ttl_s if len(frame) else self.miss_ttl_s)
        return frame

    def _ask(self, trace_id: str) -> pd.DataFrame:
        failures = []
        for source in self.sources:
            try:
                frame = validate("spans", source.spans(trace_id))
            except Exception as exc:  # one failing source must not hide the others' answer
                log.warning("trace source %s failed for %s: %s", source.name, trace_id, exc)
                failures.append(f"{source.name}: {type(exc).__name__}: {exc}")
                continue
            frame = frame[frame["trace_id"].str.lower() == trace_id]
            if len(frame):
                return frame.reset_index(drop=True)
        if failures:
            raise TraceSourceError("; ".join(failures))
        return empty_frame("spans")


def finder() -> TraceFinder:
    """The finder of the app serving this request, built on first use."""
    extensions = flask.current_app.extensions
    if "opscenter_traces" not in extensions:
        ctx = context.current()
        extensions["opscenter_traces"] = TraceFinder([registry.build(s) for s in ctx.settings.sources], ctx.store)
    return extensions["opscenter_traces"]


def spans(trace_id: str) -> pd.DataFrame:
    """The spans of ``trace_id`` for the app serving this request."""
    return finder().spans(trace_id)
