"""The catalogue's pure computations on the demo estate."""

import pandas as pd
import pytest

from dashboard.analytics import health, service_catalogue
from dashboard.core.settings import load
from datasources.demo import DemoSource

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC")


@pytest.fixture(scope="module")
def frames():
    return DemoSource(name="demo").fetch(NOW.to_pydatetime())


def test_every_service_with_targets_dependencies_chains_and_open_incidents(frames):
    evaluated = health.evaluate(frames["services"], frames["service_metrics"], load().health)
    table = service_catalogue.services_table(
        frames["services"], frames["chains"], frames["edges"], evaluated, frames["incidents"], NOW
    )
    assert len(table) == len(frames["services"])
    row = table.set_index("service").loc["order-gateway"]
    assert row["depends_on"] == ["exchange-link"] and row["chains"] == ["Equity trading"]
    assert row["p95_target_ms"] > 0 and row["status"] in ("ok", "warn", "crit")
    ledger = table.set_index("service").loc["ledger"]
    assert ledger["chains"] == ["Accounts", "Margin financing"]
    open_ids = {i for ids in table["open_incidents"] for i in ids}
    assert open_ids and open_ids <= set(frames["incidents"]["incident_id"])


def test_request_figures_merge_the_itsm_and_the_configured_items(frames):
    offered = [{"item": "Laptop", "category": "Workplace", "target_h": 48}]
    figures = service_catalogue.request_figures(frames["service_requests"], offered).set_index("item")
    vpn = figures.loc["VPN token replacement"]
    assert vpn["requests"] > 50 and 0 < vpn["in_target"] < 1 and vpn["median_h"] > 0
    assert figures.loc["Laptop", "requests"] == 0 and figures.loc["Laptop", "target_h"] == 48
