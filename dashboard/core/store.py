"""The frame store: contract frames as Arrow IPC bytes in a flask-caching backend.

Keys, under ``opscenter:<deployment>:``
  ``frame:<source>:<frame>``  Arrow IPC stream bytes of one source's frame
  ``parts:<source>:<frame>``  for the large frames cut by service (``PARTITIONED``): the manifest, JSON
                              ``{"generation", "parts"}``; partition ``i`` is at ``frame:<source>:<frame>:<i>``
  ``version:<source>``        a counter bumped after each successful write; a fresh counter
                              starts at the clock in ms, so readers never mistake a Redis that
                              came back empty for the frames they already decoded
  ``status:<source>``         the source's status record, JSON

Both backends get a serializer that passes bytes through and refuses anything
else, so nothing read from Redis (or memory) is ever unpickled.

A ``PARTITIONED`` frame is cut by a stable hash of ``service`` (CRC-32 of its name modulo the count)
into a power of two of partitions, enough for each to hold about ``PARTITION_BYTES`` (at most a quarter
of the limit), doubled while one is over the limit. A reader asking for some services reads only their
partitions; a whole-frame read concatenates them all (partition by partition, each service's rows in
their order). Each partition carries its write's generation in its Arrow metadata, and the manifest is
written after the partitions it names: a reader whose partitions are not all of its manifest's
generation (a poll wrote meanwhile) reads the manifest again, so it never mixes two polls. No value
written is over the store's limit (``frame_limit_mb``): a frame that cannot be cut under it is
rejected (``FrameTooLarge``, naming source and frame) and its last good version stays.

Reads survive Redis being away: versions stay at the last ones seen (so pages keep the
frames already decoded), statuses read as none (so every source shows stale) and a frame
not yet decoded reads as missing. Writes still raise, so the poller sees the outage.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import redis
from flask_caching.backends.rediscache import RedisCache
from flask_caching.backends.simplecache import SimpleCache

from datasources.base import empty_frame

CONFIG_SOURCE = "config"
COMMAND_SOURCE = "opscenter"  # the declared incidents and the incident command (dashboard/command/source.py)
ONCALL_SOURCE = "oncall"  # who the ITSM on-call groups of the duty roster have on call (dashboard/command/oncall.py)
log = logging.getLogger(__name__)
# the kind of the frames the poller derives (dashboard/core/derived.py), and the name its estate-wide ones
# (the wall's views) are stored under
DERIVED_SOURCE = "derived"
# the large frames, cut by service: each a whole estate's series (utilisation_peaks: its instances' days)
PARTITIONED = ("service_metrics", "resource_metrics", "calls", "log_rates", "utilisation_peaks")
PARTITION_BYTES = 2_000_000  # what a partition holds about, at most (a quarter of the limit when less)
MAX_PARTITIONS = 4096
FRAME_LIMIT_MB = 16.0  # the largest value written, by default
SELECTED = 64  # services-of-a-frame reads kept per process, the latest asked for
READ_ATTEMPTS = 3  # manifest reads when polls keep writing a frame anew while it is read
THREADED_ROWS = 100_000  # a frame of more rows is converted from Arrow on its thread pool
GENERATION = b"opscenter.generation"


class FrameTooLarge(Exception):
    """Frames over the store's value limit, however they are cut (``names``): rejected, their last good
    versions kept."""

    def __init__(self, message: str, names: Iterable[str] = ()):
        super().__init__(message)
        self.names = tuple(names)


class Rewritten(Exception):
    """A partitioned frame was written anew during each of ``READ_ATTEMPTS`` reads."""


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


def _encode_table(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _decode_table(data: bytes) -> pa.Table:
    with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
        return reader.read_all()


def encode_frame(frame: pd.DataFrame) -> bytes:
    """Serialize a frame as Arrow IPC stream bytes."""
    return _encode_table(pa.Table.from_pandas(frame, preserve_index=False))


def decode_frame(data: bytes) -> pd.DataFrame:
    """Read Arrow IPC stream bytes back into a frame, its dtypes from its Arrow types: the frames have no
    index, so pandas' metadata adds nothing but its cost (it would keep pandas' nullable ``Int64`` and
    ``boolean``, which read back as numpy's); a small one on this thread (Arrow's thread pool costs a small
    frame more than it converts)."""
    table = _decode_table(data)
    return table.to_pandas(use_threads=table.num_rows > THREADED_ROWS, ignore_metadata=True)


def partition_of(service: str, parts: int) -> int:
    """The partition of ``service`` among ``parts``: the same in every process and on every machine."""
    return zlib.crc32(str(service).encode()) % parts


def encode_partitions(frame: pd.DataFrame, limit: int, generation: str) -> list[bytes]:
    """``frame`` cut by service into partitions of about ``PARTITION_BYTES`` (a quarter of ``limit`` when
    less), each under ``limit`` and marked with ``generation``; FrameTooLarge when one service, or
    ``MAX_PARTITIONS``, is not small enough."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), GENERATION: generation.encode()})
    codes, names = pd.factorize(frame["service"])
    hashes = np.fromiter((zlib.crc32(str(s).encode()) for s in names), dtype=np.int64, count=len(names))
    parts = 1 << max(0, int(np.ceil(np.log2(max(table.nbytes / min(PARTITION_BYTES, limit / 4), 1)))))
    while True:
        bucket = (hashes % parts).astype(np.int16)[codes]  # 16 bits: numpy sorts them by radix
        order = np.argsort(bucket, kind="stable")
        cut = table.take(order)
        bounds = np.searchsorted(bucket[order], np.arange(parts + 1))
        blobs = [_encode_table(cut.slice(a, b - a)) for a, b in zip(bounds[:-1], bounds[1:])]
        largest = int(np.argmax([len(b) for b in blobs]))
        if len(blobs[largest]) <= limit:
            return blobs
        crowd = len(np.unique(codes[bucket == largest]))
        if crowd == 1 or parts >= MAX_PARTITIONS:
            raise FrameTooLarge(
                f"has {len(blobs[largest]) / 1e6:.3g} MB in one partition ({crowd} service(s) of {len(names)}), "
                f"over the store's limit of {limit / 1e6:g} MB (frame_limit_mb)"
            )
        parts *= 2


