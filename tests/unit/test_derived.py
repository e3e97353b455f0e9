"""The poller's derived step: history asked at a step that bounds learning, anomalies and peaks written."""

import threading
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from dashboard.analytics.calendar import Closure
from dashboard.core import derived
from dashboard.core.derived import DerivedFrames, learn_step_s
from dashboard.core.settings import load
from dashboard.core.store import DERIVED_SOURCE, open_store
from datasources.base import DERIVED_FRAMES, METRIC_FRAMES
from datasources.demo import DemoSource

NOW = pd.Timestamp("2026-11-18 06:00", tz="UTC")  # 14:00 on a Wednesday in Shanghai


def _metrics(services: int) -> dict[str, pd.DataFrame]:
    frames = DemoSource(name="demo", options={"services": services, "window_h": 0.5}).fetch(NOW)
    return {name: frames[name] for name in METRIC_FRAMES}


def test_a_small_estate_learns_at_the_source_resolution():
    assert learn_step_s(_metrics(28), days=7) is None


def test_a_large_estate_learns_at_a_coarser_step_within_the_budget():
    metrics = _metrics(1000)
    series = metrics["service_metrics"]["service"].nunique() * 4 + metrics["resource_metrics"]["instance"].nunique() * 2
    step = learn_step_s(metrics, days=7)
    assert step is not None and step % 60 == 0
    assert series * 7 * 86400 / step <= derived.LEARN_POINTS < series * 7 * 86400 / (step - 60)


