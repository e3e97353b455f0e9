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
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd

from dashboard.core import metrics
from dashboard.core.derived import DerivedFrames
from dashboard.core.leases import MIN_LEASE_S, grace_s, leases_for, renewing
from dashboard.core.offers import config_frames
from dashboard.core.status import after_attempt, status_frame
from dashboard.core.store import CONFIG_SOURCE, FrameStore, FrameTooLarge
from dashboard.security.redact import redact
from datasources.base import ContractError, Source, poll_deadline, validate

log = logging.getLogger(__name__)
HISTORY_FRAMES = ("incidents", "changes", "chaos_runs")
MAX_BACKOFF_FACTOR = 16
HISTORY_QUEUE_LIMIT = 10_000
STOP_GRACE_S = 3.0  # how long a stopping poller waits for polls in flight


def backoff_s(interval_s: float, failures: int) -> float:
    """Delay before the next attempt after ``failures`` consecutive failures."""
    return interval_s * min(2**failures, MAX_BACKOFF_FACTOR)


def utcnow() -> datetime:
    return datetime.now(UTC)


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

    def __init__(
        self,
        sources: list[Source],
        store: FrameStore,
        history=None,
        leases=None,
        clock: Callable[[], datetime] = utcnow,
        derived: DerivedFrames | None = None,
    ):
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
            errors.append(f"{type(exc).__name__}: {exc}")
            fetched = {}
        for name, frame in fetched.items():
            try:
                frames[name] = validate(name, frame, source.max_rows)
            except ContractError as exc:
                errors.append(f"{source.name}: {exc}")
        if frames:
            try:
                self.store.write(source.name, frames)
            except FrameTooLarge as exc:  # those frames keep their last good versions
                errors.append(str(exc))
                frames = {name: frame for name, frame in frames.items() if name not in exc.names}
        status = after_attempt(
            previous,
            source=source.name,
            kind=source.kind,
            interval_s=source.interval_s,
            started=started,
            errors=errors,
            rows=int(sum(len(f) for f in frames.values())),
            duration_ms=(time.perf_counter() - t0) * 1000,
            frames=list(frames),
            offers=list(source.offers(source.options)),
            warnings=source.warnings() if not errors else [],
        )
        self.store.set_status(source.name, status)
        metrics.observe_poll(source.name, status["duration_ms"] / 1000, status["ok"])
        if not status["ok"]:
            log.warning("source %s failed (%d in a row): %s", source.name, status["failures"], status["error"])
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
                raise TimeoutError(
                    f"the previous poll of {source.name} is still running, past its deadline of "
                    f"{seconds:g} s (poll_timeout_s)"
                )
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
        """Poll until stopped, each source on a thread of its own: a slow source delays no other. Once
        stopped, polls in flight get ``STOP_GRACE_S`` to finish; one still running then (a hung source,
        a model being learnt) is abandoned with its daemon thread, and its lease lapses."""
        jobs = [
            threading.Thread(
                target=self._run_source, args=(source, tick_s), name=f"opscenter-poll-{source.name}", daemon=True
            )
            for source in self.sources
        ]
        for job in jobs:
            job.start()
        self._stop.wait()
        deadline = time.monotonic() + STOP_GRACE_S
        for job in jobs:
            job.join(max(0.0, deadline - time.monotonic()))

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
