"""The frame store: contract frames as Arrow IPC bytes in a flask-caching backend.

Keys, under ``opscenter:<deployment>:``
  ``frame:<source>:<frame>``  Arrow IPC stream bytes of one source's frame
  ``version:<source>``        a counter bumped after each successful write
  ``status:<source>``         the source's status record, JSON

Both backends get a serializer that passes bytes through and refuses anything
else, so nothing read from Redis (or memory) is ever unpickled.
"""
from __future__ import annotations

import json
import threading
from typing import Any, Iterable

import pandas as pd
import pyarrow as pa
import redis
from flask_caching.backends.rediscache import RedisCache
from flask_caching.backends.simplecache import SimpleCache

from datasources.base import empty_frame

CONFIG_SOURCE = "config"
DERIVED_SOURCE = "derived"  # frames the poller derives from metrics (dashboard/derived.py)


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
        self.sources = [*sources, CONFIG_SOURCE, DERIVED_SOURCE]
        self._decoded: dict[tuple[str, str], tuple[int, pd.DataFrame]] = {}
        self._combined: dict[str, tuple[tuple, pd.DataFrame]] = {}

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
        return int(self.cache.inc(self._key("version", source)))

    def set_status(self, source: str, record: dict[str, Any]) -> None:
        """Replace the status record of ``source``."""
        body = json.dumps(record).encode()
        self.cache.set(self._key("status", source), body, timeout=0)

    # reading -----------------------------------------------------------------
    def versions(self) -> dict[str, int]:
        """Return every source's frame version in one round trip (0: never written)."""
        raw = self.cache.get_many(*[self._key("version", s) for s in self.sources])
        return {s: int(v or 0) for s, v in zip(self.sources, raw)}

    def status(self, source: str) -> dict[str, Any] | None:
        """Return the status record of ``source``, or None before its first poll."""
        raw = self.cache.get(self._key("status", source))
        return json.loads(raw) if raw else None

    def statuses(self) -> dict[str, dict[str, Any]]:
        """Return the status records of every configured source that has one."""
        names = [s for s in self.sources if s != CONFIG_SOURCE]
        raw = self.cache.get_many(*[self._key("status", s) for s in names])
        return {s: json.loads(r) for s, r in zip(names, raw) if r}

    def read(self, source: str, name: str, version: int | None = None) -> pd.DataFrame | None:
        """Return one source's frame, decoded once per version, or None if it has none."""
        version = self.versions().get(source, 0) if version is None else version
        cached = self._decoded.get((source, name))
        if cached and cached[0] == version:
            return cached[1]
        data = self.cache.get(self._key("frame", source, name))
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
