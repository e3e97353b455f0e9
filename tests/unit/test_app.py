"""The app's own routes: /health, /metrics, and / redirecting to the wall."""
import pytest

from dashboard import metrics
from dashboard.app import create_app
from dashboard.figures import sparkline_svg
from dashboard.poller import Poller
from dashboard.settings import load
from dashboard.store import open_store
from datasources import registry


@pytest.fixture(scope="module")
def client():
    settings = load()
    store = open_store(None, "default", settings.source_names)
    poller = Poller([registry.build(s) for s in settings.sources], store)
    for source in poller.sources:
        poller.poll(source)
    return create_app(settings, store).server.test_client()


def test_health_reports_store_and_sources(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["store"] == {"backend": "local", "ok": True}
    assert body["sources"]["demo"]["ok"] and not body["sources"]["demo"]["stale"]
    assert body["sources"]["demo"]["rows"] > 1000


def test_health_is_503_when_the_store_is_unreachable():
    settings = load()
    store = open_store("redis://127.0.0.1:1/0", "default", settings.source_names)
    response = create_app(settings, store).server.test_client().get("/health")
    assert response.status_code == 503
    assert response.get_json()["store"] == {"backend": "redis", "ok": False}


def test_metrics_expose_polls_and_callbacks(client):
    client.post("/_dash-update-component", json={"output": "oc-versions.data", "inputs": [], "changedPropIds": []})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'opscenter_poll_duration_seconds_count{source="demo"} ' in text
    assert 'opscenter_callback_duration_seconds_bucket{callback="oc-versions.data",le="+Inf"}' in text


def test_root_redirects_to_the_wall_keeping_the_query(client):
    response = client.get("/?lang=zh")
    assert response.status_code == 302 and response.headers["Location"] == "/wall?lang=zh"


def test_metric_rendering_counts_and_escapes():
    counter = metrics.Counter("t_total", "help", "source")
    counter.inc('a"b')
    counter.inc('a"b')
    assert 't_total{source="a\\"b"} 2' in counter.render()


def test_sparkline_is_an_svg_starting_at_zero():
    uri = sparkline_svg([10.0, 20.0], "#fff", width=100, height=20)
    assert uri.startswith("data:image/svg+xml,") and "polyline" in uri
    assert "0.0%2C10.0" in uri and "100.0%2C2.0" in uri  # 10 sits half-way up: the scale starts at 0
    assert "polyline" not in sparkline_svg([1.0], "#fff")
