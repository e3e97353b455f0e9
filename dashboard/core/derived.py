"""Frames the poller derives after a poll: anomalies and daily utilisation peaks, and the wall's views.

After a source returns metric frames, the step judges them with the source's anomaly
model and takes the daily peaks from its history plus the new frames, then writes both
under the name ``derived:<source>``; readers concatenate them like any source's frames.
The model is learnt from ``Source.history()`` -- ``HISTORY_DAYS`` ending where the polled
window begins, at the source's own resolution or, for an estate too large for
``LEARN_POINTS``, a coarser step -- and relearnt every ``RELEARN_S``. Learning runs on a thread of its own
(minutes at 1,000 services): the model before it judges the polls meanwhile, and before the first one a
poll waits for it at most ``first_wait_s`` (a serving poller: not at all, so neither the source's polls
nor the wall's views wait; its status says nothing is judged yet); a source without
history yields no anomalies. A failed history read is the step's failure in its status
record, never the poll's; it is asked again after ``HISTORY_RETRY_S`` at the earliest, and
meanwhile the model learnt before it (if any) keeps judging. Learning and judging read the trading calendar with the
closures the config declares as they stand at that moment (``closures``). The model lives in the poller
process that polls the source, which sticky leases keep the same one.

Given the history database, the step also keeps the daily peaks there (``dashboard.db.peaks``): each
poll raises the days its window touches, each (re)learn writes the days its history holds (those it
holds whole marked complete), and once a local day, a backfill reads from ``Source.history()`` day by
day, at the learning's step, whatever of the last ``PEAK_DAYS`` is not complete yet, and prunes the days
past the retention. The same read of a day gives each chain's SLO hours (``dashboard.db.slo_hours``) of
the days of the budget's window not read yet for them, so the budget spans 30 days from the first poll on
(given the ``chains`` frame in the store; without it, the backfill is tried again after ``HISTORY_RETRY_S``).
A peaks or SLO problem (the database away, a failed backfill read) is in the step's status record; a failed
backfill is tried again after ``HISTORY_RETRY_S``.

Given the health rules, the step also computes the wall's views (``analytics.wallframes``: health,
roll-up with its reasons, site shares and states, sparklines, the requests availability is computed from,
the tile model in each language as the browser receives it (``analytics.wallmodel``: tiles, chains, header,
sites and budget badges, the last from the SLO figures derived with it), the lists of
incidents, alerts, changes and chaos runs, and the events MTTA, MTTR and the change and chaos rates are
computed from, MTTA with opscenter's acknowledgements from the history database) after every poll that
delivered a frame they read, from the store's frames of every source, and writes them with the versions
they come from under the reserved name ``derived`` with a status record of their own; a web worker then
formats them instead of computing them. With them it writes ``freeze_breaches`` (``analytics.freeze``: the
changes and chaos runs made during a change freeze, under the rules ``freeze`` gives as they stand then),
which only the poller computes, and each chain's SLO figures (``analytics.slo``: ``slo_status`` and
``slo_days``), the polled window's hours kept in the history database first so that the budget's 30 days
outlive the poller; while the database does not answer, the budget spans the polled window (a logged
warning, as for the acknowledgements).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

import pandas as pd

from dashboard.analytics import anomaly, capacity, freeze, slo, wallframes
from dashboard.command import actions
from dashboard.core.status import after_attempt
from dashboard.core.store import DERIVED_SOURCE, FrameStore, derived_source
from dashboard.db import peaks as stored_peaks
from dashboard.db import slo_hours
from datasources.base import DERIVED_FRAMES, METRIC_FRAMES, SLO_FRAMES, VIEW_FRAMES, Source, empty_frame, validate

log = logging.getLogger(__name__)
HISTORY_DAYS = 7
LEARN_POINTS = 20_000_000  # history points a model learns from at most: bounds a poller's memory (about 2 GB)
RELEARN_S = 3600.0
HISTORY_RETRY_S = 300.0  # a failed history read is not asked again sooner: a week of queries is heavy
LEARNING = threading.Lock()  # one learning at a time in a process: several sources' would add up their memory
PEAK_DAYS = capacity.TREND_DAYS  # the completed days whose peaks the backfill keeps whole in the database


class HistoryUnavailable(Exception):
    """The source's history could not be read, and no model learnt before stands in for it."""


class Learning(HistoryUnavailable):
    """The source's first model is being learnt: nothing is judged until it is."""


