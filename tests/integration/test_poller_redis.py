"""Pollers sharing real Redis: each source polled once per interval; a dead poller is replaced."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pandas as pd
import pytest
import redis

from dashboard.core.leases import RedisLeases, grace_s
from dashboard.core.poller import Poller
from dashboard.core.store import open_store
from dashboard.db.history import History
from datasources.base import SourceError
from tests.unit.test_poller import BlockedSource, ScriptedSource, _services

INTERVAL_S = 2.0


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what}")


@pytest.fixture
def two_pollers(tmp_path, redis_url, deployment):
    config = tmp_path / "opscenter.yaml"
    config.write_text(
        f"deployment: {deployment}\nsources:\n  - {{kind: demo, name: demo, interval_s: {INTERVAL_S}, window_h: 1}}\n"
    )
    db_url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    history = History(db_url)
    history.migrate()
    env = {
        **os.environ,
        "OPSCENTER_CONFIG": str(config),
        "OPSCENTER_REDIS_URL": redis_url,
        "OPSCENTER_DATABASE_URL": db_url,
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "poll", "--metrics-port", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    yield procs, history
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    history.close()


def _attempts(history) -> pd.Series:
    rows = history.read("source_status")
    return rows.loc[rows["source"] == "demo", "last_attempt"].sort_values().reset_index(drop=True)


def test_two_pollers_poll_once_per_interval_and_survive_a_death(two_pollers):
    procs, history = two_pollers
    _wait_for(lambda: len(_attempts(history)) >= 4, 120, "4 polls")
    attempts = _attempts(history)
    assert all(p.poll() is None for p in procs), [p.stderr.read() for p in procs if p.poll() is not None]
    gaps = attempts.diff().dropna().dt.total_seconds()
    assert (gaps >= INTERVAL_S * 0.9).all(), gaps.tolist()

    procs[0].kill()
    procs[0].wait()
    killed_at = pd.Timestamp(datetime.now(UTC))
    seen = len(attempts)
    _wait_for(lambda: len(_attempts(history)) >= seen + 2, 60, "polls after a kill")
    after = _attempts(history)
    resumed = after[after > killed_at]
    assert len(resumed) >= 1
    # taken over within a poll's cycle (the interval, or a longer poll's own time on a busy machine) and the
    # grace; a few seconds more for scheduling
    cycle_s = max(INTERVAL_S, gaps.max())
    assert (resumed.iloc[0] - killed_at).total_seconds() <= cycle_s + grace_s(INTERVAL_S) + 4, gaps.tolist()


def test_a_poller_stops_promptly_on_sigterm(two_pollers):
    """It finishes the poll in flight (its derived step included), never a further one: a few seconds on an
    idle machine, up to 15 on one with every core busy."""
    procs, history = two_pollers
    _wait_for(lambda: len(_attempts(history)) >= 1, 120, "a first poll")
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    stopped = time.monotonic()
    for proc in procs:
        proc.wait(timeout=30)
    assert time.monotonic() - stopped < 15, "a poller took longer than 15 s to stop"


def test_failing_source_backs_off_on_redis(redis_url, deployment):
    store = open_store(redis_url, deployment, ["scripted"])
    source = ScriptedSource(name="scripted", interval_s=5)
    source.script = [{"services": _services()}, SourceError("timed out")]
    poller = Poller([source], store)
    assert isinstance(poller.leases, RedisLeases)
    assert poller.tick() == ["scripted"]
    lease_key = f"opscenter:{deployment}:lease:scripted"
    store.cache._write_client.delete(lease_key)  # as if the interval had passed
    assert poller.tick() == ["scripted"]
    status = store.status("scripted")
    assert not status["ok"] and status["failures"] == 1 and "timed out" in status["error"]
    ttl_ms = store.cache._read_client.pttl(lease_key)
    assert 10_000 < ttl_ms <= 15_000  # held for the back-off (2 x interval) and the holder's grace
    assert store.frame("services")["service"].tolist() == ["svc"]
    assert poller.tick() == []


def test_a_lease_stays_with_its_holder_until_it_stops_claiming(redis_url, deployment):
    client = redis.Redis.from_url(redis_url)
    holder, other = (RedisLeases(client, f"opscenter:{deployment}:") for _ in range(2))
    seconds = 2.0  # a grace of 1 s: scheduling delays on a busy machine stay well inside it
    assert holder.claim("job", seconds) and not other.claim("job", seconds)
    while not holder.claim("job", seconds):  # due again: the holder claims it first
        assert not other.claim("job", seconds)
        time.sleep(0.01)
    claimed = time.monotonic()
    while not other.claim("job", seconds):  # the holder stopped: taken over after the grace
        time.sleep(0.01)
    assert time.monotonic() - claimed >= seconds + grace_s(seconds) - 0.05
    assert not holder.claim("job", seconds)
    client.close()


def test_a_poll_longer_than_its_interval_keeps_its_source_with_its_poller(redis_url, deployment):
    store = open_store(redis_url, deployment, ["slow"])
    slow = BlockedSource(name="slow", interval_s=3.0)  # a grace of 1.5 s for the claim below
    poller = Poller([slow], store)
    polling = threading.Thread(target=poller.tick)
    polling.start()
    assert slow.started.wait(10)
    time.sleep(1.5 * slow.interval_s)  # the poll outlasts its interval
    slow.release.set()
    polling.join(10)
    other = RedisLeases(store.cache._write_client, store.prefix)
    assert not other.claim("slow", slow.interval_s)  # due at once, but for its own poller first
    _wait_for(lambda: poller.leases.claim("slow", slow.interval_s), grace_s(slow.interval_s), "the holder's claim")
