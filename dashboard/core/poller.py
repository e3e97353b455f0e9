"""The poller: one job per source, each run in one place at a time.

A job runs when its lease can be claimed. The lease is renewed while the poll runs
and then lasts the rest of the interval (or the back-off after a failure), so across
any number of pollers sharing a store a source is polled once per interval, never
twice at once however long a poll takes. Leases are sticky: a source stays with the
poller that polls it, and a dead poller's jobs are taken over by the next one to try
within an interval and a grace of at most ``MAX_GRACE_S``. Each source is polled on a
thread of its own, so a slow one delays no other. Failures keep the last good frames.

History writes that fail (the database away) wait in a bounded queue, in order, and
are written before anything newer once the database answers again; source errors are
redacted before they are stored anywhere.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable

import pandas as pd
import redis

from dashboard.core import metrics
from dashboard.security.redact import redact
from dashboard.core.derived import METRIC_FRAMES, DerivedFrames
from dashboard.core.store import CONFIG_SOURCE, FrameStore, RedisFrameCache
from datasources import registry
from datasources.base import DERIVED_FRAMES, ContractError, Source, poll_deadline, validate

log = logging.getLogger(__name__)
HISTORY_FRAMES = ("incidents", "changes", "chaos_runs")
MAX_BACKOFF_FACTOR = 16
MIN_LEASE_S = 0.001  # a poll that outlasted its interval leaves its source due at once
MAX_GRACE_S = 5.0  # a lease's holder polls well within this of falling due (ticks are 0.5 s)
HISTORY_QUEUE_LIMIT = 10_000


class LocalLeases:
    """Leases held in this process (the embedded default)."""

    def __init__(self):
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def claim(self, name: str, seconds: float) -> bool:
        with self._lock:
            now = time.monotonic()
            if self._until.get(name, 0.0) > now:
                return False
            self._until[name] = now + seconds
            return True

    def hold(self, name: str, seconds: float, grace: float | None = None) -> None:
        """Hold the lease for ``seconds`` (one poller per process: no grace is needed)."""
        with self._lock:
            self._until[name] = time.monotonic() + seconds


class RedisLeases:
    """Leases in Redis, shared by every poller of a deployment, and sticky: a lease lasts
    ``seconds`` plus a grace (``grace_s``) in which only its holder may claim it again, so a
    source stays with the poller that polls it (and keeps its anomaly model there) until that
    poller stops; then the next one to try takes it over."""

    # KEYS[1] the lease; ARGV: owner, seconds (ms), grace (ms), whether to claim (1) or hold (0).
    # The value is "<owner> <due, ms of Redis' clock>"; claiming needs no holder, or the caller
    # holding it and the lease being due.
    SCRIPT = """
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
local held = redis.call('GET', KEYS[1])
if ARGV[4] == '1' and held then
  local owner, due = string.match(held, '^(%S+) (%d+)$')
  if owner ~= ARGV[1] or now < tonumber(due) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. (now + tonumber(ARGV[2])), 'PX', tonumber(ARGV[2]) + tonumber(ARGV[3]))
return 1
"""

    def __init__(self, client: redis.Redis, prefix: str):
        self.client, self.prefix, self.owner = client, prefix, uuid.uuid4().hex
        self._script = client.register_script(self.SCRIPT)

    def _run(self, name: str, seconds: float, grace: float, claim: bool) -> bool:
        return bool(self._script(keys=[f"{self.prefix}lease:{name}"],
                                 args=[self.owner, max(int(seconds * 1000), 1), int(grace * 1000), int(claim)]))

    def claim(self, name: str, seconds: float) -> bool:
        return self._run(name, seconds, grace_s(seconds), claim=True)

    def hold(self, name: str, seconds: float, grace: float | None = None) -> None:
        """Hold the lease for ``seconds``, then for ``grace`` (default ``grace_s(seconds)``) only for its holder."""
        self._run(name, seconds, grace_s(seconds) if grace is None else grace, claim=False)


def grace_s(seconds: float) -> float:
    """How long after a lease falls due only its holder may claim it: half its length, at most ``MAX_GRACE_S``."""
    return min(seconds / 2, MAX_GRACE_S)


def leases_for(store: FrameStore):
    """Return the lease kind matching the store's backend."""
    if isinstance(store.cache, RedisFrameCache):
        return RedisLeases(store.cache._write_client, store.prefix)
    return LocalLeases()