class DerivedFrames:
    """Keep one anomaly model and history per source; derive and store after each metrics poll."""

    def __init__(
        self,
        store: FrameStore,
        history=None,
        history_days: float = HISTORY_DAYS,
        relearn_s: float = RELEARN_S,
        retry_s: float = HISTORY_RETRY_S,
        peak_days: int = PEAK_DAYS,
        health: dict | None = None,
        closures: Callable[[], tuple] = tuple,
        freeze_rules: Callable[[], freeze.Rules] = freeze.Rules,
        slo_settings: slo.SloSettings | None = None,
        first_wait_s: float | None = None,
    ):
        self.store, self.history_days, self.relearn_s, self.retry_s = store, history_days, relearn_s, retry_s
        self.health = health  # the config's health rules: given, the wall's views are derived too
        self.history, self.peak_days = history, peak_days  # history: a dashboard.db.history.History, or None
        self.closures = closures  # the declared closures (analytics.calendar.Closure) as they stand now
        self.freeze_rules = freeze_rules  # what is frozen (analytics.freeze.Rules), declared closures as they stand
        self.slo = slo_settings or slo.SloSettings()  # the chains' objectives, derived with the wall's views
        self._learnt: dict[str, tuple[float, anomaly.Model, pd.DataFrame]] = {}
        self._failed: dict[str, tuple[float, str]] = {}  # per source: when its history read failed, and why
        self._learnt_span: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}  # history just learnt, peaks unkept
        self._backfilled: dict[str, tuple[pd.Timestamp, bool, float]] = {}  # per source: local day, ok, when
        self.first_wait_s = first_wait_s  # how long a poll waits for a source's first model (None: until learnt)
        self._relearnt: dict[str, tuple] = {}  # per source: a model learnt in the background, not yet adopted
        self._learning: dict[str, threading.Thread] = {}  # per source: its latest learning
        # One derivation at a time: sources poll on threads of their own.
        self._lock = threading.Lock()

    def _model(
        self, source: Source, window_start: pd.Timestamp, metrics: dict[str, pd.DataFrame]
    ) -> tuple[anomaly.Model, pd.DataFrame, str | None]:
        """The source's model and past peaks, and why the last history read failed (None: it did not);
        HistoryUnavailable while there is no model. A (re)learn, when due, runs on a thread of its own: the
        model before it judges meanwhile and the new one takes over at the poll after it ends; the first one
        is waited for up to ``first_wait_s``."""
        running = self._learning.get(source.name)
        busy = _alive(running)  # first: a learning that ends now has left its result for ``_adopt`` already
        self._adopt(source.name)
        learnt, failed = self._learnt.get(source.name), self._failed.get(source.name)
        due = learnt is None or time.monotonic() - learnt[0] > self.relearn_s
        if due and (failed is None or time.monotonic() - failed[0] > self.retry_s) and not busy:
            start, step_s = (
                window_start - pd.Timedelta(days=self.history_days),
                learn_step_s(metrics, self.history_days),
            )
            running = threading.Thread(
                target=self._learn,
                args=(source, start, window_start, step_s),
                name=f"learn-{source.name}",
                daemon=True,  # a poller that stops does not wait for a learning
            )
            self._learning[source.name] = running
            running.start()
        if learnt is None:
            if _alive(running):
                running.join(self.first_wait_s)
            self._adopt(source.name)
            learnt, failed = self._learnt.get(source.name), self._failed.get(source.name)
        if learnt is None:
            if failed:
                raise HistoryUnavailable(failed[1])
            raise Learning(f"learning from {self.history_days:g} days of history: nothing judged yet")
        if failed is not None:
            age_m = (time.monotonic() - learnt[0]) / 60
            return learnt[1], learnt[2], f"{failed[1]} (judged with the model learnt {age_m:.0f} min ago)"
        return learnt[1], learnt[2], None

    def _learn(self, source: Source, start: pd.Timestamp, end: pd.Timestamp, step_s: int | None) -> None:
        """Read the source's history from ``start`` to ``end`` and learn from it, one learning at a time in the
        process (each may take ``LEARN_POINTS`` of memory): the model waits in ``_relearnt`` for ``_adopt``, or
        the failure is kept in ``_failed``."""
        try:
            with LEARNING:
                history = source.history(start, end, step_s=step_s)
                peaks = capacity.daily_peaks(history.get("resource_metrics", empty_frame("resource_metrics")))
                model = anomaly.learn(history, closures=self.closures())
            self._relearnt[source.name] = (time.monotonic(), model, peaks, (start, end))
        except Exception as exc:  # the source's trouble or the history's: reported, retried later, never the poll's
            self._failed[source.name] = (time.monotonic(), f"history of {source.name}: {type(exc).__name__}: {exc}")
            log.warning("%s", self._failed[source.name][1])

    def _adopt(self, name: str) -> None:
        """Let a model learnt since the last poll judge from now on (in the derivation, so one poll reads one
        model and its peaks)."""
        if (relearnt := self._relearnt.pop(name, None)) is not None:
            self._learnt[name], self._learnt_span[name] = relearnt[:3], relearnt[3]
            self._failed.pop(name, None)

    def settle(self, timeout_s: float | None = None) -> None:
        """Wait for the learning running in the background to end."""
        for thread in list(self._learning.values()):
            thread.join(timeout_s)

    def after_poll(self, source: Source, frames: dict[str, pd.DataFrame], now: datetime) -> None:
        """Derive from the frames of one poll and write the results: anomalies and peaks from its metric
        frames, then the wall's views when it delivered (or the step derived) a frame they read."""
        metrics = {name: frames[name] for name in METRIC_FRAMES if name in frames and len(frames[name])}
        views = self.health is not None and bool(metrics or set(frames) & set(wallframes.INPUTS))
        if not (metrics or views):
            return
        with self._lock:
            if metrics:
                self._derive(source, metrics, now)
            if views:
                self._derive_views(source.interval_s, now)

    def _derive_views(self, interval_s: float, now: datetime) -> None:
        """Compute the wall's views from the store's frames as they are now, and write them with their basis
        under ``derived``; a failure keeps the views written last (the wall computes its own while it fails)."""
        t0 = time.perf_counter()
        try:
            versions = {s: v for s, v in self.store.versions().items() if s != DERIVED_SOURCE}
            read = lambda name: self.store.frame(name, versions)  # noqa: E731
            budgets = self._slo(read, pd.Timestamp(now))
            views = wallframes.compute(
                read, self.health, self._acknowledgements(), self.closures(), budgets["slo_status"]
            )
            views["freeze_breaches"] = freeze.breaches(
                read("changes"), read("chaos_runs"), read("chains"), self.freeze_rules()
            )
            views["view_basis"] = wallframes.basis(versions, self.health)
            views |= budgets
            frames, errors = (
                {name: validate(name, frame if len(frame) else empty_frame(name)) for name, frame in views.items()},
                [],
            )
            self.store.write(DERIVED_SOURCE, frames)
        except Exception as exc:  # a derivation problem must not stop polling
            log.exception("deriving the wall's views failed")
            frames, errors = {}, [f"{type(exc).__name__}: {exc}"]
        self._record(DERIVED_SOURCE, interval_s, now, errors, frames, VIEW_FRAMES + SLO_FRAMES, t0)

    def _slo(self, read: Callable[[str], pd.DataFrame], now: pd.Timestamp) -> dict[str, pd.DataFrame]:
        """``slo_status`` and ``slo_days`` from the polled window's in-session events and, given the history
        database, the hours kept there (the window's hours written first); while the database does not answer,
        the budget spans the polled window (as the views go on without opscenter's acknowledgements)."""
        recent = slo.events(read("service_metrics"), read("chains"), self.slo, self.closures())
        hours = slo.hourly(recent)
        if self.history is not None:
            try:
                slo_hours.upsert(self.history.engine, hours)
                since = now - pd.Timedelta(days=self.slo.window_days + 1)
                hours = slo.merge_hours(slo_hours.read(self.history.engine, since), hours)
                slo_hours.prune(self.history.engine, now - pd.Timedelta(days=slo_hours.RETENTION_DAYS))
            except Exception as exc:  # the database away: the next poll writes the hours its window holds
                log.warning("SLO hours not kept, the budget spans the polled window: %s", exc)
        days = slo.window(slo.daily(hours, self.slo), now, self.slo)
        status = slo.status(recent, days, read("chains"), now, self.slo)
        return {"slo_status": status, "slo_days": days.reset_index(drop=True)}

    def _acknowledgements(self) -> pd.DataFrame | None:
        """opscenter's acknowledgements for MTTA; None without the history database or while it does not
        answer (MTTA from the sources alone, as the wall computes it then)."""
        if self.history is None:
            return None
        try:
            return actions.acknowledgements(self.history.engine)
        except Exception as exc:  # the database away: the views are derived all the same
            log.warning("opscenter's acknowledgements unread, MTTA from the sources alone: %s", exc)
            return None

    def _derive(self, source: Source, metrics: dict[str, pd.DataFrame], now: datetime) -> None:
        """Judge ``metrics``, take their peaks, and write both frames with their status record under
        ``derived:<source>``; a failure keeps the frames written last."""
        name, t0, pending = derived_source(source.name), time.perf_counter(), None
        try:
            window_start = min(frame["ts"].min() for frame in metrics.values())
            model, past_peaks, history_problem = self._model(source, window_start, metrics)
            recent_peaks = capacity.daily_peaks(metrics.get("resource_metrics", empty_frame("resource_metrics")))
            merged = validate("utilisation_peaks", capacity.merge_peaks(past_peaks, recent_peaks))
            frames = {"anomalies": anomaly.find(model, metrics, self.closures()), "utilisation_peaks": merged}
            errors = [history_problem] if history_problem else []
            if self.history is not None:  # first: the pages find what they see
                kept = []
                if "resource_metrics" in metrics:
                    kept = self._keep_peaks(source, past_peaks, merged, recent_peaks["day"].unique())
                errors += kept or self._backfill(source, metrics, now)  # the database away: no backfill either
            self.store.write(name, frames)
        except Learning as exc:
            frames, errors, pending = {}, [str(exc)], "learning"
        except HistoryUnavailable as exc:
            frames, errors = {}, [str(exc)]
        except Exception as exc:  # a derivation problem must not stop polling
            log.exception("deriving frames from %s failed", source.name)
            frames, errors = {}, [f"{type(exc).__name__}: {exc}"]
        self._record(name, source.interval_s, now, errors, frames, DERIVED_FRAMES, t0, pending)

    def _record(
        self,
        name: str,
        interval_s: float,
        now: datetime,
        errors: list[str],
        frames: dict[str, pd.DataFrame],
        offers: tuple[str, ...],
        t0: float,
        pending: str | None = None,
    ) -> None:
        """Write the status record of one derivation stored under ``name``, begun at ``t0`` (``pending``: what
        its failure waits for, ``status.StatusRecord``)."""
        self.store.set_status(
            name,
            after_attempt(
                self.store.status(name),
                source=name,
                kind=DERIVED_SOURCE,
                interval_s=interval_s,
                started=now,
                errors=errors,
                rows=int(sum(len(f) for f in frames.values())),
                duration_ms=(time.perf_counter() - t0) * 1000,
                frames=list(frames),
                offers=list(offers),
                pending=pending,
            ),
        )

    def _keep_peaks(self, source: Source, past: pd.DataFrame, merged: pd.DataFrame, recent_days) -> list[str]:
        """Write the peaks just learnt and those of the days the poll touched; the problem, if any."""
        try:
            engine, sites = self.history.engine, _sites(self.store.frame("instances"))
            span = self._learnt_span.get(source.name)
            if span is not None:
                whole = past["day"].isin(_whole_days(*span))
                stored_peaks.upsert(engine, source.name, past[whole], sites, complete=True)
                stored_peaks.upsert(engine, source.name, past[~whole], sites)
                del self._learnt_span[source.name]
            stored_peaks.upsert(engine, source.name, merged[merged["day"].isin(recent_days)], sites)
        except Exception as exc:  # the database away: the next poll and the next relearn write again
            log.warning("keeping the peaks of %s failed: %s", source.name, exc)
            return [f"peaks of {source.name} not kept: {type(exc).__name__}: {exc}"]
        return []

    def _backfill(self, source: Source, metrics: dict[str, pd.DataFrame], now: datetime) -> list[str]:
        """Once a local day (or ``retry_s`` after a failed pass, or one without chains), read from the source's
        history, one day at a time, the completed days still missing: of the last ``peak_days`` those whose peaks
        are not complete (given resource metrics), of the budget's window those whose SLO hours were not read
        (given service metrics of a service on a chain); prune the peaks past their retention; the problem, if any."""
        today = pd.Timestamp(now).tz_convert(capacity.PEAK_TZ).normalize()
        last = self._backfilled.get(source.name)
        if last is not None and (last[0] == today if last[1] else time.monotonic() - last[2] < self.retry_s):
            return []
        engine, step_s = self.history.engine, learn_step_s(metrics, self.history_days)  # a day: 1/7 of a learning
        chains = self.store.frame("chains") if "service_metrics" in metrics else empty_frame("chains")
        on_chains = bool(len(chains)) and chains["service"].isin(metrics["service_metrics"]["service"]).any()
        try:
            peak_days = (
                _missing(today, self.peak_days, lambda since: stored_peaks.complete_days(engine, source.name, since))
                if "resource_metrics" in metrics
                else []
            )
            slo_days = (
                _missing(today, self.slo.window_days, lambda since: slo_hours.days_read(engine, source.name, since))
                if on_chains  # a source none of whose services is on a chain has no SLO hours to give
                else []
            )
            sites = _sites(self.store.frame("instances")) if peak_days else None
            for day in sorted({*peak_days, *slo_days}):
                end = day + pd.DateOffset(days=1)
                history = source.history(day.tz_convert("UTC"), end.tz_convert("UTC"), step_s=step_s)
                if day in peak_days:
                    peaks = capacity.daily_peaks(history.get("resource_metrics", empty_frame("resource_metrics")))
                    stored_peaks.upsert(engine, source.name, peaks[peaks["day"] == day], sites, complete=True)
                if day in slo_days:
                    self._keep_slo_day(source.name, day, history.get("service_metrics"), chains)
            stored_peaks.prune(engine, (today - pd.Timedelta(days=stored_peaks.RETENTION_DAYS)).tz_convert("UTC"))
        except Exception as exc:  # the source or the database: tried again after retry_s
            self._backfilled[source.name] = (today, False, time.monotonic())
            log.warning("backfilling the peaks and SLO hours of %s failed: %s", source.name, exc)
            return [f"backfill of {source.name}: {type(exc).__name__}: {exc}"]
        chains_missing = "service_metrics" in metrics and not len(chains)  # the config not in the store yet
        self._backfilled[source.name] = (today, not chains_missing, time.monotonic())
        return []

    def _keep_slo_day(self, source: str, day: pd.Timestamp, metrics: pd.DataFrame | None, chains: pd.DataFrame):
        """Write each chain's SLO hours of the local ``day`` from its ``metrics`` (read from ``source``'s
        history) and mark the day read, unless the history holds nothing of it (asked again the next day)."""
        if metrics is None or metrics.empty:
            return
        hours = slo.hourly(slo.events(metrics, chains, self.slo, self.closures()))
        slo_hours.upsert(self.history.engine, hours)
        slo_hours.mark_read(self.history.engine, source, day.tz_convert("UTC"))