class RecordingDemo(DemoSource):
    """The demo source, remembering the step each history call asked for."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.steps = []

    before = None  # the source's history begins here (None: it holds every day)

    def history(self, start, end, step_s=None):
        self.steps.append(step_s)
        return super().history(max(start, self.before or start), end, step_s)


def test_the_derived_step_learns_once_and_writes_anomalies_and_peaks(monkeypatch):
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    store = open_store(None, "derived-test", ["demo"])
    source = RecordingDemo(name="demo", options={"window_h": 0.5})
    step = DerivedFrames(store, history_days=1)
    for minutes in (0, 1):
        frames = source.fetch(NOW + pd.Timedelta(minutes=minutes))
        step.after_poll(source, frames, NOW)
    assert len(source.steps) == 1 and source.steps[0] >= 60  # learnt once, at the step the budget allows
    assert store.status("derived:demo")["ok"] and store.status("derived:demo")["kind"] == DERIVED_SOURCE
    assert len(store.read("derived:demo", "utilisation_peaks")) > 0
    assert list(store.frame("anomalies").columns)[:3] == ["start", "end", "service"]


def test_sources_derived_in_different_pollers_are_kept_side_by_side(monkeypatch):
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    store = open_store(None, "derived-test", ["east", "west"])
    for name in ("east", "west"):  # each source with the derived step of its own poller
        source = RecordingDemo(name=name, options={"window_h": 0.5})
        DerivedFrames(store, history_days=1).after_poll(source, source.fetch(NOW), NOW)
    east, west = (store.read(f"derived:{name}", "utilisation_peaks") for name in ("east", "west"))
    assert len(east) > 0 and len(west) > 0
    assert len(store.frame("utilisation_peaks")) == len(east) + len(west)


def test_missing_values_from_a_source_do_not_break_the_derived_step(monkeypatch):
    """A scrape gap: no CPU for any instance at one minute, and an infinite memory reading."""
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    store = open_store(None, "derived-test", ["demo"])
    source = DemoSource(name="demo", options={"window_h": 0.5})
    frames = source.fetch(NOW)
    resources = frames["resource_metrics"]
    resources.loc[resources["ts"] == resources["ts"].max(), "cpu_ratio"] = float("nan")
    resources.loc[resources["ts"] == resources["ts"].min(), "memory_bytes"] = float("inf")
    DerivedFrames(store, history_days=1).after_poll(source, frames, NOW)
    status = store.status("derived:demo")
    assert status["ok"], status["error"]
    assert store.read("derived:demo", "utilisation_peaks")["cpu_ratio"].notna().all()


class LeakyHistoryDemo(DemoSource):
    """A demo source whose history read fails with a credential in its error text."""

    def history(self, start, end, step_s=None):
        raise RuntimeError("GET https://ops:hunter2@prometheus.example/api/v1/query_range: 503")


def test_a_failed_derivation_is_a_redacted_status_record_that_says_what_it_offers():
    store = open_store(None, "derived-status", ["demo"])
    source = LeakyHistoryDemo(name="demo", options={"services": 28, "window_h": 0.5})
    DerivedFrames(store).after_poll(source, _metrics(28), NOW.to_pydatetime())
    status = store.status("derived:demo")
    assert status["ok"] is False and status["failures"] == 1 and status["kind"] == DERIVED_SOURCE
    assert "hunter2" not in status["error"] and "RuntimeError" in status["error"]
    assert status["offers"] == sorted(DERIVED_FRAMES)


class FlakyHistoryDemo(RecordingDemo):
    """The demo source whose history read fails while ``failing`` is set."""

    failing = False

    def history(self, start, end, step_s=None):
        if self.failing:
            self.steps.append(step_s)
            raise ConnectionError("Prometheus away")
        return super().history(start, end, step_s)


def test_a_failed_history_read_is_retried_only_after_its_wait_and_never_fails_the_poll(monkeypatch):
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    store = open_store(None, "derived-retry", ["demo"])
    source = FlakyHistoryDemo(name="demo", options={"window_h": 0.5})
    source.failing = True
    waiting = DerivedFrames(store, history_days=1, retry_s=3600)
    for minutes in (0, 1):
        waiting.after_poll(source, source.fetch(NOW + pd.Timedelta(minutes=minutes)), NOW)
    status = store.status("derived:demo")
    assert len(source.steps) == 1  # the second poll did not ask again
    assert status["ok"] is False and status["failures"] == 2 and "history of demo: ConnectionError" in status["error"]
    assert store.read("derived:demo", "anomalies") is None  # nothing written
    source.failing = False
    DerivedFrames(store, history_days=1, retry_s=0).after_poll(source, source.fetch(NOW), NOW)
    assert store.status("derived:demo")["ok"] and len(store.read("derived:demo", "utilisation_peaks")) > 0


def test_a_failed_relearn_keeps_judging_with_the_model_learnt_before(monkeypatch):
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    store = open_store(None, "derived-keep", ["demo"])
    source = FlakyHistoryDemo(name="demo", options={"window_h": 0.5})
    step = DerivedFrames(store, history_days=1, relearn_s=0, retry_s=0)
    step.after_poll(source, source.fetch(NOW), NOW)
    first = store.versions()["derived:demo"]
    source.failing = True
    step.after_poll(source, source.fetch(NOW + pd.Timedelta(minutes=1)), NOW)  # the relearn starts
    step.settle()
    step.after_poll(source, source.fetch(NOW + pd.Timedelta(minutes=2)), NOW)
    status = store.status("derived:demo")
    assert status["ok"] is False and "judged with the model learnt 0 min ago" in status["error"]
    assert store.versions()["derived:demo"] > first  # the frames were written all the same


class SlowHistoryDemo(RecordingDemo):
    """The demo source whose history read waits for ``released`` once ``holding`` is set."""

    holding = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.released = threading.Event()

    def history(self, start, end, step_s=None):
        if self.holding:
            assert self.released.wait(60), "the history read was never released"
        return super().history(start, end, step_s)


def test_a_relearn_runs_beside_the_polls_which_the_model_before_it_judges_until_it_is_done(monkeypatch):
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    store = open_store(None, "derived-relearn", ["demo"])
    source = SlowHistoryDemo(name="demo", options={"window_h": 0.5})
    step = DerivedFrames(store, history_days=1, relearn_s=0)
    step.after_poll(source, source.fetch(NOW), NOW)
    first = step._learnt["demo"][1]
    source.holding = True
    for minutes in (1, 2):  # a relearn is due at each; the first one is still reading
        written = store.versions()["derived:demo"]
        step.after_poll(source, source.fetch(NOW + pd.Timedelta(minutes=minutes)), NOW)
        assert step._learnt["demo"][1] is first and store.status("derived:demo")["ok"]
        assert store.versions()["derived:demo"] > written  # judged and written meanwhile
    source.released.set()
    step.settle()
    assert len(source.steps) == 2  # the first learning and one relearn: one at a time
    step.after_poll(source, source.fetch(NOW + pd.Timedelta(minutes=3)), NOW)
    assert step._learnt["demo"][1] is not first


def test_a_serving_poller_judges_nothing_until_the_first_model_is_learnt_and_never_waits_for_it(monkeypatch):
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    store = open_store(None, "derived-first", ["demo"])
    source = SlowHistoryDemo(name="demo", options={"window_h": 0.5})
    source.holding = True
    step = DerivedFrames(store, history_days=1, first_wait_s=0)
    step.after_poll(source, source.fetch(NOW), NOW)
    status = store.status("derived:demo")
    assert status["ok"] is False and status["error"] == "learning from 1 days of history: nothing judged yet"
    assert store.read("derived:demo", "anomalies") is None
    source.released.set()
    step.settle()
    step.after_poll(source, source.fetch(NOW + pd.Timedelta(minutes=1)), NOW)
    assert store.status("derived:demo")["ok"] and store.read("derived:demo", "anomalies") is not None


def test_one_learning_at_a_time_in_a_process(monkeypatch):
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    store = open_store(None, "derived-one-at-a-time", ["a", "b"])
    first, second = (SlowHistoryDemo(name=name, options={"window_h": 0.5}) for name in ("a", "b"))
    first.holding = True
    step = DerivedFrames(store, history_days=1, first_wait_s=0)
    step.after_poll(first, first.fetch(NOW), NOW)
    step.after_poll(second, second.fetch(NOW), NOW)
    step._learning["b"].join(0.5)
    assert step._learning["b"].is_alive() and second.steps == []  # waiting for a's learning to end
    first.released.set()
    step.settle()
    assert len(first.steps) == len(second.steps) == 1


def _history(tmp_path):
    from dashboard.db.history import History

    history = History(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    history.migrate()
    return history


def test_peaks_are_kept_in_the_database_backfilled_once_and_found_after_a_restart(monkeypatch, tmp_path):
    """The first poll keeps the learnt day and today's peaks and backfills the other days; a restarted step
    finds them complete and asks the source for its learning history alone; re-running a day adds no row."""
    from dashboard.db import peaks

    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    history = _history(tmp_path)
    source = RecordingDemo(name="demo", options={"window_h": 0.5})
    frames = source.fetch(NOW)
    DerivedFrames(open_store(None, "peaks-a", ["demo"]), history, history_days=1, peak_days=4).after_poll(
        source, frames, NOW
    )
    today = NOW.tz_convert("Asia/Shanghai").normalize()
    days = [(today - pd.Timedelta(days=k)).tz_convert("UTC") for k in range(4, -1, -1)]
    stored = peaks.read(history.engine, days[0])
    assert sorted(stored["day"].unique()) == days
    assert peaks.complete_days(history.engine, "demo", days[0]) == set(days[:-1])  # today is not over
    assert len(source.steps) == 1 + 4  # learning (no whole day in its 24 hours), then each completed day
    instances = frames["resource_metrics"]["instance"].nunique()
    assert stored.groupby("day")["instance"].nunique().tolist() == [instances] * 5
    assert stored["x_site"].isna().all()  # no instances frame in the store: not placed

    restarted = RecordingDemo(name="demo", options={"window_h": 0.5})
    store = open_store(None, "peaks-b", ["demo"])
    store.write("demo", {"instances": frames["instances"]})
    DerivedFrames(store, history, history_days=1, peak_days=4).after_poll(restarted, frames, NOW)
    assert len(restarted.steps) == 1  # learning only: every completed day is complete already
    again = peaks.read(history.engine, days[0])
    assert len(again) == len(stored) and not again.duplicated(["x_source", "day", "instance"]).any()
    assert again.loc[again["day"] >= days[-2], "x_site"].notna().all()  # the days written again are placed
    assert (again["cpu_ratio"] >= stored["cpu_ratio"]).all()
    assert store.status("derived:demo")["ok"]
    history.close()


class AwayHistory:
    """A history database that is not there."""

    @property
    def engine(self):
        raise ConnectionError("database away")


def test_peaks_the_database_cannot_keep_are_a_status_error_not_a_lost_poll(monkeypatch):
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    store = open_store(None, "peaks-away", ["demo"])
    source = DemoSource(name="demo", options={"window_h": 0.5})
    DerivedFrames(store, AwayHistory(), history_days=1).after_poll(source, source.fetch(NOW), NOW)
    status = store.status("derived:demo")
    assert status["ok"] is False and "peaks of demo not kept: ConnectionError" in status["error"]
    assert len(store.read("derived:demo", "utilisation_peaks")) > 0  # the frames are written all the same


def test_a_source_without_resource_metrics_asks_no_backfill(monkeypatch, tmp_path):
    from dashboard.db import peaks

    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    history = _history(tmp_path)
    source = RecordingDemo(name="demo", options={"window_h": 0.5})
    frames = {"service_metrics": source.fetch(NOW)["service_metrics"]}
    DerivedFrames(open_store(None, "peaks-none", ["demo"]), history, history_days=1).after_poll(source, frames, NOW)
    assert len(source.steps) == 1  # learning alone
    assert peaks.read(history.engine, NOW - pd.Timedelta(days=40)).empty
    history.close()


def test_the_wall_views_are_derived_after_a_poll_of_a_frame_they_read_and_only_then():
    store = open_store(None, "views-test", ["metrics", "alerts", "itsm", "requests"])
    step = DerivedFrames(store, history_days=1, health=load().health)
    frames = DemoSource(name="demo", options={"window_h": 0.5}).fetch(NOW)
    for name, polled in (
        ("metrics", METRIC_FRAMES + ("services",)),
        ("alerts", ("alerts",)),
        ("itsm", ("incidents", "changes")),
    ):
        store.write(name, {f: frames[f] for f in polled})
        before = store.versions()[DERIVED_SOURCE]
        step.after_poll(DemoSource(name=name), {f: frames[f] for f in polled}, NOW)
        assert store.versions()[DERIVED_SOURCE] > before, name
        assert store.status(DERIVED_SOURCE)["ok"] and store.status(DERIVED_SOURCE)["kind"] == DERIVED_SOURCE
    basis = store.frame("view_basis")
    assert dict(zip(basis["source"], basis["version"])) == {
        s: v for s, v in store.versions().items() if s != DERIVED_SOURCE
    }
    assert len(store.frame("wall_incidents")) and len(store.frame("wall_changes"))
    store.write("requests", {"service_requests": frames["service_requests"]})
    before = store.versions()[DERIVED_SOURCE]
    step.after_poll(DemoSource(name="requests"), {"service_requests": frames["service_requests"]}, NOW)
    assert store.versions()[DERIVED_SOURCE] == before  # service requests: nothing the views read
    assert len(store.frame("service_status")) == frames["services"]["service"].nunique()


def test_learning_and_judging_read_the_closures_as_they_stand(monkeypatch):
    """A closure declared after the model was learnt is judged with at the next poll."""
    seen = []
    for name, real in (("learn", derived.anomaly.learn), ("find", derived.anomaly.find)):

        def spy(*args, _real=real, _name=name, **kwargs):
            seen.append((_name, args, kwargs))
            return _real(*args, **kwargs)

        monkeypatch.setattr(derived.anomaly, name, spy)
    typhoon = Closure("cn", NOW - pd.Timedelta(hours=1), NOW + pd.Timedelta(hours=1), "Typhoon signal")
    declared = [()]
    step = DerivedFrames(open_store(None, "derived-closures", ["demo"]), history_days=1, closures=lambda: declared[0])
    source = DemoSource(name="demo", options={"window_h": 0.5})
    step.after_poll(source, source.fetch(NOW), NOW)
    declared[0] = (typhoon,)
    step.after_poll(source, source.fetch(NOW), NOW)
    learnt, first, second = seen
    assert learnt[0] == "learn" and learnt[2]["closures"] == ()
    assert (first[0], first[1][2], second[0], second[1][2]) == ("find", (), "find", (typhoon,))


def test_the_freeze_breaches_are_derived_with_the_views_under_the_rules_given():
    from dashboard.analytics import freeze

    store = open_store(None, "freeze-test", ["itsm"])
    window = freeze.Window("All day", NOW - pd.Timedelta(days=40), NOW + pd.Timedelta(days=2))
    step = DerivedFrames(
        store, history_days=1, health=load().health, freeze_rules=lambda: freeze.Rules(windows=(window,))
    )
    frames = DemoSource(name="demo", options={"window_h": 0.5}).fetch(NOW)
    polled = {f: frames[f] for f in ("changes", "chaos_runs")}
    store.write("itsm", polled)
    step.after_poll(DemoSource(name="itsm"), polled, NOW)
    breaches = store.frame("freeze_breaches")
    assert "freeze_breaches" in store.status(DERIVED_SOURCE)["frames"]
    made = frames["changes"][frames["changes"]["actual_start"].notna()]
    assert set(made["change_id"]) <= set(breaches["id"])  # every change made lies in the window
    assert set(frames["chaos_runs"]["run_id"]) <= set(breaches["id"])
    assert (breaches["reason"] == "window").all()
    assert set(breaches.loc[~breaches["flagged"], "type"]) == {"emergency"}


def test_slo_status_is_derived_with_the_views_and_its_hours_outlive_a_restart(monkeypatch, tmp_path):
    """14:00 on a Wednesday: the order-gateway episode (13:35 to 14:07) spends equity trading's budget; a
    restarted step polled after the close, its window holding no session minute, still counts those hours."""
    from dashboard.db import slo_hours

    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    history, settings = _history(tmp_path), load()
    today = replace(settings.slo, window_days=1)  # the budget of today alone (yesterday backfilled, outside it)
    source = DemoSource(name="demo", options={"window_h": 1})
    store = open_store(None, "slo-a", ["demo"])
    frames = source.fetch(NOW)
    store.write("demo", frames)
    DerivedFrames(store, history, history_days=1, peak_days=1, health=settings.health, slo_settings=today).after_poll(
        source, frames, NOW
    )
    status = store.frame("slo_status").set_index(["chain", "objective"])
    assert status.at[("equity-trading", "availability"), "budget_left"] < 0
    assert status.at[("market-data", "availability"), "budget_left"] > 0.5
    midnight = NOW.tz_convert("Asia/Shanghai").normalize()
    assert len(slo_hours.read(history.engine, midnight)) == 5 * 2 * 2  # 13:00, 14:00 local

    later = NOW + pd.Timedelta(hours=3)
    store = open_store(None, "slo-b", ["demo"])
    frames = source.fetch(later)
    store.write("demo", frames)
    step = DerivedFrames(store, history, history_days=1, peak_days=1, health=settings.health, slo_settings=today)
    step.after_poll(source, frames, later)
    again = store.frame("slo_status").set_index(["chain", "objective"])
    assert again.at[("equity-trading", "availability"), "bad"] == pytest.approx(
        status.at[("equity-trading", "availability"), "bad"]
    )
    assert np.isnan(again.at[("equity-trading", "availability"), "burn_60m"])  # nothing in session since
    assert store.frame("slo_days")["day"].nunique() == 1
    history.close()


SUNDAY = pd.Timestamp("2026-11-22 06:00", tz="UTC")  # 14:00 on a Sunday in Shanghai: no session polled


def test_a_first_poll_on_a_sunday_backfills_the_budgets_30_days_from_the_sources_history(monkeypatch, tmp_path):
    """Every weekday of the window spends equity trading's budget (the order-gateway episode, every two hours);
    weekends and nights count nothing; one read a day serves the peaks and the SLO hours, a restarted step reads
    no day again, and an hour read at the learning's step counts the events the source's own resolution does."""
    from dashboard.analytics import slo
    from dashboard.db import peaks, slo_hours

    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)  # a coarser step than the demo's minute
    history, settings = _history(tmp_path), load()
    source = RecordingDemo(name="demo", options={"window_h": 1})
    store = open_store(None, "slo-backfill", ["demo"])
    frames = source.fetch(SUNDAY)
    store.write("demo", frames)
    step = DerivedFrames(store, history, history_days=1, peak_days=3, health=settings.health, slo_settings=settings.slo)
    step.after_poll(source, frames, SUNDAY)
    assert store.status(DERIVED_SOURCE)["ok"] and store.status("derived:demo")["ok"]
    assert len(source.steps) == 1 + 30 and source.steps[0] >= 60  # learning, then each day of the window, once
    today = SUNDAY.tz_convert("Asia/Shanghai").normalize()
    window = [(today - pd.Timedelta(days=k)).tz_convert("UTC") for k in range(30, 0, -1)]
    assert slo_hours.days_read(history.engine, "demo", window[0]) == set(window)
    assert peaks.complete_days(history.engine, "demo", window[0]) == set(window[-3:])  # the peaks' own span

    stored = slo_hours.read(history.engine, window[0])
    local = pd.DatetimeIndex(stored["hour"]).tz_convert("Asia/Shanghai")
    assert (local.day_of_week < 5).all() and local.hour.isin(range(9, 15)).all()  # no weekend, no night
    status = store.frame("slo_status")
    assert (status["total"] > 0).all() and (status["alert"] != slo.NO_DATA).all()  # nothing polled in session
    days = store.frame("slo_days")
    trading = days[(days["chain"] == "equity-trading") & (days["objective"] == "availability")]
    assert len(trading) == 20 and (trading["bad"] > 0).all()  # the window's 20 weekdays, each spent on
    left = status.set_index(["chain", "objective"])["budget_left"]
    assert left[("equity-trading", "availability")] < slo.LOW_BUDGET < left[("market-data", "availability")]

    hour = pd.Timestamp("2026-11-20 10:00", tz="Asia/Shanghai").tz_convert("UTC")  # a Friday's full hour
    fine = slo.events(
        source.history(hour, hour + pd.Timedelta(hours=1))["service_metrics"], frames["chains"], settings.slo
    )
    coarse = stored[stored["hour"] == hour].set_index(["chain", "objective"])["total"]
    by_minute = fine.groupby(["chain", "objective"])["total"].sum()
    assert coarse.to_dict() == pytest.approx(by_minute.to_dict(), rel=0.05)  # a sample weighs its step

    restarted = RecordingDemo(name="demo", options={"window_h": 1})
    again = DerivedFrames(
        store, history, history_days=1, peak_days=3, health=settings.health, slo_settings=settings.slo
    )
    again.after_poll(restarted, frames, SUNDAY)
    assert len(restarted.steps) == 1  # learning only: every day of the window was read
    history.close()


def test_the_slo_backfill_waits_for_the_chains_and_a_day_without_history_is_asked_again(monkeypatch, tmp_path):
    """Polled before the config's chains are in the store, the step reads no day for the SLO and tries again
    after its wait; a day the source's history does not hold is not marked read."""
    from dashboard.db import slo_hours

    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    history, settings = _history(tmp_path), load()
    clock = [0.0]
    monkeypatch.setattr(derived.time, "monotonic", lambda: clock[0])
    source = RecordingDemo(name="demo", options={"window_h": 1})
    frames = {"service_metrics": source.fetch(NOW)["service_metrics"]}
    store = open_store(None, "slo-waits", ["demo", "config"])
    step = DerivedFrames(store, history, history_days=1, slo_settings=replace(settings.slo, window_days=3))
    step.after_poll(source, frames, NOW)
    assert len(source.steps) == 1  # learning alone: no chains to count for
    store.write("config", {"chains": source.fetch(NOW)["chains"]})
    step.after_poll(source, frames, NOW)
    assert len(source.steps) == 1  # not before the wait
    clock[0] += derived.HISTORY_RETRY_S + 1
    source.before = NOW - pd.Timedelta(days=2)  # the source's history begins the day before yesterday
    step.after_poll(source, frames, NOW)
    assert len(source.steps) == 1 + 3
    today = NOW.tz_convert("Asia/Shanghai").normalize()
    read = slo_hours.days_read(history.engine, "demo", (today - pd.Timedelta(days=3)).tz_convert("UTC"))
    assert read == {(today - pd.Timedelta(days=k)).tz_convert("UTC") for k in (2, 1)}
    history.close()


