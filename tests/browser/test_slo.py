"""/slo on the demo at 14:10 on a Wednesday: the order-gateway episodes of the morning and the afternoon
sessions have spent equity trading's availability budget, the other chains keep theirs; the wall's chains
carry the same budget badges."""

from datetime import UTC, datetime

import pytest

from dashboard.core.derived import DerivedFrames
from dashboard.core.settings import load
from tests.browser.conftest import _need_chromium, assert_no_console_errors
from tests.demo_app import polled_demo_app

pytestmark = pytest.mark.browser
WEDNESDAY_AFTERNOON = datetime(2026, 11, 18, 6, 10, tzinfo=UTC)  # 14:10 in Shanghai


def _app():
    settings = load()
    return polled_demo_app(
        clock=lambda: WEDNESDAY_AFTERNOON,
        derived=lambda store: DerivedFrames(store, history_days=1, health=settings.health, slo_settings=settings.slo),
    )


def test_the_episode_spends_equity_tradings_budget_on_the_slo_page_and_the_wall(dash_duo):
    _need_chromium()
    dash_duo.start_server(_app())
    dash_duo.driver.get(dash_duo.server_url + "/slo")
    dash_duo.wait_for_contains_text("#oc-slo-table", "Equity trading", timeout=20)
    row = "#oc-slo-table tr[data-chain='{}'][data-objective='availability']"
    spent = dash_duo.find_element(row.format("equity-trading"))
    assert "spent" in spent.text and spent.find_element("css selector", ".oc-slo-budget.oc-crit")
    kept = dash_duo.find_element(row.format("market-data"))
    assert "spent" not in kept.text and kept.find_element("css selector", ".oc-slo-budget.oc-ok")
    assert dash_duo.find_element("#oc-slo-chart .main-svg")
    dash_duo.driver.get(dash_duo.server_url + "/wall")
    badge = ".oc-chain[data-chain='{}'] .oc-chain-budget"
    dash_duo.wait_for_contains_text(badge.format("equity-trading"), "budget spent", timeout=20)
    assert "oc-crit" in dash_duo.find_element(badge.format("equity-trading")).get_attribute("class")
    dash_duo.wait_for_contains_text(badge.format("market-data"), "budget 7", timeout=10)
    assert_no_console_errors(dash_duo)
