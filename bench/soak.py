"""The soak: 50 simulated viewers on the production set-up for ten minutes while a source fails every minute.

``deploy/production.sh`` runs gunicorn and two pollers on Redis and PostgreSQL. The sources are the
1,000-service demo estate and ``itsm``: incidents and changes tables in a PostgreSQL database that
the pollers reach through a TCP proxy (``tests.faults.CuttableProxy``). While the viewers tick on
/wall, a writer opens, acknowledges and resolves incidents and records changes in those tables,
and every minute the proxy is cut for 20 seconds: the ITSM source is down, as far as the
dashboard can tell, a third of the time.

Measured: server errors (failed viewer requests, a /health that did not answer 200, tracebacks in
the servers' output), history rows lost (ITSM rows whose latest state never reached the history
database), how long the wall took to show the source stale and to recover, the resident memory
of every web worker and poller, and what the deployment's keys take in Redis. ``python -m
bench.soak`` writes the figures into the Soak section of docs/reliability.md.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import redis
import requests
import sqlalchemy as sa

from bench.production import Viewer, children, command_line, production, rss_mb, wait_healthy
from bench.viewer import WallRequests
from dashboard.app import create_app
from dashboard.core.settings import load
from dashboard.db.history import History
from layouts.pages import wall
from tests.conftest import free_port
from tests.faults import CuttableProxy

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "reliability.md"
VIEWERS = 50
TICK_S = 5.0  # the config's refresh_s: each viewer asks as often as a wall display does
SOAK_S = 600.0
FAULT_EVERY_S, FAULT_FOR_S, FAULT_AT_S = 60.0, 20.0, 10.0  # cut 10 s into each minute, for 20 s
SAMPLE_S = 10.0
FLAT = 0.05  # how far the second half's median memory may exceed the first half's and still be flat
SERVICES = 1000
REDIS_URL = "redis://127.0.0.1:6379/0"
POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432"
HISTORY_DB, ITSM_DB = "opscenter_soak", "opscenter_soak_itsm"
DEPLOYMENT = "bench-soak"
CONFIG = f"""
deployment: {DEPLOYMENT}
refresh_s: {TICK_S:g}
sources:
  - {{kind: demo, name: demo, interval_s: 15, services: {SERVICES}}}
  - kind: sql
    name: itsm
    interval_s: 10
    url: "postgresql+psycopg2://postgres@127.0.0.1:${{SOAK_ITSM_PORT}}/{ITSM_DB}"
    incidents: {{table: incidents, updated_column: updated_at}}
    changes: {{table: changes, updated_column: updated_at}}
"""
TABLES = [
    "CREATE TABLE incidents (incident_id text PRIMARY KEY, title text, priority int, state text, service text, "
    "opened_at timestamptz, acknowledged_at timestamptz, resolved_at timestamptz, assignment_group text, "
    "change_id text, runbook_url text, url text, updated_at timestamptz)",
    "CREATE TABLE changes (change_id text PRIMARY KEY, title text, service text, type text, state text, "
    "planned_start timestamptz, planned_end timestamptz, actual_start timestamptz, actual_end timestamptz, "
    "outcome text, url text, updated_at timestamptz)",
]


def fresh_database(name: str) -> str:
    """Drop and create database ``name`` on the local PostgreSQL; return its URL."""
    admin = sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{POSTGRES}/{name}"


def forget_deployment() -> None:
    """Remove the keys an earlier soak left in Redis, so versions and statuses start afresh."""
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"opscenter:{DEPLOYMENT}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


class Every(threading.Thread):
    """Call ``step`` every ``period_s`` until ``stop`` is set."""

    def __init__(self, period_s: float, step, stop: threading.Event):
        super().__init__(daemon=True)
        self.period_s, self.step, self.stop = period_s, step, stop

    def run(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            self.step()
            self.stop.wait(max(0.0, self.period_s - (time.monotonic() - started)))


class ItsmWriter:
    """The ITSM system's own work: each step opens, acknowledges or resolves an incident; some record a change."""

    def __init__(self, url: str):
        self.engine = sa.create_engine(url)
        with self.engine.begin() as conn:
            for ddl in TABLES:
                conn.execute(sa.text(ddl))
        self.random, self.steps = random.Random(7), 0

    def step(self) -> None:
        now, self.steps = datetime.now(UTC), self.steps + 1
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO incidents VALUES (:id, 'order latency above target', :priority, 'new', "
                    "'order-gateway', "
                    ":now, NULL, NULL, 'trading-ops', NULL, NULL, NULL, :now)"
                ),
                {"id": f"INC{self.steps:05d}", "priority": self.random.randint(1, 4), "now": now},
            )
            conn.execute(
                sa.text(
                    "UPDATE incidents SET state = 'in_progress', acknowledged_at = :now, updated_at = :now "
                    "WHERE incident_id = "
                    "(SELECT incident_id FROM incidents WHERE state = 'new' ORDER BY random() LIMIT 1)"
                ),
                {"now": now},
            )
            if self.random.random() < 0.5:
                conn.execute(
                    sa.text(
                        "UPDATE incidents SET state = 'resolved', resolved_at = :now, updated_at = :now "
                        "WHERE incident_id = "
                        "(SELECT incident_id FROM incidents WHERE state = 'in_progress' ORDER BY random() LIMIT 1)"
                    ),
                    {"now": now},
                )
            if self.steps % 10 == 0:
                conn.execute(
                    sa.text(
                        "INSERT INTO changes VALUES (:id, 'quote cache resize', 'quote-service', 'normal', 'closed', "
                        ":start, :end, :start, :end, 'success', NULL, :now)"
                    ),
                    {
                        "id": f"CHG{self.steps:05d}",
                        "start": now - timedelta(minutes=30),
                        "end": now - timedelta(minutes=5),
                        "now": now,
                    },
                )

    def rows(self, table: str, key: str) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(sa.text(f"SELECT {key}, state FROM {table}"), conn)


