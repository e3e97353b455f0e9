"""The frame store: contract frames as Arrow IPC bytes in a flask-caching backend.

Keys, under ``opscenter:<deployment>:``
  ``frame:<source>:<frame>``  Arrow IPC stream bytes of one source's frame
  ``version:<source>``        a counter bumped after each successful write; a fresh counter
                              starts at the clock in ms, so readers never mistake a Redis that
                              came back empty for the frames they already decoded
  ``status:<source>``         the source's status record, JSON

Both backends get a serializer that passes bytes through and refuses anything
else, so nothing read from Redis (or memory) is ever unpickled.

Reads survive Redis being away: versions stay at the last ones seen (so pages keep the
frames already decoded), statuses read as none (so every source shows stale) and a frame
not yet decoded reads as missing. Writes still raise, so the poller sees the outage.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

import pandas as pd
import pyarrow as pa
import redis
from flask_caching.backends.rediscache import RedisCache
from flask_caching.backends.simplecache import SimpleCache

from datasources.base import empty_frame

CONFIG_SOURCE = "config"
COMMAND_SOURCE = "opscenter"  # the declared incidents and the incident command (dashboard/command/source.py)
log = logging.getLogger(__name__)
# the kind of the frames the poller derives (dashboard/core/derived.py), and the name its estate-wide ones
# (the wall's views) are stored under
DERIVED_SOURCE = "derived"


def derived_source(source: str) -> str:
    """The name the frames derived from ``source``'s metrics are stored under."""
    return f"{DERIVED_SOURCE}:{source}"


class RawBytesSerializer:
    """Store bytes (and ints, as decimal text) verbatim; never pickle."""

    def dumps(self, value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, (bytes, int)):
            raise TypeError(f"the frame store holds bytes only, not {type(value).__name__}")
        return value if isinstance(value, bytes) else str(value).encode()

    def loads(self, raw: bytes | None) -> bytes | None:
        return raw


class RedisFrameCache(RedisCache):
    """flask-caching's Redis backend holding raw bytes."""

    serializer = RawBytesSerializer()


class LocalFrameCache(SimpleCache):
    """flask-caching's in-process backend holding raw bytes."""

    serializer = RawBytesSerializer()

    def __init__(self):
        super().__init__(threshold=1_000_000, default_timeout=0)
        self._inc_lock = threading.Lock()

    def inc(self, key: str, delta: int = 1) -> int:
        with self._inc_lock:
            value = int(self.get(key) or 0) + delta
            self.set(key, value)
            return value


