"""Faults the command center survives: each keeps the dashboard serving, shows what is stale,
recovers by itself and loses no history row (the table in docs/reliability.md).

Sources fail through a scripted adapter; Redis is a private redis-server stopped and restarted;
PostgreSQL is reached through a proxy that is cut and restored; a poller process is killed
inside its history transaction.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import redis
import sqlalchemy as sa

from dashboard import ids
from dashboard.app import create_app
from dashboard.core.poller import Poller
from dashboard.core.settings import load
from dashboard.core.store import open_store
from dashboard.db.history import History
from datasources.base import Source, SourceError
from tests.faults import CuttableProxy, PrivateRedis

NOW = datetime.now(UTC).replace(microsecond=0)
SECRET_URL = "https://opscenter:hunter2secret@itsm.example/api?token=abc123def456"


class FaultySource(Source):
    """An ITSM-like source opening one new incident per poll, failing as its ``mode`` says."""

    kind = "faulty"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mode, self.opened = "ok", 0

    def fetch(self, now):
        if self.mode == "down":
            raise SourceError(f"{self.name}: GET {SECRET_URL}: connection refused")
        if self.mode == "slow":
            raise SourceError(f"{self.name}: GET {SECRET_URL}: timed out after 5 s")
        if self.mode == "garbage":
            return {"incidents": pd.DataFrame({"incident_id": ["x"], "priority": ["high"]})}
        self.opened += 1
        return {"incidents": incidents(self.name, self.opened, now)}


def incidents(source: str, count: int, now: datetime) -> pd.DataFrame:
    never = pd.Series(pd.NaT, index=range(count), dtype="datetime64[ns, UTC]")
    return pd.DataFrame(
        {
            "incident_id": [f"INC{i:05d}" for i in range(1, count + 1)],
            "title": "quote feed lagging",
            "priority": 2,
            "state": "in_progress",
            "service": "quote-service",
            "opened_at": pd.Timestamp(now) - pd.to_timedelta(range(count), unit="min"),
            "acknowledged_at": never,
            "resolved_at": never,
            "assignment_group": "ops",
            "change_id": None,
            "runbook_url": None,
            "source": source,
            "url": None,
        }
    )


class Clock:
    """The poller's clock: now when made, moved on by the test."""

    def __init__(self):
        self.now = datetime.now(UTC)

    def __call__(self):
        return self.now

    def advance(self, seconds: float = 60):
        self.now += timedelta(seconds=seconds)


def deployment(store_url=None, history=None):
    """A faulty source, its poller and the app, on the given store and history."""
    settings = dataclasses.replace(load(), sources=[{"name": "itsm", "kind": "faulty", "interval_s": 60}])
    store = open_store(store_url, "faults", settings.source_names)
    source, clock = FaultySource(name="itsm", interval_s=60), Clock()
    poller = Poller([source], store, history=history, clock=clock)
    app = create_app(settings, store)
    return source, poller, clock, app


def versions(client, known=None):
    """Call the versions callback as the browser does; return (HTTP status, its data)."""
    body = {
        "output": f"{ids.VERSIONS}.data",
        "outputs": {"id": ids.VERSIONS, "property": "data"},
        "inputs": [{"id": ids.TICK, "property": "n_intervals", "value": 1}],
        "state": [{"id": ids.VERSIONS, "property": "data", "value": known or {}}],
        "changedPropIds": [f"{ids.TICK}.n_intervals"],
    }
    response = client.post("/_dash-update-component", json=body)
    data = response.get_json() if response.status_code == 200 else None
    return response.status_code, (data or {}).get("response", {}).get(ids.VERSIONS, {}).get("data")


def sources_page(app):
    """Render /sources as the server does and return its text."""
    from layouts.pages import sources

    with app.server.test_request_context("/sources"):
        return str(sources.layout())


@pytest.mark.parametrize("mode", ["down", "slow", "garbage"])
def test_a_failing_source_is_shown_stale_and_recovers(mode):
    source, poller, clock, app = deployment()
    client = app.server.test_client()
    poller.poll(source)
    assert versions(client)[1]["stale"] == []
    source.mode = mode
    clock.advance()
    status = poller.poll(source)
    assert not status["ok"]
    assert "hunter2secret" not in status["error"] and "abc123def456" not in status["error"]
    code, data = versions(client)
    assert code == 200 and data["stale"] == ["itsm"]
    assert len(app.server.extensions["opscenter"].store.frame("incidents")) == 1  # the last good frame stays
    health = client.get("/health").get_json()
    assert health["sources"]["itsm"]["stale"] and "hunter2" not in str(health)
    assert "hunter2" not in sources_page(app)
    source.mode = "ok"
    clock.advance(60 * 16)
    assert poller.poll(source)["ok"]
    assert versions(client)[1]["stale"] == []