@contextmanager
def renewing(leases, name: str, seconds: float):
    """Renew lease ``name`` for ``seconds`` every half of that while the block runs, so a poll longer
    than its interval still runs in one place, and a poller that dies loses the lease within ``seconds``."""
    done = threading.Event()

    def renew():
        while not done.wait(seconds / 2):
            leases.hold(name, seconds)

    renewal = threading.Thread(target=renew, name=f"opscenter-lease-{name}", daemon=True)
    renewal.start()
    try:
        yield
    finally:
        done.set()
        renewal.join()


def backoff_s(interval_s: float, failures: int) -> float:
    """Delay before the next attempt after ``failures`` consecutive failures."""
    return interval_s * min(2 ** failures, MAX_BACKOFF_FACTOR)


def config_frames(chains: list[dict]) -> dict[str, pd.DataFrame]:
    """Turn the config's business chains into a chains frame."""
    rows = [
        {"chain": c["chain"], "chain_name": c.get("name", c["chain"]), "step": i, "service": s}
        for c in chains for i, s in enumerate(c["steps"], start=1)
    ]
    return {"chains": validate("chains", pd.DataFrame(rows))} if rows else {}


def offered_frames(specs: list[dict], chains: list[dict]) -> frozenset[str]:
    """Every frame the configuration delivers once polled: its sources', the config's business chains,
    and the frames the poller derives from metrics."""
    frames = set().union(*(registry.offers(spec) for spec in specs)) | set(config_frames(chains))
    return frozenset(frames | set(DERIVED_FRAMES) if frames & set(METRIC_FRAMES) else frames)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class HistoryQueue:
    """History writes in order, kept while the database is away and flushed when it answers.

    ``add`` queues one write (a frame upsert or a status append) and tries to flush; a
    failed flush keeps every unwritten item, oldest first. Beyond ``limit`` items the oldest
    status appends are dropped first (counted in ``dropped``): entity upserts carry the
    incidents, changes and runs themselves and are kept longest.
    """

    def __init__(self, history, limit: int = HISTORY_QUEUE_LIMIT):
        self.history, self.limit = history, limit
        self._items: deque[tuple[str, pd.DataFrame]] = deque()
        self._lock = threading.Lock()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    def add(self, frame: str, df: pd.DataFrame) -> None:
        with self._lock:
            self._items.append((frame, df))
            while len(self._items) > self.limit:
                self._drop_one()

    def _drop_one(self) -> None:
        for i, (frame, _) in enumerate(self._items):
            if frame == "source_status":
                del self._items[i]
                break
        else:
            self._items.popleft()
        self.dropped += 1
        log.error("history queue full (%d): dropped its oldest write", self.limit)

    def flush(self) -> bool:
        """Write queued items oldest first; return True when the queue is empty."""
        with self._lock:
            while self._items:
                frame, df = self._items[0]
                try:
                    if frame == "source_status":
                        self.history.record_status(df)
                    else:
                        self.history.upsert(frame, df)
                except Exception as exc:  # the database is away: keep the item, try again later
                    log.warning("history write deferred (%d queued): %s", len(self._items), redact(str(exc)))
                    return False
                self._items.popleft()
            return True


