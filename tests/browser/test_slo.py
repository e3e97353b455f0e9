"""/slo on the demo at 14:10 on a Wednesday: the order-gateway episodes of the morning and the afternoon
sessions have spent equity trading's availability budget, the other chains keep theirs; the wall's chains
carry the same budget badges."""

import re
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
    spent_badge = dash_duo.find_element(badge.format("equity-trading"))
    assert "oc-crit" in spent_badge.get_attribute("class")
    assert re.fullmatch(
        r"Error budget left over 30 days .*; burn-rate alert: (none|ticket|page)", spent_badge.get_attribute("title")
    )
    dash_duo.wait_for_contains_text(badge.format("market-data"), "budget 7", timeout=10)
    assert_no_console_errors(dash_duo)


SUNDAY_AFTERNOON = datetime(2026, 11, 22, 6, 10, tzinfo=UTC)  # 14:10 in Shanghai: no session in the window


def test_without_events_in_the_window_the_alert_says_no_data_and_nothing_is_green(dash_duo):
    """No history database to backfill from and a Sunday's window: every objective has no data, shown grey
    with the neutral shape on /slo, and the wall's chains carry no budget badge, never a green one."""
    _need_chromium()
    settings = load()
    dash_duo.start_server(
        polled_demo_app(
            clock=lambda: SUNDAY_AFTERNOON,
            derived=lambda store: DerivedFrames(
                store, history_days=1, health=settings.health, slo_settings=settings.slo
            ),
        )
    )
    dash_duo.driver.get(dash_duo.server_url + "/slo")
    dash_duo.wait_for_contains_text("#oc-slo-table", "Equity trading", timeout=20)
    alerts = dash_duo.find_elements("#oc-slo-table .oc-slo-alert")
    assert len(alerts) == 5 * 2 and all(a.text.endswith("no data") for a in alerts)
    assert all("oc-nodata" in a.get_attribute("class") for a in alerts)
    assert not dash_duo.find_elements("#oc-slo-table .oc-ok")
    dash_duo.driver.get(dash_duo.server_url + "/wall")
    dash_duo.wait_for_element(".oc-chain[data-chain='equity-trading'] .oc-chain-budget.oc-nodata", timeout=20)
    badges = dash_duo.find_elements(".oc-chain .oc-chain-budget")
    assert badges and all("oc-nodata" in b.get_attribute("class") and not b.text for b in badges)
    assert all(b.get_attribute("title").endswith("alert: no data") for b in badges)
    assert_no_console_errors(dash_duo)
