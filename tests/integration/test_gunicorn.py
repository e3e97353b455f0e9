"""gunicorn with two workers serves the wall from frames a separate poller writes to Redis; both
kinds of process serve their own metrics."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from bench.viewer import WallRequests, answered
from dashboard import ids
from dashboard.app import create_app
from dashboard.core.settings import load
from dashboard.core.store import open_store
from layouts.pages import wall
from tests.conftest import free_port

BIN = Path(sys.executable).parent


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except requests.RequestException:  # workers still starting
            pass
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s}s waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def production(tmp_path, redis_url, deployment, postgres_url):
    config = tmp_path / "opscenter.yaml"
    config.write_text(
        f"deployment: {deployment}\n"
        "sources:\n  - {kind: demo, name: demo, interval_s: 5, services: 40, window_h: 1}\n"
    )
    env = {
        **os.environ,
        "OPSCENTER_CONFIG": str(config),
        "OPSCENTER_REDIS_URL": redis_url,
        "OPSCENTER_DATABASE_URL": postgres_url,
    }
    subprocess.run([sys.executable, "-m", "dashboard.db.migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    procs = [
        subprocess.Popen(
            [str(BIN / "opscenter"), "poll", "--metrics-port", "0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"127.0.0.1:{port}", "dashboard.wsgi:server"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    yield f"http://127.0.0.1:{port}", env
    for proc in procs:
        _stop(proc)


def test_two_workers_serve_the_wall_from_a_separate_poller(production, monkeypatch):
    url, env = production
    _wait_for(
        lambda: requests.get(f"{url}/health", timeout=5).json()["sources"]["demo"]["ok"],
        60,
        "the poller's first frames",
    )
    for name in ("OPSCENTER_CONFIG", "OPSCENTER_REDIS_URL", "OPSCENTER_DATABASE_URL"):
        monkeypatch.setenv(name, env[name])
    settings = load()
    store = open_store(settings.redis_url, settings.deployment, settings.source_names)
    app = create_app(settings, store)
    with app.server.test_request_context():
        page = wall.layout()
    calls = WallRequests(page, app.callback_map)
    tiles = len(next(c.data for c in page._traverse() if getattr(c, "id", None) == ids.WALL_MODEL)["rows"])

    def versions(tick: int) -> dict:
        response = requests.post(f"{url}/_dash-update-component", json=calls.versions(tick, None), timeout=10)
        response.raise_for_status()
        return answered(response.json(), ids.VERSIONS)

    with ThreadPoolExecutor(4) as pool:  # concurrent requests: both sync workers answer
        answers = list(pool.map(versions, range(16)))
    assert all(a["frames"].get("demo", 0) >= 1 for a in answers), answers
    assert {a["frames"]["demo"] for a in answers} <= set(
        range(min(a["frames"]["demo"] for a in answers), store.versions()["demo"] + 1)
    )
    assert requests.get(f"{url}/wall", timeout=10).status_code == 200

    latest = versions(99)
    keys = {**calls.keys, "panels": {}, "structure": ""}  # as if the browser had drawn nothing yet
    response = requests.post(f"{url}/_dash-update-component", json=calls.refresh(latest, keys), timeout=10)
    response.raise_for_status()
    model = answered(response.json(), ids.WALL_MODEL)
    assert len(model["rows"]) == tiles > 30
    assert answered(response.json(), ids.WALL_KEYS)["panels"]["chains"][0] == latest["frames"]["demo"]


@pytest.fixture
def proxied(tmp_path):
    """gunicorn as production starts it (its config module), in proxy mode, its access log in a file."""
    config = tmp_path / "opscenter.yaml"
    config.write_text(
        "sources:\n  - {kind: demo, name: demo}\n"
        "auth:\n  mode: proxy\n  groups_header: X-Forwarded-Groups\n  trusted_proxies: [127.0.0.1]\n"
        "  group_roles: {ops-viewers: viewer, ops-platform: admin}\n"
    )
    env = {
        **os.environ,
        "OPSCENTER_CONFIG": str(config),
        "OPSCENTER_DATABASE_URL": f"sqlite:///{tmp_path / 'history.sqlite3'}",
    }
    env.pop("OPSCENTER_REDIS_URL", None)
    subprocess.run([sys.executable, "-m", "dashboard.db.migrate"], env=env, check=True, capture_output=True)
    port, access_log = free_port(), tmp_path / "access.log"
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            "python:dashboard.gunicorn_conf",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            str(access_log),
            "dashboard.wsgi:server",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: requests.get(f"{url}/health", timeout=5).status_code in (200, 503), 60, "gunicorn")
        yield url, port, proc, access_log
    finally:
        _stop(proc)


def _get(port: int, path: str, headers: list[tuple[str, str]]) -> int:
    """A GET with ``headers`` sent exactly as listed (repeats included)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("GET", path)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def test_production_gunicorn_blanks_tokens_and_refuses_repeated_identity_headers(proxied):
    url, port, proc, access_log = proxied
    secrets_sent = ["Wq3abcdefghijklmnopqrstuvwxyz0123456789ABCD", "Zr7abcdefghijklmnopqrstuvwxyz0123456789ABCD"]
    assert requests.get(f"{url}/wall?kiosk=1&%74oken={secrets_sent[0]}", timeout=30).status_code == 401
    assert requests.get(f"{url}/wall?token={secrets_sent[1]}", timeout=30).status_code == 401
    viewer = [("X-Forwarded-User", "vera"), ("X-Forwarded-Groups", "ops-viewers")]
    assert _get(port, "/wall", viewer) == 200
    assert _get(port, "/wall", viewer + [("X-Forwarded-Groups", "ops-platform")]) == 400
    assert _get(port, "/wall", viewer + [("X-Forwarded-User", "admin")]) == 400
    _stop(proc)  # flushes the access log
    logged = access_log.read_text()
    assert logged.count("GET /wall") == 5
    assert not any(secret in logged for secret in secrets_sent), logged