class Poller:
    """Poll every source at its interval into the store, and into history when given."""

    def __init__(self, sources: list[Source], store: FrameStore, history=None, leases=None,
                 clock: Callable[[], datetime] = utcnow, derived: DerivedFrames | None = None):
        self.sources, self.store, self.history, self.clock = sources, store, history, clock
        self.history_queue = HistoryQueue(history) if history is not None else None
        self.derived = derived
        self.leases = leases or leases_for(store)
        self.after_polls: list[Callable[[datetime], object]] = []  # jobs run after each tick that polled
        self._fetching: dict[str, threading.Thread] = {}  # each source's latest fetch
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish_config(self, chains: list[dict]) -> None:
        """Write the frames the config itself provides (business chains)."""
        frames = config_frames(chains)
        if frames:
            self.store.write(CONFIG_SOURCE, frames)

    def tick(self) -> list[str]:
        """Poll every source whose lease can be claimed now; return the names polled."""
        return [source.name for source in self.sources if self._run_job(source)]

    def _run_job(self, source: Source) -> bool:
        """Poll ``source`` if its lease can be claimed now, then run the after-poll jobs; True if it polled."""
        if not self.leases.claim(source.name, source.interval_s):
            return False
        self.poll(source)
        for job in self.after_polls:
            job(self.clock())
        return True

    def poll(self, source: Source) -> dict:
        """Poll ``source`` once, holding its lease while the poll runs and then for the rest of its
        interval, or for the back-off after a failure; return its new status record."""
        started = time.monotonic()
        with renewing(self.leases, source.name, source.interval_s):
            status = self._attempt(source)
        grace = grace_s(source.interval_s)  # the grace of the interval, even when a long poll leaves little of it
        if status["ok"]:
            self.leases.hold(source.name, max(source.interval_s - (time.monotonic() - started), MIN_LEASE_S), grace)
        else:
            self.leases.hold(source.name, backoff_s(source.interval_s, status["failures"]), grace)
        return status

    def _attempt(self, source: Source) -> dict:
        """Fetch one source, validate and store its frames; return its new status record."""
        previous = self.store.status(source.name) or {}
        started = self.clock()
        t0 = time.perf_counter()
        frames, errors = {}, []
        try:
            fetched = self._fetch(source, started)
        except Exception as exc:  # any adapter failure marks the source, never the poller
            errors.append(redact(f"{type(exc).__name__}: {exc}"))
            fetched = {}
        for name, frame in fetched.items():
            try:
                frames[name] = validate(name, frame, source.max_rows)
            except ContractError as exc:
                errors.append(redact(f"{source.name}: {exc}"))
        if frames:
            self.store.write(source.name, frames)
        duration_ms = (time.perf_counter() - t0) * 1000
        ok = not errors
        failures = 0 if ok else int(previous.get("failures", 0)) + 1
        status = {
            "source": source.name, "kind": source.kind, "interval_s": source.interval_s,
            "last_attempt": started.isoformat(),
            "last_success": started.isoformat() if ok else previous.get("last_success"),
            "ok": ok, "error": "; ".join(errors) or None, "failures": failures,
            "rows": int(sum(len(f) for f in frames.values())), "duration_ms": round(duration_ms, 1),
            "frames": sorted(frames) or previous.get("frames", []),
            "offers": sorted(source.offers(source.options)),
        }
        self.store.set_status(source.name, status)
        metrics.observe_poll(source.name, duration_ms / 1000, ok)
        if not ok:
            log.warning("source %s failed (%d in a row): %s", source.name, failures, status["error"])
        self._record_history(frames, status)
        if self.derived is not None and frames:
            self.derived.after_poll(source, frames, started)
        return status

    def _fetch(self, source: Source, now: datetime) -> dict[str, pd.DataFrame]:
        """``source.fetch(now)`` within the poll's deadline (``Source.poll_deadline_s``), on a thread of its
        own. Past the deadline the poll has failed and its fetch is left behind; the transport ends its
        requests at the same deadline, and the next poll waits (within its own deadline) for it to end,
        so a source is never fetched twice at once."""
        seconds, started = source.poll_deadline_s(), time.monotonic()
        previous = self._fetching.get(source.name)
        if previous is not None:
            previous.join(seconds)
            if previous.is_alive():
                raise TimeoutError(f"the previous poll of {source.name} is still running, past its deadline of "
                                   f"{seconds:g} s (poll_timeout_s)")
        outcome: dict[str, object] = {}

        def fetch():
            with poll_deadline(seconds, started):
                try:
                    outcome["frames"] = source.fetch(now)
                except BaseException as exc:  # handed to the poll, which records it
                    outcome["error"] = exc

        thread = threading.Thread(target=fetch, name=f"opscenter-fetch-{source.name}", daemon=True)
        self._fetching[source.name] = thread
        thread.start()
        thread.join(max(seconds - (time.monotonic() - started), 0))
        if thread.is_alive():
            raise TimeoutError(f"the poll of {source.name} outlasted its deadline of {seconds:g} s (poll_timeout_s)")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["frames"]

    def _record_history(self, frames: dict[str, pd.DataFrame], status: dict) -> None:
        """Queue this poll's history writes and flush the queue; a database outage only delays them."""
        if self.history_queue is None:
            return
        for name in HISTORY_FRAMES:
            if name in frames and len(frames[name]):
                self.history_queue.add(name, frames[name])
        self.history_queue.add("source_status", status_frame([status]))
        self.history_queue.flush()

    def run(self, tick_s: float = 0.5) -> None:
        """Poll until stopped, each source on a thread of its own: a slow source delays no other."""
        jobs = [threading.Thread(target=self._run_source, args=(source, tick_s), name=f"opscenter-poll-{source.name}",
                                 daemon=True) for source in self.sources]
        for job in jobs:
            job.start()
        for job in jobs:
            job.join()

    def _run_source(self, source: Source, tick_s: float) -> None:
        while not self._stop.is_set():
            try:
                self._run_job(source)
            except Exception:  # the store may be briefly away; try again next tick
                log.exception("polling %s failed", source.name)
            self._stop.wait(tick_s)

    def start(self) -> None:
        """Run in a daemon thread (the embedded default)."""
        self._thread = threading.Thread(target=self.run, name="opscenter-poller", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)


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
