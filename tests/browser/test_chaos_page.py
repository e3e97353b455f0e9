"""/chaos renders with demo data in headless Chromium: chains, the deviated quote-service run, no console errors."""

import pytest

from dashboard.analytics import resilience

pytestmark = pytest.mark.browser


def test_chaos_page_shows_the_deviated_quote_service_run(dash_duo, demo_app):
    store = demo_app.server.extensions["opscenter"].store
    chains = set(store.frame("chains")["chain"])
    deviated = store.frame("chaos_runs").query("service == 'quote-service' and deviated")
    assert len(deviated)
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/chaos")
    dash_duo.wait_for_element(".oc-chaos-chain", timeout=20)
    assert {el.get_attribute("data-chain") for el in dash_duo.find_elements(".oc-chaos-chain")} == chains
    dash_duo.wait_for_element("#oc-chaos-timeline .main-svg", timeout=20)
    dash_duo.wait_for_element("#oc-chaos-runs .ag-row", timeout=20)
    run = deviated.sort_values("started_at").iloc[-1]
    row = dash_duo.find_element(f'#oc-chaos-runs .ag-center-cols-container .ag-row[row-id="{run.run_id}"]')
    assert "quote-service" in row.text and "failed" in row.text
    link = row.find_element("css selector", "a").get_attribute("href")
    assert link.endswith(resilience.impact_link("quote-service", run.started_at, run.ended_at))
    step = dash_duo.find_element('.oc-chaos-chain[data-chain="equity-trading"] [data-service="quote-service"]')
    assert step.get_attribute("data-coverage") == "recent"
    errors = [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]
    assert errors == [], errors
    dash_duo.driver.get(link)
    dash_duo.wait_for_element("#oc-service-timeline .main-svg", timeout=20)
    assert not dash_duo.find_elements("#oc-drill-problem")


def test_chaos_page_in_chinese(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/chaos?lang=zh")
    dash_duo.wait_for_text_to_equal(".oc-chaos h1", "混沌工程与韧性", timeout=20)
    dash_duo.wait_for_element(".oc-chaos-chain", timeout=20)
    errors = [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]
    assert errors == [], errors