def lost_rows(writer: ItsmWriter, history: History) -> dict[str, int]:
    """Per frame, the ITSM rows whose latest state is not what history holds for the ``itsm`` source."""
    lost = {}
    for frame, key in (("incidents", "incident_id"), ("changes", "change_id")):
        source = writer.rows(frame, key)
        stored = history.read(frame)
        stored = stored[stored["source"] == "itsm"]
        merged = source.merge(stored[[key, "state"]], on=key, how="left", suffixes=("", "_stored"))
        lost[frame] = int((merged["state"] != merged["state_stored"]).sum())
    return lost


def wait_for_history(writer: ItsmWriter, history: History, timeout_s: float) -> tuple[dict[str, int], float]:
    """Poll until history holds every ITSM row in its latest state; return what is still lost and the time taken."""
    started = time.monotonic()
    while True:
        lost = lost_rows(writer, history)
        if not any(lost.values()) or time.monotonic() - started > timeout_s:
            return lost, time.monotonic() - started
        time.sleep(2)


class HealthProbe:
    """/health once a second: its answers, and whether it showed ``itsm`` stale."""

    def __init__(self, url: str):
        self.url, self.samples, self.failures = url, [], 0

    def step(self) -> None:
        try:
            response = requests.get(f"{self.url}/health", timeout=10)
            stale = response.json()["sources"]["itsm"]["stale"]
            ok = response.status_code == 200
        except (requests.RequestException, ValueError, KeyError):
            ok, stale = False, None
        self.failures += not ok
        self.samples.append((time.monotonic(), stale))

    def delays(self, faults: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
        """For each (cut, restored) pair: seconds until /health showed itsm stale, and until it no longer did."""
        shown, recovered = [], []
        for cut, restored in faults:
            shown += [next((t - cut for t, stale in self.samples if t >= cut and stale), float("nan"))]
            recovered += [
                next((t - restored for t, stale in self.samples if t >= restored and stale is False), float("nan"))
            ]
        return shown, recovered


class MemorySampler:
    """Resident memory of each web worker and poller, and what the deployment's keys take in Redis,
    every ``SAMPLE_S``."""

    def __init__(self, processes: dict[str, int]):
        self.processes, self.samples = processes, []
        self.redis = redis.Redis.from_url(REDIS_URL)

    def step(self) -> None:
        sample = {name: rss_mb(pid) for name, pid in self.processes.items()}
        keys = list(self.redis.scan_iter(match=f"opscenter:{DEPLOYMENT}:*", count=1000))
        sample["Redis keys"] = sum(self.redis.memory_usage(k, samples=0) or 0 for k in keys) / 2**20
        self.samples.append((time.monotonic(), sample))

    def figures(self, started: float) -> dict[str, tuple[float, ...]]:
        """Per process: the median MB in the run's second minute, in the minute around its middle and in
        its last minute, then the median and the peak MB of each half after the first minute. A poll of
        a large estate, or a web worker decoding a new version while viewers still read the last one,
        allocates and frees hundreds of MB, so single samples swing both ways by 10% and more; a leak
        raises the level, which the medians show and a single sample does not."""
        end = self.samples[-1][0]
        middle = started + (end - started) / 2
        windows = [
            [s for t, s in self.samples if 60 <= t - started < 120],
            [s for t, s in self.samples if abs(t - middle) < 30],
            [s for t, s in self.samples if t >= end - 60],
        ]
        halves = [
            [s for t, s in self.samples if t - started >= 60 and t < middle],
            [s for t, s in self.samples if t >= middle],
        ]
        return {
            name: (
                *(statistics.median(s[name] for s in window) for window in windows),
                *(statistics.median(s[name] for s in half) for half in halves),
                *(max(s[name] for s in half) for half in halves),
            )
            for name in self.samples[0][1]
        }


class Faults:
    """Cut the proxy ``FAULT_AT_S`` into every minute for ``FAULT_FOR_S``; remember when."""

    def __init__(self, proxy: CuttableProxy, stop: threading.Event):
        self.proxy, self.stop, self.windows = proxy, stop, []

    def run(self, started: float) -> None:
        minute = 0
        while not self.stop.wait(max(0.0, started + minute * FAULT_EVERY_S + FAULT_AT_S - time.monotonic())):
            self.proxy.cut()
            cut = time.monotonic()
            self.stop.wait(FAULT_FOR_S)
            self.proxy.start()
            self.windows.append((cut, time.monotonic()))
            minute += 1


def processes(pid: int) -> dict[str, int]:
    """The web workers and pollers that ``deploy/production.sh`` (``pid``) started, by name."""
    named = {}
    for child in children(pid):
        line = command_line(child)
        if "gunicorn" in line:
            named.update({f"web worker {i + 1}": w for i, w in enumerate(children(child))})
        elif "opscenter poll" in line:
            named[f"poller {sum(n.startswith('poller') for n in named) + 1}"] = child
    return named


def run(soak_s: float = SOAK_S) -> dict:
    """Run the soak; return its figures."""
    history_url = fresh_database(HISTORY_DB)
    writer = ItsmWriter(fresh_database(ITSM_DB))
    forget_deployment()
    proxy = CuttableProxy(("127.0.0.1", 5432))
    proxy.start()
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="opscenter-soak-") as tmp:
        config, log_path = Path(tmp) / "opscenter.yaml", Path(tmp) / "servers.log"
        config.write_text(CONFIG)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "BIN": str(ROOT / ".venv" / "bin"),
            "PORT": str(port),
            "WORKERS": "2",
            "THREADS": "8",
            "OPSCENTER_CONFIG": str(config),
            "SOAK_ITSM_PORT": str(proxy.port),
            "OPSCENTER_REDIS_URL": REDIS_URL,
            "OPSCENTER_DATABASE_URL": history_url,
        }
        with log_path.open("wb") as log, production(env, log) as pid:
            writing = Every(1.0, writer.step, stop)
            writing.start()
            wait_healthy(url)
            os.environ.update({k: env[k] for k in ("OPSCENTER_CONFIG", "SOAK_ITSM_PORT", "OPSCENTER_REDIS_URL")})
            app = create_app(load())
            with app.server.test_request_context():
                calls = WallRequests(wall.layout(), app.callback_map)
            health, memory = HealthProbe(url), MemorySampler(processes(pid))
            faults = Faults(proxy, stop)
            viewers = [Viewer(url, calls, stop, offset_s=i * TICK_S / VIEWERS, tick_s=TICK_S) for i in range(VIEWERS)]
            started = time.monotonic()
            threads = [
                *viewers,
                Every(1.0, health.step, stop),
                Every(SAMPLE_S, memory.step, stop),
                threading.Thread(target=faults.run, args=(started,), daemon=True),
            ]
            for thread in threads:
                thread.start()
            stop.wait(soak_s)
            stop.set()
            for thread in [writing, *threads]:
                thread.join()
            elapsed = time.monotonic() - started
            history = History(history_url)
            lost, settle_s = wait_for_history(writer, history, timeout_s=120)
            status = history.read("source_status")
            history.close()
        tracebacks = log_path.read_text(errors="replace").count("Traceback")
    proxy.cut()
    shown, recovered = health.delays(faults.windows)
    itsm = status[status["source"] == "itsm"]
    return {
        "viewers": VIEWERS,
        "minutes": elapsed / 60,
        "services": SERVICES,
        "faults": len(faults.windows),
        "requests": sum(len(v.samples) for v in viewers),
        "request_errors": sum(v.errors for v in viewers),
        "p95_ms": statistics.quantiles([s for v in viewers for s in v.samples], n=20)[-1],
        "health_failures": health.failures,
        "health_probes": len(health.samples),
        "tracebacks": tracebacks,
        "incidents": len(writer.rows("incidents", "incident_id")),
        "changes": len(writer.rows("changes", "change_id")),
        "lost": lost,
        "settle_s": settle_s,
        "polls_ok": int(itsm["ok"].sum()),
        "polls_failed": int((~itsm["ok"].astype(bool)).sum()),
        "shown_stale_s": max(shown),
        "recovered_s": max(recovered),
        "memory": memory.figures(started),
        "load": os.getloadavg()[0],
    }