def _samples(text: str, name: str) -> dict[tuple, float]:
    """The samples called ``name`` in a scrape, by their sorted labels."""
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def test_the_poller_serves_its_own_metrics_after_its_first_poll(tmp_path):
    env = {**os.environ, "OPSCENTER_DATABASE_URL": f"sqlite:///{tmp_path / 'history.sqlite3'}"}
    for name in ("OPSCENTER_CONFIG", "OPSCENTER_REDIS_URL", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)  # the built-in demo config, polled into the process's own store
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "opscenter"), "poll", "--metrics-port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def polled() -> bool:
            assert proc.poll() is None, f"opscenter poll exited with {proc.returncode}"
            text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            return _samples(text, "opscenter_poll_duration_seconds_count").get((("source", "demo"),), 0) >= 1

        _wait_for(polled, 60, "the poller's first poll on its metrics port")
    finally:
        _stop(proc)


@pytest.fixture
def multiprocess(tmp_path):
    """gunicorn as production starts it, two workers sharing a metrics directory that an earlier run left
    a count in."""
    config = tmp_path / "opscenter.yaml"
    config.write_text("sources:\n  - {kind: demo, name: demo}\n")
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = {
        **os.environ,
        "OPSCENTER_CONFIG": str(config),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "OPSCENTER_DATABASE_URL": f"sqlite:///{tmp_path / 'history.sqlite3'}",
    }
    env.pop("OPSCENTER_REDIS_URL", None)
    subprocess.run(
        [sys.executable, "-c", "from dashboard.core import metrics; metrics.observe_callback('stale', 1)"],
        env=env,
        check=True,
    )
    subprocess.run([sys.executable, "-m", "dashboard.db.migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            "python:dashboard.gunicorn_conf",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "dashboard.wsgi:server",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(lambda: requests.get(f"{url}/health", timeout=5).status_code == 200, 60, "gunicorn")
        yield url, metrics_dir
    finally:
        _stop(proc)


def test_one_scrape_counts_the_callbacks_of_every_worker(multiprocess):
    url, metrics_dir = multiprocess
    body = {"output": "oc-versions.data", "inputs": [], "changedPropIds": []}

    def callback(_) -> int:
        return requests.post(f"{url}/_dash-update-component", json=body, timeout=30).status_code

    sent = 0
    with ThreadPoolExecutor(4) as pool:  # concurrent requests: both sync workers answer

        def both_workers_answered() -> bool:
            nonlocal sent
            sent += len(list(pool.map(callback, range(8))))
            return len({path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("histogram_*.db")}) >= 2

        _wait_for(both_workers_answered, 60, "callbacks answered by both workers")
    counts = _samples(requests.get(f"{url}/metrics", timeout=10).text, "opscenter_callback_duration_seconds_count")
    assert (("callback", "stale"),) not in counts  # the directory was cleaned at start
    assert sum(counts.values()) == sent