class FrameStore:
    """Write and read contract frames per source, with versions and status records."""

    def __init__(
        self, cache, deployment: str = "default", sources: Iterable[str] = (), limit_mb: float = FRAME_LIMIT_MB
    ):
        self.cache, self.limit = cache, int(limit_mb * 1_000_000)
        self.prefix = f"opscenter:{deployment}:"
        sources = list(sources)
        self.sources = [
            *sources,
            CONFIG_SOURCE,
            COMMAND_SOURCE,
            ONCALL_SOURCE,
            *map(derived_source, sources),
            DERIVED_SOURCE,
        ]
        self._decoded: dict[tuple[str, str], tuple[int, pd.DataFrame]] = {}
        self._records: dict[tuple[str, str], tuple[int, list[dict]]] = {}  # per small frame read as rows: version, rows
        self._combined: dict[str, tuple[tuple, pd.DataFrame]] = {}
        self._selected: OrderedDict[tuple[str, tuple[str, ...]], tuple[tuple, pd.DataFrame]] = OrderedDict()
        self._selected_lock = threading.Lock()
        self._reading: dict[tuple[str, str] | str, threading.Lock] = {}  # one decode of a frame at a time
        self._last_versions: dict[str, int] = {}
        self._manifests: dict[tuple[str, str], tuple[int, dict | None]] = {}  # per frame: version, manifest
        # per partitioned frame: the generation of its manifest and the partitions of it read, by index, as
        # Arrow tables over the bytes read (the rows asked for are copied out of them)
        self._parts: dict[tuple[str, str], tuple[str, dict[int, pa.Table]]] = {}

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
        """Store ``frames`` of ``source`` and bump its version; return the new version. Frames over the
        limit are left out (their last good versions stay) and named by FrameTooLarge, raised after the
        others are stored."""
        cut = [name for name in frames if name in PARTITIONED]
        old = dict(zip(cut, self.cache.get_many(*[self._key("parts", source, name) for name in cut]))) if cut else {}
        generation, payload, manifests, stale, rejected = uuid.uuid4().hex, {}, {}, [], {}
        for name, df in frames.items():
            try:
                if name not in PARTITIONED:
                    payload[self._key("frame", source, name)] = self._within_limit(encode_frame(df))
                    continue
                blobs = encode_partitions(df, self.limit, generation)
            except FrameTooLarge as exc:
                rejected[name] = str(exc)
                continue
            payload.update({self._key("frame", source, name, str(i)): blob for i, blob in enumerate(blobs)})
            manifests[self._key("parts", source, name)] = json.dumps(
                {"generation": generation, "parts": len(blobs)}
            ).encode()
            was = json.loads(old[name])["parts"] if old.get(name) else 0
            stale += [self._key("frame", source, name, str(i)) for i in range(len(blobs), was)]
            if not was:  # the whole frame a store before partitions wrote
                stale.append(self._key("frame", source, name))
        message = "; ".join(f"{source}: frame {name} {why}" for name, why in rejected.items())
        if rejected and not payload:
            raise FrameTooLarge(message, rejected)
        self._set_many(source, payload)  # the partitions first, then the manifests naming them
        self._set_many(source, manifests)
        if stale:
            self.cache.delete_many(*stale)
        version = self._bump(source)
        if rejected:
            raise FrameTooLarge(message, rejected)
        return version

    def _within_limit(self, data: bytes) -> bytes:
        if len(data) > self.limit:
            raise FrameTooLarge(f"is {len(data) / 1e6:.3g} MB, over the store's limit of {self.limit / 1e6:g} MB")
        return data

    def _set_many(self, source: str, payload: dict[str, bytes]) -> None:
        if payload and not self.cache.set_many(payload, timeout=0):
            raise RuntimeError(f"frame store did not accept the frames of {source}")

    def _bump(self, source: str) -> int:
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
        self._let_go_of_older(self._last_versions)
        return dict(self._last_versions)

    def _let_go_of_older(self, versions: dict[str, int]) -> None:
        """Drop the large frames decoded whole at versions older than ``versions``: a worker reads them whole only
        while the poller's views are behind, and kept, they would hold the estate until read again."""
        for (source, name), (version, _frame) in list(self._decoded.items()):
            if name in PARTITIONED and version < versions.get(source, 0):
                self._decoded.pop((source, name), None)
        current = tuple(versions.get(s, 0) for s in self.sources)
        for name, (key, _frame) in list(self._combined.items()):
            if name in PARTITIONED and key != current:
                self._combined.pop(name, None)

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
        """Return one source's frame, decoded once per version, or None if it has none; while Redis is away,
        the version decoded before."""
        version = self.versions().get(source, 0) if version is None else version
        cached = self._decoded.get((source, name))
        if cached and cached[0] == version:
            return cached[1]
        try:
            return self._whole(source, name, version)
        except (redis.RedisError, Rewritten):
            return cached[1] if cached else None

    def _whole(self, source: str, name: str, version: int) -> pd.DataFrame | None:
        """One source's frame of ``version``, decoded by one thread at a time; raises when it could not be read."""
        with self._one_at_a_time((source, name)):
            return self._decode(source, name, version)

    def _decode(self, source: str, name: str, version: int) -> pd.DataFrame | None:
        cached = self._decoded.get((source, name))
        if cached and cached[0] == version:  # another thread decoded it while this one waited
            return cached[1]
        if name in PARTITIONED:
            tables = self._partitions(source, name, version, None)
            frame = None if tables is None else pa.concat_tables(tables.values()).to_pandas()
        else:
            data = self.cache.get(self._key("frame", source, name))
            frame = decode_frame(data) if data else None
        self._decoded[(source, name)] = (version, frame)
        return frame

    def _rows(self, source: str, name: str, version: int, services: list[str]) -> pd.DataFrame | None:
        """The rows of ``services`` in one source's frame of ``version``, None when it has none; raises when
        the store could not be read."""
        if name in PARTITIONED:
            with self._one_at_a_time((source, name)):
                return self._services(source, name, version, services)
        whole = self._whole(source, name, version)
        return None if whole is None else whole[whole["service"].isin(services)]

    def _services(self, source: str, name: str, version: int, services: list[str]) -> pd.DataFrame | None:
        """The rows of ``services`` from their partitions, each read once per generation and kept as read
        (Arrow over its bytes); only the rows asked for are converted, into buffers of their own."""
        tables = self._partitions(source, name, version, services)
        if tables is None:
            return None
        kept = self._parts[(source, name)][1]
        kept.update({i: table for i, table in tables.items() if table is not None})
        rows = [kept[i] for i in tables]
        wanted = pa.array(services, type=rows[0].schema.field("service").type)
        return pa.concat_tables([t.filter(pc.is_in(t["service"], value_set=wanted)) for t in rows]).to_pandas()

    def _manifest(self, source: str, name: str, version: int, again: bool) -> dict | None:
        """The manifest of a partitioned frame, read once per version (``again``: read anew)."""
        cached = self._manifests.get((source, name))
        if cached and cached[0] == version and not again:
            return cached[1]
        raw = self.cache.get(self._key("parts", source, name))
        manifest = json.loads(raw) if raw else None
        self._manifests[(source, name)] = (version, manifest)
        if manifest is None:
            self._parts.pop((source, name), None)
        elif self._parts.get((source, name), ("",))[0] != manifest["generation"]:
            self._parts[(source, name)] = (manifest["generation"], {})  # an older write's are never read again
        return manifest

    def _partitions(
        self, source: str, name: str, version: int, services: list[str] | None
    ) -> dict[int, pa.Table | None] | None:
        """The partitions holding ``services`` (all when None), all of one write: per index its table, or
        None for a partition decoded before from the same write (``services`` only); None when the frame
        was never written."""
        for attempt in range(READ_ATTEMPTS):
            manifest = self._manifest(source, name, version, again=attempt > 0)
            if manifest is None:
                return None
            generation, count = manifest["generation"], manifest["parts"]
            wanted = range(count) if services is None else sorted({partition_of(s, count) for s in services})
            kept = set(wanted) & set(self._parts[(source, name)][1]) if services is not None else set()
            missing = [i for i in wanted if i not in kept]
            raw = self.cache.get_many(*[self._key("frame", source, name, str(i)) for i in missing]) if missing else []
            tables = [None if data is None else _decode_table(data) for data in raw]
            if all(t is not None and t.schema.metadata.get(GENERATION) == generation.encode() for t in tables):
                return {**dict.fromkeys(kept), **dict(zip(missing, tables))}
            # a poll wrote the frame anew since its manifest was read: read the new one
        log.warning("%s of %s was written anew during each of %d reads", name, source, READ_ATTEMPTS)
        raise Rewritten(f"{name} of {source}")

    def frame(
        self, name: str, versions: dict[str, int] | None = None, services: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """Return frame ``name`` of all sources concatenated (the contract's empty frame if none); given
        ``services``, their rows only, read (for a ``PARTITIONED`` frame) from their partitions alone."""
        versions = self.versions() if versions is None else versions
        if services is not None:
            return self._select(name, versions, tuple(versions.get(s, 0) for s in self.sources), tuple(services))
        return self.frames([name], versions)[name]

    def frames(self, names: Iterable[str], versions: dict[str, int] | None = None) -> dict[str, pd.DataFrame]:
        """``frame(name, versions)`` for each of ``names``; those not ``PARTITIONED`` and not decoded yet are read
        from every source in one round trip (a source without such a frame answers None in it)."""
        versions = self.versions() if versions is None else versions
        key = tuple(versions.get(s, 0) for s in self.sources)
        names = list(names)
        self._read_ahead(
            [n for n in names if n not in PARTITIONED and self._combined.get(n, (None,))[0] != key], versions
        )
        found = {}
        for name in names:
            cached = self._combined.get(name)
            if cached and cached[0] == key:
                found[name] = cached[1]
            else:
                with self._one_at_a_time(name):
                    found[name] = self._combine(name, versions, key)
        return found

    def records(self, names: Iterable[str], versions: dict[str, int] | None = None) -> dict[str, list[dict]]:
        """The rows of the small frames ``names`` of every source concatenated, in plain Python (Arrow's: None
        where a value is missing), read in one round trip and kept per version: for a handful of rows, a fraction
        of the cost of a frame. While Redis is away, the rows read before."""
        versions = self.versions() if versions is None else versions
        names = list(names)
        if set(names) & set(PARTITIONED):
            raise ValueError(f"not small frames: {sorted(set(names) & set(PARTITIONED))}")
        wanted = [
            (source, name)
            for name in names
            for source in self.sources
            if versions.get(source) and self._records.get((source, name), (None,))[0] != versions[source]
        ]
        try:
            raw = self.cache.get_many(*[self._key("frame", s, n) for s, n in wanted]) if wanted else []
        except redis.RedisError:
            raw = []
        for (source, name), data in zip(wanted, raw):
            self._records[(source, name)] = (versions[source], _decode_table(data).to_pylist() if data else [])
        read = [s for s in self.sources if versions.get(s)]
        return {name: [row for s in read for row in self._records.get((s, name), (0, []))[1]] for name in names}

    def _read_ahead(self, names: list[str], versions: dict[str, int]) -> None:
        """Decode every source's ``names`` not decoded at ``versions`` yet, read in one round trip, by one thread at
        a time (threads reaching new versions together read them once); while Redis is away nothing (each is read
        on its own, giving the version decoded before)."""
        with self._one_at_a_time("read-ahead"):
            wanted = [
                (source, name)
                for name in names
                for source in self.sources
                if versions.get(source) and self._decoded.get((source, name), (None,))[0] != versions[source]
            ]
            if not wanted:
                return
            try:
                raw = self.cache.get_many(*[self._key("frame", s, n) for s, n in wanted])
            except redis.RedisError:
                return
            for (source, name), data in zip(wanted, raw):
                with self._one_at_a_time((source, name)):
                    if self._decoded.get((source, name), (None,))[0] != versions[source]:
                        self._decoded[(source, name)] = (versions[source], decode_frame(data) if data else None)

    def _select(self, name: str, versions: dict[str, int], key: tuple, services: tuple[str, ...]) -> pd.DataFrame:
        """The rows of ``services`` in frame ``name`` of every source, kept for the ``SELECTED`` latest asked."""
        with self._selected_lock:
            cached = self._selected.get((name, services))
            if cached and cached[0] == key:
                self._selected.move_to_end((name, services))
                return cached[1]
        found, failed = [], False
        for source in (s for s in self.sources if versions.get(s)):  # most sources have no such frame: None
            try:
                part = self._rows(source, name, versions[source], list(services))
            except (redis.RedisError, Rewritten):
                failed = True
                continue
            if part is not None and len(part):
                found.append(part)
        rows = pd.concat(found, ignore_index=True) if len(found) > 1 else (found[0] if found else empty_frame(name))
        if not failed:  # a read that failed is not kept: the next one may succeed
            with self._selected_lock:
                self._selected[(name, services)] = (key, rows)
                while len(self._selected) > SELECTED:
                    self._selected.popitem(last=False)
        return rows

    def _combine(self, name: str, versions: dict[str, int], key: tuple) -> pd.DataFrame:
        cached = self._combined.get(name)
        if cached and cached[0] == key:
            return cached[1]
        parts = [f for s in self.sources if versions.get(s) and (f := self.read(s, name, versions[s])) is not None]
        parts = [p for p in parts if len(p)]
        combined = pd.concat(parts, ignore_index=True) if len(parts) > 1 else (parts[0] if parts else empty_frame(name))
        if all(self._decoded.get((s, name), (None,))[0] == versions[s] for s in self.sources if versions.get(s)):
            self._combined[name] = (key, combined)  # not when a version decoded before stood in for one not read
        return combined


def open_store(
    redis_url: str | None, deployment: str, sources: Iterable[str], limit_mb: float = FRAME_LIMIT_MB
) -> FrameStore:
    """Open the store on Redis when a URL is given, else on the local in-process backend; no value written
    is over ``limit_mb`` megabytes."""
    if redis_url:
        client = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        cache = RedisFrameCache(host=client, default_timeout=0)
    else:
        cache = LocalFrameCache()
    return FrameStore(cache, deployment, sources, limit_mb)
