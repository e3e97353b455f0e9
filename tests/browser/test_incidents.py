"""/incidents and /incidents/<id> render with demo data in headless Chromium, without console errors."""
import pytest

pytestmark = pytest.mark.browser


def _no_console_errors(dash_duo):
    errors = [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"]
    assert errors == [], errors


def test_incidents_lists_active_by_priority_with_response_times(dash_duo, demo_app):
    store = demo_app.server.extensions["opscenter"].store
    active = store.frame("incidents").query("state in ['new', 'in_progress', 'on_hold']")
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/incidents")
    dash_duo.wait_for_element(".oc-inc-row", timeout=20)
    rows = dash_duo.find_elements(".oc-inc-row")
    shown = [el.get_attribute("data-incident") for el in rows]
    assert set(shown) == set(active["incident_id"])
    priorities = [int(el.find_element("css selector", ".oc-prio").text[1:]) for el in rows]
    assert priorities == sorted(priorities)
    assert {el.get_attribute("data-days") for el in dash_duo.find_elements(".oc-kpi-block[data-days]")} == {"30", "90"}
    assert "MTTA" in dash_duo.find_element(".oc-inc-kpis").text
    _no_console_errors(dash_duo)


def test_p2_incident_flags_the_failed_change_before_it(dash_duo, demo_app):
    store = demo_app.server.extensions["opscenter"].store
    incident = store.frame("incidents").query("priority == 2 and change_id.notna()").sort_values("opened_at").iloc[-1]
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(f"{dash_duo.server_url}/incidents/{incident['incident_id']}?lang=zh")
    dash_duo.wait_for_element(".oc-change-row.oc-suspect", timeout=20)
    assert dash_duo.find_element(".oc-suspect").get_attribute("data-change") == incident["change_id"]
    assert "可疑变更" in dash_duo.find_element(".oc-suspect").text
    dash_duo.wait_for_element("#oc-incident-timeline .main-svg", timeout=10)
    links = [el.get_attribute("href") for el in dash_duo.find_elements(".oc-drill")]
    assert any("/service/order-gateway?from=" in link for link in links)
    assert any("/chain/equity-trading?from=" in link for link in links)
    _no_console_errors(dash_duo)


def test_unknown_incident_says_so(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/incidents/INC-NOPE")
    dash_duo.wait_for_text_to_equal("#oc-incident-not-found", "No incident INC-NOPE in the current data.", timeout=20)
    _no_console_errors(dash_duo)
