"""The incident pages' parts: the health of the services an incident page shows."""

import pandas as pd

from dashboard import context
from dashboard.analytics import health
from dashboard.app import create_app
from dashboard.core.derived import DerivedFrames
from dashboard.core.settings import load, parse
from dashboard.core.store import open_store
from layouts.components import views
from layouts.components.incident_parts import service_health
from tests.demo_app import polled_demo_app

NOW = pd.Timestamp("2026-12-07 02:00", tz="UTC")


def _metrics(service: str, last: pd.Timestamp, error_ratio: float) -> pd.DataFrame:
    stamps = pd.date_range(end=last, periods=10, freq="1min")
    return pd.DataFrame(
        {
            "ts": stamps,
            "service": service,
            "requests_per_s": 10.0,
            "error_ratio": error_ratio,
            "latency_p50_ms": 5.0,
            "latency_p95_ms": 9.0,
            "latency_p99_ms": 12.0,
        }
    )


def test_a_service_whose_metrics_stopped_has_no_health_on_the_incident_pages_not_its_last_one():
    settings = parse("sources:\n  - {kind: demo, name: demo}\n")
    store = open_store(None, "incident-parts", settings.source_names)
    services = pd.DataFrame(
        {
            "service": ["live", "stopped"],
            "display_name": ["Live", "Stopped"],
            "tier": [1, 1],
            "owner": ["ops", "ops"],
            "runbook_url": [None, None],
        }
    )
    metrics = pd.concat([_metrics("live", NOW, 0.0), _metrics("stopped", NOW - pd.Timedelta(minutes=30), 0.0)])
    store.write("demo", {"services": services, "service_metrics": metrics.reset_index(drop=True)})
    app = create_app(settings, store)
    with app.server.test_request_context("/incidents"):
        health = service_health(None, ["live", "stopped"])
        assert health["live"] == "ok"
        assert health["stopped"] == "nodata"  # its last samples were healthy, but they are not current
        assert service_health(None, ["stopped"])["stopped"] == "nodata"


def test_on_a_polled_estate_the_incident_pages_show_the_health_the_wall_does():
    settings = load()
    app = polled_demo_app(derived=lambda store: DerivedFrames(store, history_days=1, health=settings.health))
    with app.server.test_request_context("/incidents"):
        ctx = context.current()
        store = ctx.store
        now = pd.Timestamp.now("UTC")
        assert views.stored(store, store.versions(), store.statuses(), now, ctx.offered, settings.health) is not None
        wall = health.evaluate(store.frame("services"), store.frame("service_metrics"), settings.health)
        names = wall["service"].tolist()
        assert service_health(None, names).to_dict() == wall.set_index("service")["status"].to_dict()
