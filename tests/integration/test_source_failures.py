"""Every failure mode of the HTTP sources gives a clear error, keeps the last good frames, stops no other source.

A loopback server answers canned responses: connection refused, timeout, HTTP 4xx/5xx,
Prometheus ``status: error``, invalid JSON, NaN and +Inf values, missing labels, over-size.
"""

from datetime import UTC, datetime

import pytest

from dashboard.core.poller import Poller
from dashboard.core.store import open_store
from datasources import registry
from datasources.base import SourceError
from tests.canned import Reply, canned_server
from tests.conftest import free_port

NOW = datetime(2025, 11, 21, 5, 0, tzinfo=UTC)
T0 = 1763700000
FAST = {"retries": 0, "timeout_s": 5}
PATHS = {
    "prometheus": "/api/v1/query_range",
    "alertmanager": "/api/v2/alerts",
    "jaeger": "/api/services",
    "zipkin": "/api/v2/services",
}


def ok(data):
    return Reply({"status": "success", "data": data})


def matrix(*series):
    return ok({"resultType": "matrix", "result": list(series)})


def tagged(column, value, **labels):
    return {"metric": {**labels, "opscenter_column": column}, "values": [[T0, value]]}


def prometheus_routes(service_answer):
    """Canned Prometheus: ``service_answer`` to the service query, no data to any other."""
    answers = {"service": service_answer}

    def query_range(params):
        is_service_query = "http_server_request_duration_seconds" in params["query"][0]
        return answers["service"] if is_service_query else matrix()

    empty = ok({"resultType": "vector", "result": []})
    return {
        "/api/v1/query_range": query_range,
        "/api/v1/query_exemplars": ok([]),
        "/api/v1/query": empty,
        "answers": answers,
    }


def build(kind, url, **options):
    return registry.build({"kind": kind, "name": f"{kind}-under-test", "url": url, **FAST, **options})


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_connection_refused(kind):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(SourceError, match=rf"^{kind}-under-test: GET {url}{PATHS[kind]}: connection refused$"):
        build(kind, url).fetch(NOW)


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_timeout(kind):
    with canned_server({PATHS[kind]: Reply([], delay_s=1.0)}) as server:
        with pytest.raises(SourceError, match=rf"{PATHS[kind]}: timed out after 0.3 s"):
            build(kind, server.url, timeout_s=0.3).fetch(NOW)


@pytest.mark.parametrize("kind", sorted(PATHS))
@pytest.mark.parametrize("status", [401, 404, 500, 503])
def test_http_errors(kind, status):
    with canned_server({PATHS[kind]: Reply("upstream says no", status=status)}) as server:
        with pytest.raises(SourceError, match=rf"{PATHS[kind]}: HTTP {status} .*: upstream says no"):
            build(kind, server.url).fetch(NOW)


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_invalid_json(kind):
    with canned_server({PATHS[kind]: Reply("<html>proxy login</html>")}) as server:
        with pytest.raises(SourceError, match=rf"{PATHS[kind]}: invalid JSON"):
            build(kind, server.url).fetch(NOW)


@pytest.mark.parametrize("kind", sorted(PATHS))
def test_over_size(kind):
    with canned_server({PATHS[kind]: Reply(["x" * 2000])}) as server:
        with pytest.raises(SourceError, match=rf"{PATHS[kind]}: response larger than the limit of 1,000 bytes"):
            build(kind, server.url, max_bytes=1000).fetch(NOW)


def test_transient_errors_are_retried_with_back_off():
    flaky = [Reply("busy", status=503), Reply("busy", status=502), matrix(tagged("requests_per_s", "5", service="a"))]
    routes = prometheus_routes(matrix())
    answer = routes["/api/v1/query_range"]
    routes["/api/v1/query_range"] = lambda q: flaky if '"requests_per_s"' in q["query"][0] else answer(q)
    with canned_server(routes) as server:
        frames = build("prometheus", server.url, retries=2).fetch(NOW)
        tries = [q for _m, _p, q in server.requests if '"requests_per_s"' in q.get("query", [""])[0]]
    assert len(tries) == 3
    assert frames["service_metrics"]["requests_per_s"].tolist() == [5.0]


def test_client_errors_are_not_retried():
    with canned_server({"/api/v1/query_range": Reply("denied", status=403)}) as server:
        with pytest.raises(SourceError, match="HTTP 403"):
            build("prometheus", server.url, retries=3).fetch(NOW)
        queries = [q["query"][0] for _m, _p, q in server.requests]
        assert len(queries) == len(set(queries))


@pytest.mark.parametrize("status", [200, 400, 422])
def test_prometheus_status_error(status):
    answer = Reply({"status": "error", "errorType": "bad_data", "error": "1:5: parse error: unexpected"}, status=status)
    with canned_server(prometheus_routes(answer)) as server:
        with pytest.raises(SourceError, match=r"query_range: Prometheus error bad_data: 1:5: parse error"):
            build("prometheus", server.url).fetch(NOW)


def test_prometheus_nan_and_inf_become_nulls():
    routes = prometheus_routes(
        matrix(
            tagged("requests_per_s", "+Inf", service="a"),
            tagged("requests_per_s", "2", service="b"),
            tagged("latency_p99_ms", "+Inf", service="b"),
            tagged("error_ratio", "NaN", service="b"),
        )
    )
    with canned_server(routes) as server:
        metrics = build("prometheus", server.url).fetch(NOW)["service_metrics"]
    assert metrics["service"].tolist() == ["b"]
    assert metrics[["error_ratio", "latency_p99_ms"]].isna().all(axis=None)


def test_prometheus_missing_labels():
    with canned_server(prometheus_routes(matrix(tagged("requests_per_s", "1", job="api")))) as server:
        with pytest.raises(SourceError, match="no series carries the label 'service'; set the label option"):
            build("prometheus", server.url).fetch(NOW)


def test_a_failed_look_for_recorded_series_reads_the_raw_queries_and_looks_again_next_poll():
    routes = prometheus_routes(matrix(tagged("requests_per_s", "7", service="ledger")))
    empty = routes["/api/v1/query"]
    routes["/api/v1/query"] = lambda q: Reply("busy", status=503) if "__name__" in q["query"][0] else empty
    with canned_server(routes) as server:
        prom = build("prometheus", server.url)
        for _ in range(2):
            assert prom.fetch(NOW)["service_metrics"]["requests_per_s"].tolist() == [7.0]
        queries = [q["query"][0] for _m, _p, q in server.requests]
    assert sum("__name__" in query for query in queries) == 2
    assert sum("histogram_quantile" in query for query in queries) == 2 * 3  # the raw quantiles, each poll


def test_a_failing_source_keeps_its_last_frames_and_stops_no_other():
    routes = prometheus_routes(matrix(tagged("requests_per_s", "7", service="ledger")))
    with canned_server(routes) as server:
        prom = build("prometheus", server.url)
        demo = registry.build({"kind": "demo", "name": "demo"})
        store = open_store(None, "default", [prom.name, demo.name])
        poller = Poller([prom, demo], store, clock=lambda: NOW)
        assert poller.poll(prom)["ok"]
        routes["answers"]["service"] = Reply("overloaded", status=503)
        failed = poller.poll(prom)
        assert poller.poll(demo)["ok"]
    assert not failed["ok"] and "prometheus-under-test: GET" in failed["error"] and "HTTP 503" in failed["error"]
    assert store.read(prom.name, "service_metrics")["requests_per_s"].tolist() == [7.0]
    assert "order-gateway" in set(store.read(demo.name, "service_metrics")["service"])