def test_a_flapping_source_never_breaks_the_dashboard(tmp_path):
    history = History(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    history.migrate()
    source, poller, clock, app = deployment(history=history)
    client = app.server.test_client()
    polls = 0
    for i in range(12):
        source.mode = "down" if i % 2 else "ok"
        clock.advance()
        poller.poll(source)
        polls += 1
        assert versions(client)[0] == 200 and client.get("/health").status_code == 200
    assert len(history.read("incidents")) == source.opened
    assert len(history.read("source_status")) == polls
    history.close()


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


def test_redis_down_and_back(private_redis):
    source, poller, clock, app = deployment(private_redis.url)
    client = app.server.test_client()
    poller.poll(source)
    code, known = versions(client)
    assert code == 200 and known["stale"] == []
    store = app.server.extensions["opscenter"].store
    assert len(store.frame("incidents")) == 1

    private_redis.stop()
    code, data = versions(client, known)
    assert code == 200 and data["stale"] == ["itsm"] and data["frames"] == known["frames"]
    assert len(store.frame("incidents")) == 1  # the frames already read keep serving
    assert client.get("/health").status_code == 503
    assert "itsm" in sources_page(app)
    with pytest.raises(redis.exceptions.ConnectionError):
        poller.tick()  # the poller sees the outage (its run loop logs it and tries again)

    private_redis.start()
    clock.advance()
    poller.leases.claim = lambda name, seconds: True  # the old leases went with the old server
    poller.tick()
    code, data = versions(client, data)
    assert code == 200 and data["stale"] == [] and client.get("/health").status_code == 200
    assert len(store.frame("incidents")) == 2


def test_postgres_down_and_back_loses_no_history_row(postgres_url):
    url = sa.engine.make_url(postgres_url)
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    history = History(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    history.migrate()
    source, poller, clock, app = deployment(history=history)
    client = app.server.test_client()
    poller.poll(source)

    proxy.cut()
    for _ in range(3):
        clock.advance()
        assert poller.poll(source)["ok"]  # the live view goes on
        assert versions(client)[0] == 200
    assert len(poller.history_queue) == 6  # three incident upserts, three status rows

    proxy.start()
    clock.advance()
    poller.poll(source)
    assert len(poller.history_queue) == 0
    stored = history.read("incidents")
    assert sorted(stored["incident_id"]) == [f"INC{i:05d}" for i in range(1, source.opened + 1)]
    assert len(history.read("source_status")) == 5
    history.close()
    proxy.cut()


KILLED_POLLER = textwrap.dedent("""
    import os, signal, sys
    import sqlalchemy as sa
    from dashboard.db.history import History
    from dashboard.core.poller import Poller
    from dashboard.core.store import open_store
    from tests.integration.test_faults import FaultySource, NOW

    history = History(sys.argv[1])
    rows = []

    @sa.event.listens_for(history.engine, "after_cursor_execute")
    def die_inside_the_transaction(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO INCIDENTS"):
            os.kill(os.getpid(), signal.SIGKILL)

    source = FaultySource(name="itsm", interval_s=60)
    source.opened = 4
    Poller([source], open_store(None, "faults", ["itsm"]), history=history, clock=lambda: NOW).poll(source)
""")


def test_a_poller_killed_inside_a_history_write_leaves_nothing_half_written(tmp_path):
    db = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    history = History(db)
    history.migrate()
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    result = subprocess.run([sys.executable, "-c", KILLED_POLLER, db], env=env, timeout=60, capture_output=True)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    assert history.read("incidents").empty  # the open transaction was rolled back as a whole

    source, poller, clock, app = deployment(history=history)  # the next poller takes over
    source.opened = 4
    poller.poll(source)
    assert sorted(history.read("incidents")["incident_id"]) == [f"INC{i:05d}" for i in range(1, 6)]
    assert versions(app.server.test_client())[0] == 200
    history.close()


KILLED_BEFORE_THE_VERSION = textwrap.dedent("""
    import os, signal, sys
    from dashboard.core.poller import Poller
    from dashboard.core.store import open_store
    from tests.integration.test_faults import FaultySource, NOW

    store = open_store(sys.argv[1], "faults", ["itsm"])
    store.cache.inc = lambda key, delta=1: os.kill(os.getpid(), signal.SIGKILL)
    source = FaultySource(name="itsm", interval_s=60)
    source.opened = 4
    Poller([source], store, clock=lambda: NOW).poll(source)
""")


def test_a_poller_killed_between_the_frames_and_the_version_changes_nothing_readers_trust(private_redis):
    source, poller, clock, app = deployment(private_redis.url)
    client = app.server.test_client()
    poller.poll(source)
    code, known = versions(client)
    store = app.server.extensions["opscenter"].store
    assert code == 200 and len(store.frame("incidents")) == 1

    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    result = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_THE_VERSION, private_redis.url], env=env, timeout=60, capture_output=True
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    assert store.cache.get(store._key("frame", "itsm", "incidents"))  # the frames landed, the version did not
    assert versions(client, known) == (200, None)  # no change, as far as any page can tell
    assert len(store.frame("incidents")) == 1  # readers keep what the version they trust says

    source.opened = 5  # the next poller writes again, and the version moves on
    clock.advance()
    poller.poll(source)
    code, data = versions(client, known)
    assert code == 200 and data["frames"] != known["frames"] and data["stale"] == []
    assert len(store.frame("incidents")) == 6