def encode_frame(frame: pd.DataFrame) -> bytes:
    """Serialize a frame as Arrow IPC stream bytes."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def decode_frame(data: bytes) -> pd.DataFrame:
    """Read Arrow IPC stream bytes back into a frame."""
    with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
        return reader.read_all().to_pandas()


class FrameStore:
    """Write and read contract frames per source, with versions and status records."""

    def __init__(self, cache, deployment: str = "default", sources: Iterable[str] = ()):
        self.cache = cache
        self.prefix = f"opscenter:{deployment}:"
        sources = list(sources)
        self.sources = [*sources, CONFIG_SOURCE, COMMAND_SOURCE, *map(derived_source, sources), DERIVED_SOURCE]
        self._decoded: dict[tuple[str, str], tuple[int, pd.DataFrame]] = {}
        self._combined: dict[str, tuple[tuple, pd.DataFrame]] = {}
        self._reading: dict[tuple[str, str] | str, threading.Lock] = {}  # one decode of a frame at a time
        self._last_versions: dict[str, int] = {}

    @property
    def backend(self) -> str:
        return "redis" if isinstance(self.cache, RedisFrameCache) else "local"

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def ping(self) -> bool:
        """Return whether the backend answers."""
        if isinstance(self.cache, RedisFrameCache):
            try:
                return bool(self.cache._read_client.ping())
            except redis.RedisError:
                return False
        return True

    # writing -----------------------------------------------------------------
    def write(self, source: str, frames: dict[str, pd.DataFrame]) -> int:
        """Store ``frames`` of ``source`` and bump its version; return the new version."""
        payload = {self._key("frame", source, name): encode_frame(df) for name, df in frames.items()}
        if payload and not self.cache.set_many(payload, timeout=0):
            raise RuntimeError(f"frame store did not accept the frames of {source}")
        key = self._key("version", source)
        version = int(self.cache.inc(key))
        if version == 1:  # a fresh counter (first write, or Redis came back empty): start past any old one
            version = time.time_ns() // 1_000_000
            self.cache.set(key, version, timeout=0)
        return version

    def set_status(self, source: str, record: dict[str, Any]) -> None:
        """Replace the status record of ``source``."""
        body = json.dumps(record).encode()
        self.cache.set(self._key("status", source), body, timeout=0)

    # reading -----------------------------------------------------------------
    def versions(self) -> dict[str, int]:
        """Return every source's frame version in one round trip (0: never written)."""
        try:
            raw = self.cache.get_many(*[self._key("version", s) for s in self.sources])
        except redis.RedisError as exc:
            log.warning("frame store unreachable, serving the frames last read: %s", exc)
            return dict(self._last_versions)
        self._last_versions = {s: int(v or 0) for s, v in zip(self.sources, raw)}
        return dict(self._last_versions)

    def status(self, source: str) -> dict[str, Any] | None:
        """Return the status record of ``source``, or None before its first poll or while Redis is away."""
        try:
            raw = self.cache.get(self._key("status", source))
        except redis.RedisError:
            return None
        return json.loads(raw) if raw else None

    def statuses(self) -> dict[str, dict[str, Any]]:
        """Return the status records of every configured source that has one (none while Redis is away)."""
        names = [s for s in self.sources if s != CONFIG_SOURCE]
        try:
            raw = self.cache.get_many(*[self._key("status", s) for s in names])
        except redis.RedisError:
            return {}
        return {s: json.loads(r) for s, r in zip(names, raw) if r}

    def _one_at_a_time(self, key: tuple[str, str] | str) -> threading.Lock:
        """The lock that lets one thread decode (or combine) ``key`` while the others wait for it."""
        return self._reading.setdefault(key, threading.Lock())

    def read(self, source: str, name: str, version: int | None = None) -> pd.DataFrame | None:
        """Return one source's frame, decoded once per version, or None if it has none."""
        version = self.versions().get(source, 0) if version is None else version
        cached = self._decoded.get((source, name))
        if cached and cached[0] == version:
            return cached[1]
        with self._one_at_a_time((source, name)):
            return self._decode(source, name, version)

    def _decode(self, source: str, name: str, version: int) -> pd.DataFrame | None:
        cached = self._decoded.get((source, name))
        if cached and cached[0] == version:  # another thread decoded it while this one waited
            return cached[1]
        try:
            data = self.cache.get(self._key("frame", source, name))
        except redis.RedisError:
            return cached[1] if cached else None
        frame = decode_frame(data) if data else None
        self._decoded[(source, name)] = (version, frame)
        return frame

    def frame(self, name: str, versions: dict[str, int] | None = None) -> pd.DataFrame:
        """Return frame ``name`` of all sources concatenated (the contract's empty frame if none)."""
        versions = self.versions() if versions is None else versions
        key = tuple(versions.get(s, 0) for s in self.sources)
        cached = self._combined.get(name)
        if cached and cached[0] == key:
            return cached[1]
        with self._one_at_a_time(name):
            return self._combine(name, versions, key)

    def _combine(self, name: str, versions: dict[str, int], key: tuple) -> pd.DataFrame:
        cached = self._combined.get(name)
        if cached and cached[0] == key:
            return cached[1]
        parts = [f for s in self.sources if versions.get(s) and (f := self.read(s, name, versions[s])) is not None]
        parts = [p for p in parts if len(p)]
        combined = pd.concat(parts, ignore_index=True) if len(parts) > 1 else (parts[0] if parts else empty_frame(name))
        self._combined[name] = (key, combined)
        return combined


def open_store(redis_url: str | None, deployment: str, sources: Iterable[str]) -> FrameStore:
    """Open the store on Redis when a URL is given, else on the local in-process backend."""
    if redis_url:
        client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        cache = RedisFrameCache(host=client, default_timeout=0)
    else:
        cache = LocalFrameCache()
    return FrameStore(cache, deployment, sources)
