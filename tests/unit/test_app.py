"""The app's own routes: /health, /metrics, and / redirecting to the wall; the shell's liveness settings and the
build a page was drawn by."""

import json
import secrets

import pytest

from dashboard import build
from dashboard.app import create_app
from dashboard.core.settings import load, parse
from dashboard.core.store import open_store
from dashboard.security import callbacks as callback_access
from dashboard.security.access import AccessStore
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


def test_metrics_stay_bounded_whatever_callbacks_anonymous_requests_name(tmp_path, monkeypatch):
    monkeypatch.setenv("OC_TEST_SECRET_KEY", secrets.token_urlsafe(32))
    settings = parse(
        "sources:\n  - {kind: demo, name: demo}\nauth:\n  mode: builtin\n  secret_key: ${OC_TEST_SECRET_KEY}\n"
    )
    app = create_app(
        settings,
        open_store(None, "default", settings.source_names),
        AccessStore(f"sqlite:///{tmp_path / 'history.sqlite3'}"),
    )
    client = app.server.test_client()
    names = [f"oc-{secrets.token_hex(16)}.children" for _ in range(300)]
    for name in ("oc-versions.data", names[0]):
        assert client.post("/_dash-update-component", json={"output": name}).status_code == 401
    before = client.get("/metrics").get_data(as_text=True)
    for name in names[1:]:
        assert client.post("/_dash-update-component", json={"output": name, "inputs": []}).status_code == 401
    client.post("/_dash-update-component", data="[1]", content_type="application/json")
    after = client.get("/metrics").get_data(as_text=True)
    assert f'callback="{callback_access.UNREGISTERED}"' in after and 'callback="oc-versions.data"' in after
    assert not any(name in after for name in names)
    assert len(after) - len(before) < 200  # only counts grew


def test_root_redirects_to_the_wall_keeping_the_query(client):
    response = client.get("/?lang=zh")
    assert response.status_code == 302 and response.headers["Location"] == "/wall?lang=zh"


def test_every_page_carries_what_the_liveness_check_says_in_each_language(client):
    page = client.get("/_dash-layout").get_json()
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == "oc-liveness":
                found.append(node["props"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(page)
    texts = json.loads(found[0]["data-text"])
    assert texts["en"]["lost"] == "Connection lost since {time}" and texts["zh"]["lost"] == "连接中断，始于 {time}"
    assert found[0]["data-interval-ms"] == "5000" and found[0]["data-tz"] == "Asia/Shanghai"
    assert found[0]["data-build"] == client.get("/health").get_json()["build"] == build.build_id()


def test_the_build_changes_with_any_code_or_asset_and_nothing_else(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "layouts").mkdir()
    (tmp_path / "assets" / "wall.js").write_text("paint();")
    (tmp_path / "layouts" / "wall.py").write_text("x = 1")
    first = build.digest(tmp_path)
    (tmp_path / "layouts" / "notes.txt").write_text("not code")
    assert build.digest(tmp_path) == first
    (tmp_path / "assets" / "wall.js").write_text("paint(model);")
    assert build.digest(tmp_path) != first
