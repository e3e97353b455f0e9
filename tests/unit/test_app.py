"""The app's own routes: /health, /metrics, and / redirecting to the wall."""
import pytest

from dashboard import metrics
from dashboard.app import create_app
from dashboard.settings import load
from dashboard.store import open_store
from tests.demo_app import polled_demo_app


@pytest.fixture(scope="module")
def client():
    return polled_demo_app().server.test_client()


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
