"""Frames fetched on demand from sources, cached briefly in the frame store's cache.

``OnDemandCache.frame(key, compute)`` returns the frame kept under
``opscenter:<deployment>:<key>`` or computes it and keeps its Arrow bytes for ``ttl_s``
seconds (``miss_ttl_s`` when empty), so a view opened by many viewers costs its sources one
query. ``ask_sources`` asks each capable source in turn, so one failing source does not hide
another's answer. ``built(app_key, make)`` keeps one helper per app.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import flask
import pandas as pd

from dashboard import context
from dashboard.core.store import FrameStore, decode_frame, encode_frame
from datasources import registry
from datasources.base import Source, empty_frame, validate

log = logging.getLogger(__name__)


class OnDemandError(RuntimeError):
    """Every source that could answer failed."""


class OnDemandCache:
    """A TTL cache of frames in the store's cache backend."""

    def __init__(self, store: FrameStore, ttl_s: int, miss_ttl_s: int):
        self.store, self.ttl_s, self.miss_ttl_s = store, ttl_s, miss_ttl_s

    def key(self, key: str) -> str:
        return f"{self.store.prefix}{key}"

    def frame(self, key: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        cached = self.store.cache.get(self.key(key))
        if cached:
            return decode_frame(cached)
        frame = compute()
        self.store.cache.set(self.key(key), encode_frame(frame), timeout=self.ttl_s if len(frame) else self.miss_ttl_s)
        return frame


def ask_sources(name: str, sources: list[Source], ask: Callable[[Source], pd.DataFrame], first: bool) -> pd.DataFrame:
    """Frame ``name`` from ``ask(source)`` of each source: the first non-empty answer when ``first``,
    else all answers together; raise OnDemandError when every source failed."""
    failures, answers = [], []
    for source in sources:
        try:
            frame = validate(name, ask(source))
        except Exception as exc:  # one failing source must not hide the others' answer
            log.warning("source %s failed for %s: %s", source.name, name, exc)
            failures.append(f"{source.name}: {type(exc).__name__}: {exc}")
            continue
        if len(frame):
            answers.append(frame)
            if first:
                break
    if answers:
        return pd.concat(answers, ignore_index=True)
    if failures:
        raise OnDemandError("; ".join(failures))
    return empty_frame(name)


def built(app_key: str, make: Callable[[list[Source], FrameStore], object]):
    """The helper ``make(sources, store)`` of the app serving this request, built on first use."""
    extensions = flask.current_app.extensions
    if app_key not in extensions:
        ctx = context.current()
        extensions[app_key] = make([registry.build(s) for s in ctx.settings.sources], ctx.store)
    return extensions[app_key]
