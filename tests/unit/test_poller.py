"""Poller on the local store: validation, failures that back off and keep the last frame, leases."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboard.core.leases import LocalLeases
from dashboard.core.offers import config_frames, offered_frames
from dashboard.core.poller import Poller, backoff_s
from dashboard.core.status import is_stale, status_frame
from dashboard.core.store import open_store
from datasources.base import Source, SourceError, validate

NOW = datetime(2026, 11, 18, 2, 5, tzinfo=UTC)


def _services(name="svc"):
    return pd.DataFrame(
        {"service": [name], "display_name": [name.title()], "tier": [1], "owner": ["team"], "runbook_url": [None]}
    )


class ScriptedSource(Source):
    """Answers from a script: a frame dict, an exception, or a callable."""

    kind = "scripted"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.script, self.calls = [], 0

    def fetch(self, now):
        self.calls += 1
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


@pytest.fixture
def setup():
    store = open_store(None, "default", ["scripted"])
    source = ScriptedSource(name="scripted", interval_s=10)
    return store, source, Poller([source], store, clock=lambda: NOW)


def test_good_poll_writes_frames_and_status(setup):
    store, source, poller = setup
    source.script = [{"services": _services()}]
    status = poller.poll(source)
    assert status["ok"] and status["rows"] == 1 and status["error"] is None
    assert store.frame("services")["service"].tolist() == ["svc"]
    assert store.status("scripted")["last_success"] == NOW.isoformat()


def test_failure_keeps_last_frame_marks_stale_and_backs_off(setup):
    store, source, poller = setup
    source.script = [{"services": _services()}, SourceError("connection refused"), SourceError("connection refused")]
    poller.poll(source)
    first = poller.poll(source)
    second = poller.poll(source)
    assert not second["ok"] and second["failures"] == 2 and "connection refused" in second["error"]
    assert second["last_success"] == NOW.isoformat()
    assert store.frame("services")["service"].tolist() == ["svc"]
    assert is_stale(store.status("scripted"), NOW)
    assert first["failures"] == 1
    assert backoff_s(10, 1) == 20 and backoff_s(10, 2) == 40 and backoff_s(10, 50) == 160
    assert not poller.leases.claim("scripted", 10)  # held for the back-off


def test_malformed_frame_is_rejected_and_others_kept(setup):
    store, source, poller = setup
    source.script = [
        {"services": _services("old")},
        {"services": _services("new"), "incidents": pd.DataFrame({"incident_id": ["x"]})},
    ]
    poller.poll(source)
    status = poller.poll(source)
    assert not status["ok"]
    assert "frame incidents.title: missing column" in status["error"]
    assert store.frame("services")["service"].tolist() == ["new"]
    assert store.frame("incidents").empty


def test_a_frame_over_the_store_limit_is_rejected_by_name_and_its_last_good_version_stays():
    store = open_store(None, "default", ["scripted"], limit_mb=0.01)
    source = ScriptedSource(name="scripted", interval_s=10)
    poller = Poller([source], store, clock=lambda: NOW)
    many = pd.concat([_services(f"svc-{i}") for i in range(1000)], ignore_index=True)
    source.script = [
        {"services": _services("old")},
        {"services": many, "edges": pd.DataFrame({"caller": ["a"], "callee": ["b"], "calls_per_s": [1.0]})},
    ]
    poller.poll(source)
    status = poller.poll(source)
    assert not status["ok"] and status["frames"] == ["edges"]
    assert "scripted: frame services is" in status["error"] and "over the store's limit" in status["error"]
    assert store.frame("services")["service"].tolist() == ["old"]


def test_tick_polls_once_per_interval(setup):
    _store, source, poller = setup
    source.script = [{"services": _services()}] * 3
    assert poller.tick() == ["scripted"]
    assert poller.tick() == []
    assert source.calls == 1


class BlockedSource(Source):
    """A source whose poll waits until ``release`` is set; ``started`` is set when it begins."""

    kind = "blocked"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.started, self.release, self.calls = threading.Event(), threading.Event(), 0

    def fetch(self, now):
        self.calls += 1
        self.started.set()
        assert self.release.wait(30)
        return {"services": _services("slow")}


def test_a_poll_longer_than_its_interval_keeps_its_lease_until_it_ends():
    store = open_store(None, "default", ["slow"])
    slow = BlockedSource(name="slow", interval_s=2.0)
    poller = Poller([slow], store, clock=lambda: NOW)
    polling = threading.Thread(target=poller.tick)
    polling.start()
    assert slow.started.wait(10)
    deadline = time.monotonic() + 3 * slow.interval_s
    while time.monotonic() < deadline:  # three intervals: the lease is renewed, nobody else may start
        assert not poller.leases.claim("slow", slow.interval_s)
        time.sleep(0.05)
    slow.release.set()
    polling.join(10)
    assert store.status("slow")["ok"]
    due = time.monotonic() + slow.interval_s / 2
    while not poller.leases.claim("slow", slow.interval_s):  # the poll outlasted its interval: due at once
        assert time.monotonic() < due
        time.sleep(0.01)


def test_a_poll_past_its_deadline_fails_and_the_source_is_never_fetched_twice_at_once():
    store = open_store(None, "default", ["slow"])
    slow = BlockedSource(name="slow", interval_s=1, poll_timeout_s=2)  # a fetch deaf to the deadline
    poller = Poller([slow], store, clock=lambda: NOW)
    started = time.monotonic()
    failed = poller.poll(slow)
    assert time.monotonic() - started < 10
    assert not failed["ok"] and "outlasted its deadline of 2 s (poll_timeout_s)" in failed["error"]
    assert is_stale(store.status("slow"), NOW)
    assert not [t for t in threading.enumerate() if t.name == "opscenter-lease-slow"]  # no longer renewed
    still = poller.poll(slow)
    assert not still["ok"] and "still running" in still["error"] and slow.calls == 1
    slow.release.set()
    assert poller.poll(slow)["ok"] and slow.calls == 2


def test_a_slow_source_delays_no_other():
    store = open_store(None, "default", ["slow", "scripted"])
    slow, fast = BlockedSource(name="slow", interval_s=10), ScriptedSource(name="scripted", interval_s=0.05)
    fast.script = [{"services": _services()} for _ in range(1000)]
    poller = Poller([slow, fast], store, clock=lambda: NOW)
    poller.start()
    try:
        assert slow.started.wait(10)
        deadline = time.monotonic() + 10
        while fast.calls < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fast.calls >= 3 and not slow.release.is_set()  # polled again and again while the slow one hangs
    finally:
        slow.release.set()
        poller.stop()


def test_a_stopped_poller_returns_within_its_grace_while_a_poll_hangs():
    store = open_store(None, "default", ["slow"])
    slow = BlockedSource(name="slow", interval_s=10)
    poller = Poller([slow], store, clock=lambda: NOW)
    poller.start()
    try:
        assert slow.started.wait(10)
        stopped = time.monotonic()
        poller.stop()
        assert not poller._thread.is_alive()
        assert time.monotonic() - stopped < 5
    finally:
        slow.release.set()


def test_local_leases_expire():
    leases = LocalLeases()
    assert leases.claim("a", 0.05)
    assert not leases.claim("a", 0.05)
    leases.hold("a", 0)
    assert leases.claim("a", 1)


def test_staleness():
    fresh = {"ok": True, "last_success": NOW.isoformat(), "interval_s": 10}
    assert not is_stale(fresh, NOW + timedelta(seconds=29))
    assert is_stale(fresh, NOW + timedelta(seconds=31))
    assert is_stale({**fresh, "ok": False}, NOW)
    assert is_stale(None, NOW)


def test_status_frame_is_contract_valid(setup):
    _store, source, poller = setup
    source.script = [{"services": _services()}, SourceError("down")]
    records = [poller.poll(source), poller.poll(source)]
    frame = status_frame(records)
    assert frame["ok"].tolist() == [True, False]
    assert frame["last_attempt"].dt.tz is not None


def test_config_chains_become_a_frame():
    frames = config_frames(
        [
            {"chain": "c", "name": "Chain", "steps": ["a", "b"]},
            {"chain": "d", "name": "Dee", "name_zh": "丁", "steps": ["a"]},
        ]
    )
    assert validate("chains", frames["chains"])["step"].tolist() == [1, 2, 1]
    assert frames["chains"]["x_chain_name_zh"].fillna("").tolist() == ["", "", "丁"]
    assert config_frames([]) == {}


@pytest.mark.parametrize(
    "specs, chains, expected",
    [
        (
            [{"kind": "demo", "name": "m", "frames": ["services", "service_metrics"]}],
            [],
            {"services", "service_metrics", "anomalies", "utilisation_peaks"},
        ),
        (
            [{"kind": "servicenow", "name": "s", "url": "x"}],
            [{"chain": "c", "steps": ["a"]}],
            {"incidents", "changes", "chains"},
        ),
        (
            [
                {"kind": "servicenow", "name": "s", "url": "x", "service_requests": True},
                {"kind": "sql", "name": "q", "url": "x", "changes": {"table": "t", "columns": {}}},
            ],
            [],
            {"incidents", "changes", "service_requests"},
        ),
        (
            [{"kind": "alertmanager", "name": "a", "url": "x"}, {"kind": "loki", "name": "l", "url": "x"}],
            [],
            {"alerts", "log_rates"},
        ),
    ],
)
def test_offered_frames_are_known_before_any_poll(specs, chains, expected):
    assert offered_frames(specs, chains) == expected