def test_a_source_whose_services_are_on_no_chain_reads_no_day_for_the_slo(monkeypatch, tmp_path):
    """Another source's estate (none of its services on the config's chains) has no SLO hours to give: its
    backfill reads no day of history for them and fails nothing."""
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    history = _history(tmp_path)
    source = RecordingDemo(name="other", options={"window_h": 0.5})
    metrics = source.fetch(NOW)["service_metrics"]
    frames = {"service_metrics": metrics.assign(service="other-" + metrics["service"])}
    store = open_store(None, "slo-other", ["other", "config"])
    store.write("config", {"chains": DemoSource(name="demo").fetch(NOW)["chains"]})
    DerivedFrames(store, history, history_days=1).after_poll(source, frames, NOW)
    assert len(source.steps) == 1  # learning alone
    assert store.status("derived:other")["ok"], store.status("derived:other")["error"]
    history.close()


def test_without_the_database_the_budget_spans_the_polled_window(monkeypatch):
    monkeypatch.setattr(derived, "LEARN_POINTS", 100_000)
    store = open_store(None, "slo-away", ["demo"])
    source = DemoSource(name="demo", options={"window_h": 0.5})
    frames = source.fetch(NOW)
    store.write("demo", frames)
    DerivedFrames(store, AwayHistory(), history_days=1, health=load().health).after_poll(source, frames, NOW)
    assert store.status(DERIVED_SOURCE)["ok"]
    status = store.frame("slo_status")
    assert len(status) == 5 * 2 and (status["total"] > 0).all()  # the budget of the polled window, meanwhile
