"""The partitioned frame store on the real Redis: after a poll of a large demo estate no value is over the
limit, and a worker drawing /service decodes only the partitions of that service."""

import json

import pandas as pd
import pytest
import redis

from dashboard.app import create_app
from dashboard.core.poller import Poller
from dashboard.core.settings import parse
from dashboard.core.store import open_store, partition_of
from datasources import registry
from layouts.pages import service

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC").to_pydatetime()
LIMIT_MB = 1.0  # small, so that it bites on a few hundred services
SERVICE = "pretrade-risk"
POLLED = ("service_metrics", "resource_metrics", "calls", "log_rates")  # the partitioned frames a poll writes


@pytest.fixture
def polled(redis_url, deployment):
    """One poll of a 300-service demo estate into Redis, under the test's own deployment (removed after)."""
    settings = parse(
        f"deployment: {deployment}\nframe_limit_mb: {LIMIT_MB}\n"
        "sources:\n  - {kind: demo, name: demo, interval_s: 15, services: 300}\n"
    )
    store = open_store(redis_url, settings.deployment, settings.source_names, settings.frame_limit_mb)
    source = registry.build(settings.sources[0])
    status = Poller([source], store, clock=lambda: NOW).poll(source)
    assert status["ok"], status["error"]
    client = redis.Redis.from_url(redis_url)
    yield settings, client
    client.close()


def test_no_value_in_redis_is_over_the_limit(polled):
    settings, client = polled
    keys = list(client.scan_iter(match=f"opscenter:{settings.deployment}:*", count=1000))
    sizes = {key.decode(): client.strlen(key) for key in keys}
    resources = [k for k in sizes if k.startswith(f"opscenter:{settings.deployment}:frame:demo:resource_metrics:")]
    assert len(resources) >= 16  # about 30 MB of resource metrics: cut, never one value
    assert max(sizes.values()) <= LIMIT_MB * 1_000_000


def test_a_worker_drawing_a_service_decodes_only_its_partitions(polled, redis_url):
    settings, client = polled
    worker = open_store(redis_url, settings.deployment, settings.source_names, settings.frame_limit_mb)
    app = create_app(settings, worker)
    with app.server.test_request_context(f"/service/{SERVICE}"):
        page = service.layout(service=SERVICE)
    assert SERVICE in str(page)
    for name in POLLED:
        count = json.loads(client.get(f"opscenter:{settings.deployment}:parts:demo:{name}"))["parts"]
        assert count > 1, name
        assert set(worker._parts[("demo", name)][1]) == {partition_of(SERVICE, count)}, name
        assert ("demo", name) not in worker._decoded, name  # never the whole frame
    resources = worker.frame("resource_metrics", services=[SERVICE])
    assert len(resources) and set(resources["service"]) == {SERVICE}
    assert len(worker.frame("resource_metrics")) > 50 * len(resources)  # the whole frame, all partitions
