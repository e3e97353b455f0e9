"""Business figures first: the chain page opens with them, the wall's chain rows lead with their headline."""

from datetime import timedelta

import pandas as pd

from datasources.demo import episodes
from tests.browser.conftest import _need_chromium, assert_no_console_errors
from tests.demo_app import polled_demo_app

FRIDAY = pd.Timestamp("2026-12-04 00:00", tz="UTC")
SPIKE = next(e for e in episodes(FRIDAY, FRIDAY + pd.Timedelta(days=1)) if e.kind == "reject_spike")
CLOCK = (SPIKE.start + pd.Timedelta(minutes=4)).to_pydatetime()  # four minutes into a counter's reject spike


def _app():
    _need_chromium()
    return polled_demo_app(clock=lambda: CLOCK)


def test_the_chain_page_shows_its_business_figures_before_its_steps(dash_duo):
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(_app())
    window = f"from={(CLOCK - timedelta(hours=1)):%Y-%m-%dT%H:%M:%SZ}&to={CLOCK:%Y-%m-%dT%H:%M:%SZ}"
    dash_duo.driver.get(f"{dash_duo.server_url}/chain/equity-trading?{window}")
    lead = dash_duo.wait_for_element("#oc-chain-business .oc-biz-card", timeout=20)
    assert (lead.get_attribute("data-metric"), lead.get_attribute("data-status")) == ("order_success_ratio", "crit")
    assert "central-b" in lead.text and "%" in lead.text
    metrics = [card.get_attribute("data-metric") for card in dash_duo.find_elements("#oc-chain-business .oc-biz-card")]
    assert metrics == ["order_success_ratio", "orders_per_s", "order_rejects_per_s", "counter_latency_p99_ms"]
    first_step = dash_duo.find_element(".oc-step")
    assert lead.location["y"] + lead.size["height"] < first_step.location["y"]  # business first, services second
    assert lead.location["y"] + lead.size["height"] < 1080  # in the first screen
    assert_no_console_errors(dash_duo)


def test_the_wall_leads_each_chain_row_with_its_headline_figure(dash_duo):
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(_app())
    dash_duo.driver.get(f"{dash_duo.server_url}/wall?lang=zh")
    trading = '.oc-chain[data-chain="equity-trading"] .oc-chain-business'
    dash_duo.wait_for_contains_text(trading, "%", timeout=20)
    headline = dash_duo.find_element(trading)
    assert "oc-crit" in headline.get_attribute("class").split() and "委托成功" in headline.text
    badge = dash_duo.find_element('.oc-chain[data-chain="equity-trading"] .oc-chain-status')
    assert headline.location["x"] < badge.location["x"]  # before the technical status
    accounts = dash_duo.find_element('.oc-chain[data-chain="accounts"] .oc-chain-business')
    assert "oc-ok" in accounts.get_attribute("class").split()
    assert not dash_duo.find_element('.oc-chain[data-chain="wealth"] .oc-chain-business').is_displayed()
    assert_no_console_errors(dash_duo)
