"""/preplans on the demo in headless Chromium: the library listed, a pre-plan opened and its steps read, the tier-1
services without a pre-plan flagged; the incident checklist's pre-plan title opens the same view."""

import pytest

from dashboard import ids
from tests.browser.conftest import assert_no_console_errors

pytestmark = pytest.mark.browser


def test_the_library_lists_preplans_opens_one_and_flags_tier_one_gaps(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/preplans")
    dash_duo.wait_for_element(f"#{ids.PREPLANS_LIST} tr[data-preplan='order-gateway-down']", timeout=20)
    listed = [r.get_attribute("data-preplan") for r in dash_duo.find_elements(f"#{ids.PREPLANS_LIST} tbody tr")]
    assert listed == ["bank-transfer-outage", "market-data-stall", "order-gateway-down", "site-failover"]
    gateway = dash_duo.find_element(f"#{ids.PREPLANS_LIST} tr[data-preplan='order-gateway-down']").text
    assert "Order gateway down or rejecting orders" in gateway and "v2" in gateway and "older: v1" in gateway
    assert "70 min" in gateway
    assert "Choose a pre-plan" in dash_duo.find_element(f"#{ids.PREPLANS_DETAIL}").text

    flagged = dash_duo.find_element(f"#{ids.PREPLANS_UNCOVERED} tr[data-service='clearing']")
    assert flagged.get_attribute("data-tier") == "1" and "tier 1" in flagged.text
    assert flagged.find_elements("css selector", ".oc-preplans-flag")
    tiers = [r.get_attribute("data-tier") for r in dash_duo.find_elements(f"#{ids.PREPLANS_UNCOVERED} tbody tr")]
    assert tiers == sorted(tiers) and tiers[0] == "1"
    assert not dash_duo.find_elements(f"#{ids.PREPLANS_UNCOVERED} tr[data-service='order-gateway']")
    assert "6 tier-1 services without a pre-plan" in dash_duo.find_element(".oc-preplans-summary").text

    dash_duo.find_element(f"#{ids.PREPLANS_LIST} tr[data-preplan='order-gateway-down'] a.oc-preplans-open").click()
    dash_duo.wait_for_element(
        f"#{ids.PREPLANS_DETAIL}[data-preplan='order-gateway-down'][data-version='2']", timeout=20
    )
    assert dash_duo.driver.current_url.endswith("/preplans?plan=order-gateway-down")
    steps = dash_duo.find_elements(f"#{ids.PREPLANS_DETAIL} .oc-preplans-step")
    assert len(steps) == 5
    assert "Check the exchange link's sessions" in steps[1].text and "new" in steps[1].text
    assert "Owner: trading platform on-call" in steps[2].text and "15 min" in steps[2].text
    assert "Escalation: Call the head of trading platform" in steps[2].text
    assert "Changes from version 1" in dash_duo.find_element(f"#{ids.PREPLANS_DETAIL}").text

    dash_duo.find_element(f"#{ids.PREPLANS_DETAIL} .oc-preplans-version").click()  # version 1, superseded
    dash_duo.wait_for_element(f"#{ids.PREPLANS_DETAIL}[data-version='1']", timeout=20)
    assert len(dash_duo.find_elements(f"#{ids.PREPLANS_DETAIL} .oc-preplans-step")) == 3
    assert "superseded" in dash_duo.find_element(".oc-preplans-status").text
    assert_no_console_errors(dash_duo)


def test_the_checklist_title_opens_the_preplan_in_the_library(dash_duo, demo_app):
    incidents = demo_app.server.extensions["opscenter"].store.frame("incidents")
    incident_id = incidents.loc[incidents["service"] == "order-gateway", "incident_id"].iloc[-1]
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(f"{dash_duo.server_url}/incidents/{incident_id}")
    link = dash_duo.wait_for_element(f"#{ids.PREPLAN_CHECKLIST} a.oc-preplan-library", timeout=20)
    assert link.get_attribute("href").endswith("/preplans?plan=order-gateway-down&version=2")
    link.click()
    dash_duo.wait_for_element(f"#{ids.PREPLANS_DETAIL}[data-preplan='order-gateway-down']", timeout=20)
    assert len(dash_duo.find_elements(f"#{ids.PREPLANS_DETAIL} .oc-preplans-step")) == 5

    dash_duo.driver.get(f"{dash_duo.server_url}/preplans?plan=order-gateway-down&version=7&lang=zh")
    dash_duo.wait_for_contains_text(f"#{ids.PREPLANS_DETAIL}", "预案 order-gateway-down 没有第 7 版", timeout=20)
    assert_no_console_errors(dash_duo)
