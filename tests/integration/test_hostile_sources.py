"""A hostile source against the one transport and the poller: redirects off its origin, answers that drip,
polls that never end, answers too large, too many series or rows, and answers nested too deep.

Real loopback servers (``tests/canned.py``) on 127.0.0.1 and, for "another host", 127.0.0.2.
"""

import gzip
import socket
import threading
import time
import tracemalloc
import zlib
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from dashboard.core.poller import Poller
from dashboard.core.store import open_store
from datasources import registry
from datasources.base import SourceError
from datasources.chaos.chaosmesh import ChaosMeshSource
from datasources.transport import HttpClient
from tests.canned import Reply, canned_server

NOW = datetime(2025, 11, 21, 5, 0, tzinfo=UTC)
T0 = 1763700000
PROMETHEUS_PATHS = ("/api/v1/status/buildinfo", "/api/v1/query_range", "/api/v1/query", "/api/v1/query_exemplars")
SERVICENOW_PATHS = ("/api/now/table/incident", "/api/now/table/change_request")
KUBE_PATH = "/apis/chaos-mesh.org/v1alpha1/podchaos"


def ok(data):
    return Reply({"status": "success", "data": data})


def prometheus_answers():
    """A Prometheus with one service (no resources) and its build information."""
    series = [{"metric": {"service": "ledger", "opscenter_column": "requests_per_s"}, "values": [[T0, "5"]]}]

    def query_range(params):
        is_service_query = "http_server_request_duration_seconds" in params["query"][0]
        return ok({"resultType": "matrix", "result": series if is_service_query else []})

    return {
        "/api/v1/status/buildinfo": ok({"version": "3.0.0"}),
        "/api/v1/query_range": query_range,
        "/api/v1/query": ok({"resultType": "vector", "result": []}),
        "/api/v1/query_exemplars": ok([]),
    }


SOURCES = {  # kind: (paths, the other host's answers, options with credentials, the Authorization they make)
    "servicenow": (
        SERVICENOW_PATHS,
        {path: Reply({"result": []}) for path in SERVICENOW_PATHS},
        {"username": "svc-opscenter", "password": "basic-secret"},
        "Basic ",
    ),
    "prometheus": (PROMETHEUS_PATHS, prometheus_answers(), {"bearer_token": "bearer-secret"}, "Bearer bearer-secret"),
}


def build(kind, url, **options):
    return registry.build({"kind": kind, "name": f"{kind}-under-test", "url": url, "retries": 0, **options})


def redirecting(paths, target, status=302):
    return {path: Reply("moved", status=status, headers={"Location": f"{target}{path}"}) for path in paths}


@pytest.mark.parametrize("how", ["check", "poll"])
@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_credentials_never_follow_a_redirect_off_the_source(kind, how):
    paths, answers, credentials, authorization = SOURCES[kind]
    with (
        canned_server(answers, host="127.0.0.2") as elsewhere,
        canned_server(redirecting(paths, elsewhere.url)) as origin,
    ):
        source = build(kind, origin.url, **credentials)
        if how == "check":
            health = source.check()
            ok_, error = health.ok, health.detail
        else:
            status = Poller([source], open_store(None, "hostile", [source.name]), clock=lambda: NOW).poll(source)
            ok_, error = status["ok"], status["error"]
        assert origin.authorizations and origin.authorizations[0].startswith(authorization)
    assert not any(elsewhere.authorizations), "credentials reached another host"
    assert not ok_
    assert f"{kind}-under-test: GET {origin.url}/api/" in error and "redirect" in error and elsewhere.url in error
    assert "secret" not in error


def test_a_redirect_within_the_source_is_followed_with_its_credentials():
    answers = {f"/prometheus{path}": reply for path, reply in prometheus_answers().items()}
    with canned_server(answers) as server:
        server.routes.update(redirecting(PROMETHEUS_PATHS, f"{server.url}/prometheus", status=307))
        health = build("prometheus", server.url, bearer_token="bearer-secret").check()
    assert health.ok, health.detail
    paths = [path for _m, path, _q in server.requests]
    assert paths == ["/api/v1/status/buildinfo", "/prometheus/api/v1/status/buildinfo"]
    assert server.authorizations == ["Bearer bearer-secret"] * 2