def _alive(thread: threading.Thread | None) -> bool:
    return thread is not None and thread.is_alive()


def _missing(today: pd.Timestamp, count: int, done: Callable[[pd.Timestamp], set]) -> list[pd.Timestamp]:
    """The last ``count`` completed local days before ``today`` whose UTC start is not in ``done(first day)``."""
    days = pd.date_range(end=today - pd.Timedelta(days=1), periods=count, freq="D")
    if not len(days):
        return []
    complete = done(days[0].tz_convert("UTC"))
    return [day for day in days if day.tz_convert("UTC") not in complete]


def _sites(instances: pd.DataFrame) -> pd.Series:
    """Instance to site, from the ``instances`` frame."""
    return instances.drop_duplicates("instance", keep="last").set_index("instance")["site"]


def _whole_days(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """The local days (their UTC start) that lie whole within [start, end)."""
    first = pd.Timestamp(start).tz_convert(capacity.PEAK_TZ).ceil("D")
    days = pd.date_range(first, pd.Timestamp(end).tz_convert(capacity.PEAK_TZ), freq="D")
    return days[days + pd.DateOffset(days=1) <= end].tz_convert("UTC")


def learn_step_s(metrics: dict[str, pd.DataFrame], days: float) -> int | None:
    """The history step, in whole minutes, that keeps learning within ``LEARN_POINTS`` for the series
    in ``metrics``; None when the source's own resolution fits."""
    series = 0
    for name, frame in metrics.items():
        keys = ["service", "instance"] if name == "resource_metrics" else ["service"]
        series += len(frame[keys].drop_duplicates()) * sum(m.frame == name for m in anomaly.METRICS)
    step_s = series * days * 86400 / LEARN_POINTS
    return None if step_s <= 60 else int(-(-step_s // 60) * 60)