def report(figures: dict) -> str:
    """The Soak section of docs/reliability.md."""
    lost = figures["lost"]
    rows = [
        (
            "Server errors",
            f"{figures['request_errors']} of {figures['requests']:,} viewer requests failed "
            f"(p95 {figures['p95_ms']:.0f} ms); {figures['health_failures']} of "
            f"{figures['health_probes']} `/health` probes did not answer 200; "
            f"{figures['tracebacks']} tracebacks in the servers' output",
        ),
        (
            "History rows lost",
            f"{lost['incidents']} of {figures['incidents']:,} incidents and {lost['changes']} of "
            f"{figures['changes']} changes (latest state compared with the ITSM tables); history "
            f"caught up {figures['settle_s']:.0f} s after the soak ended",
        ),
        (
            "ITSM polls",
            f"{figures['polls_ok']} succeeded, {figures['polls_failed']} failed, each one a status row in history",
        ),
        (
            "Stale shown",
            f"at most {figures['shown_stale_s']:.0f} s after each of the {figures['faults']} cuts "
            f"(`/health`, the same record the wall's versions read)",
        ),
        (
            "Recovered by itself",
            f"at most {figures['recovered_s']:.0f} s after each cut ended (poll interval 10 s, "
            f"back-off after a failure)",
        ),
        *[
            (
                f"Memory, {name}",
                f"median {first:.0f} MB in the first half, {second:.0f} MB in the second "
                f"({second / first - 1:+.1%}); {minute:.0f} MB in the second minute, {middle:.0f} MB "
                f"at half-time, {last:.0f} MB at the end; peaks {first_peak:.0f} and {second_peak:.0f} MB",
            )
            for name, (minute, middle, last, first, second, first_peak, second_peak) in figures["memory"].items()
        ],
    ]
    errors = figures["request_errors"] + figures["health_failures"] + figures["tracebacks"]
    flat = all(
        second / first - 1 < FLAT for _minute, _middle, _last, first, second, *_peaks in figures["memory"].values()
    )
    verdict = (
        f"Targets: zero server errors ({'met' if not errors else 'missed'}), zero history rows lost "
        f"({'met' if not any(lost.values()) else 'missed'}), memory flat: each process's median in the second "
        f"half at most {FLAT:.0%} above the first half's ({'met' if flat else 'missed'})."
    )
    return "\n".join(
        [
            "## Soak",
            "",
            f"`make soak` (`bench/soak.py`) on {datetime.now(UTC):%Y-%m-%d}: {figures['viewers']} simulated "
            f"wall viewers (a tick each per {TICK_S:g} s, a wall's own pace) for {figures['minutes']:.0f} minutes "
            "against `make production` "
            f"(2 gunicorn workers x 8 threads, 2 pollers, Redis, PostgreSQL), the {figures['services']:,}-service demo "
            f"estate and a SQL ITSM source whose connection is cut for {FAULT_FOR_S:.0f} s of every minute while its "
            f"incidents and changes keep changing. Every process runs with `MALLOC_ARENA_MAX=2` and "
            f"`MALLOC_MMAP_THRESHOLD_=131072`, and leases are "
            f"sticky, so one poller may keep both sources while the other stands by. Memory is sampled every "
            f"{SAMPLE_S:g} s: the median of each half after the first minute (a leak raises it), the medians of the "
            f"run's second minute, of the minute around half-time and of the last minute, and the peak of each half "
            f"(single samples, which swing by 10% and more while a process decodes or polls). Load average at the "
            f"end: {figures['load']:.1f} on 2 cores.",
            "",
            "| measure | result |",
            "| --- | --- |",
            *[f"| {what} | {result} |" for what, result in rows],
            "",
            verdict,
            "",
        ]
    )


def main(soak_s: float = SOAK_S) -> None:
    section = report(run(soak_s))
    text = REPORT.read_text()
    REPORT.write_text(text[: text.index("## Soak")] + section)
    print(section)


if __name__ == "__main__":
    import sys

    main(float(sys.argv[1]) if len(sys.argv) > 1 else SOAK_S)