def kubeconfig(tmp_path, server, token):
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "test",
        "clusters": [{"name": "loop", "cluster": {"server": server}}],
        "users": [{"name": "reader", "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "loop", "user": "reader"}}],
    }
    path = Path(tmp_path) / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_the_kubernetes_token_never_follows_a_redirect_off_the_api_server(tmp_path):
    with (
        canned_server({KUBE_PATH: Reply({"kind": "List", "items": []})}, host="127.0.0.2") as elsewhere,
        canned_server(redirecting([KUBE_PATH], elsewhere.url)) as api,
    ):
        source = ChaosMeshSource(
            name="mesh",
            options={"kubeconfig": kubeconfig(tmp_path, api.url, "kube-secret"), "kinds": ["podchaos"], "retries": 0},
        )
        with pytest.raises(SourceError) as info:
            source.fetch(NOW)
        assert api.authorizations == ["Bearer kube-secret"]
    assert not elsewhere.requests
    assert f"mesh: GET {api.url}{KUBE_PATH}" in str(info.value) and "redirect" in str(info.value)


def test_a_dripping_answer_ends_at_timeout_s():
    """One byte every 2 s never trips a per-read timeout; the answer as a whole gets timeout_s."""
    drip = Reply(b'{"status": "success"}', drip_s=2.0)  # 40 s to send whole
    with canned_server({"/api/v1/status/buildinfo": drip}) as server:
        started = time.monotonic()
        health = build("prometheus", server.url, timeout_s=5).check()
        elapsed = time.monotonic() - started
    assert not health.ok and "timed out after 5 s" in health.detail, health.detail
    assert elapsed < 20


@contextmanager
def dripping_tls_handshake():
    """A TCP server on loopback that answers a TLS client with the start of a 16 KiB handshake record,
    then one byte every 2 s: a handshake that never ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def serve():
        with listener.accept()[0] as client:
            client.sendall(b"\x16\x03\x03\x40\x00")
            while not stopping.wait(2.0):
                try:
                    client.sendall(b"\x00")
                except OSError:
                    return

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        listener.close()
        server.join(10)


def test_a_dripping_tls_handshake_ends_at_timeout_s():
    with dripping_tls_handshake() as url:
        started = time.monotonic()
        health = build("prometheus", url, timeout_s=5, tls_verify=False).check()
        elapsed = time.monotonic() - started
    assert not health.ok and "timed out after 5 s" in health.detail, health.detail
    assert elapsed < 20


def test_a_poll_ends_at_its_deadline_and_the_next_one_runs():
    """Every request of the poll within its own timeout, the poll as a whole outlasting poll_timeout_s."""
    routes = {path: Reply(b'{"status": "success", "data": []}', drip_s=2.0) for path in PROMETHEUS_PATHS}
    with canned_server(routes) as server:
        source = registry.build(
            {
                "kind": "prometheus",
                "name": "slow",
                "url": server.url,
                "retries": 0,
                "timeout_s": 60,
                "poll_timeout_s": 6,
                "interval_s": 30,
            }
        )
        store = open_store(None, "hostile", [source.name])
        poller = Poller([source], store, clock=lambda: NOW)
        started = time.monotonic()
        failed = poller.poll(source)
        elapsed = time.monotonic() - started
        renewing = [t for t in threading.enumerate() if t.name == "opscenter-lease-slow"]
        server.routes.update(prometheus_answers())
        recovered = poller.poll(source)
    assert not failed["ok"] and "deadline of 6 s (poll_timeout_s)" in failed["error"], failed["error"]
    assert elapsed < 20 and not renewing
    assert store.status("slow")["ok"] and recovered["ok"], recovered["error"]
    assert store.read("slow", "service_metrics")["service"].tolist() == ["ledger"]


def gzip_bomb(mib: int) -> bytes:
    """A JSON array of ``mib`` MiB of spaces, gzipped to about a thousandth of that."""
    packer, spaces = zlib.compressobj(wbits=31), b" " * 2**20
    return b"".join(
        [packer.compress(b"["), *(packer.compress(spaces) for _ in range(mib)), packer.compress(b"]"), packer.flush()]
    )


def test_a_compressed_answer_is_limited_once_decompressed_and_never_inflated_whole():
    bomb = gzip_bomb(200)
    routes = {"/api/v1/status/buildinfo": Reply(bomb, headers={"Content-Encoding": "gzip"})}
    with canned_server(routes) as server:
        tracemalloc.start()
        try:
            health = build("prometheus", server.url, max_bytes=2**20).check()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert not health.ok and "response larger than the limit of 1,048,576 bytes (option max_bytes)" in health.detail
    assert peak < 16 * 2**20


def test_a_compressed_answer_within_the_limit_is_read():
    answer = gzip.compress(b'{"status": "success", "data": {"version": "3.1.0"}}')
    routes = {"/api/v1/status/buildinfo": Reply(answer, headers={"Content-Encoding": "gzip"})}
    with canned_server(routes) as server:
        health = build("prometheus", server.url).check()
    assert health.ok and "Prometheus 3.1.0" in health.detail


def many_series(count, points=1):
    return ok(
        {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {"service": f"s{i}", "opscenter_column": "requests_per_s"},
                    "values": [[T0 + 60 * p, "1"] for p in range(points)],
                }
                for i in range(count)
            ],
        }
    )


def test_too_many_series_in_an_answer_is_an_error_naming_the_limit_and_the_source():
    routes = {**prometheus_answers(), "/api/v1/query_range": many_series(150)}
    with canned_server(routes) as server:
        with pytest.raises(SourceError) as info:
            build("prometheus", server.url, max_series=100).fetch(NOW)
    assert f"prometheus-under-test: {server.url}/api/v1/query_range" in str(info.value)
    assert "150 series, over the limit of 100 (option max_series)" in str(info.value)


def test_too_many_points_in_an_answer_is_an_error_naming_the_limit_and_the_source():
    routes = {**prometheus_answers(), "/api/v1/query_range": many_series(3, points=50)}
    with canned_server(routes) as server:
        source = registry.build({"kind": "prometheus", "name": "prom", "url": server.url, "max_rows": 100})
        with pytest.raises(SourceError) as info:
            source.fetch(NOW)
    assert f"prom: {server.url}/api/v1/query_range" in str(info.value)
    assert "150 points, over the limit of 100 rows (max_rows)" in str(info.value)


def test_a_frame_over_max_rows_is_refused_naming_the_limit_and_the_source():
    source = registry.build({"kind": "demo", "name": "estate", "window_h": 1, "max_rows": 1000})
    store = open_store(None, "hostile", [source.name])
    status = Poller([source], store, clock=lambda: NOW).poll(source)
    assert not status["ok"]
    assert "estate: frame service_metrics: 1,680 rows, over the limit of 1,000 (max_rows)" in status["error"]
    assert store.read("estate", "service_metrics") is None and len(store.read("estate", "services")) == 28


def test_the_default_limits_hold_the_1000_service_demo_estate():
    from datasources.base import DEFAULT_MAX_ROWS
    from datasources.monitoring.prometheus import DEFAULT_MAX_SERIES

    frames = registry.build({"kind": "demo", "name": "estate", "services": 1000}).fetch(NOW)
    assert max(len(frame) for frame in frames.values()) < DEFAULT_MAX_ROWS
    resource_series = len(frames["instances"]) * 5  # the node resource set: five columns per instance
    assert resource_series < DEFAULT_MAX_SERIES


def test_a_deeply_nested_answer_is_a_source_error_naming_source_and_url():
    routes = {"/api/v1/status/buildinfo": Reply(b"[" * 200_000 + b"]" * 200_000)}
    with canned_server(routes) as server:
        health = build("prometheus", server.url).check()
    assert not health.ok
    assert health.detail.startswith(f"prometheus-under-test: GET {server.url}/api/v1/status/buildinfo: ")
    assert "nested too deeply" in health.detail


def test_retry_after_is_honoured():
    answers = [Reply("busy", status=503, headers={"Retry-After": "3"}), ok({"version": "3.0.0"})]
    with canned_server({"/api/v1/status/buildinfo": answers}) as server:
        started = time.monotonic()
        health = build("prometheus", server.url, retries=1, backoff_s=0).check()
        elapsed = time.monotonic() - started
    assert health.ok and len(server.requests) == 2
    assert elapsed >= 2.5


def test_connections_are_kept_alive():
    with canned_server({"/api/v1/status/buildinfo": ok({"version": "3.0.0"})}) as server:
        client = HttpClient.from_options("prom", {"url": server.url})
        for _ in range(3):
            client.get("/api/v1/status/buildinfo")
    assert len(server.peers) == 3 and len(set(server.peers)) == 1
