"""/wall and /sources render with demo data in headless Chromium, without console errors."""
import pytest

pytestmark = pytest.mark.browser


def _no_console_errors(dash_duo):
    errors = [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"]
    assert errors == [], errors


def test_wall_shows_every_chain_and_incident(dash_duo, demo_app):
    store = demo_app.server.extensions["opscenter"].store
    chains = store.frame("chains")["chain"].unique()
    active = store.frame("incidents").query("state in ['new', 'in_progress', 'on_hold']")
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(demo_app)
    dash_duo.wait_for_element(".oc-chain", timeout=20)
    shown = {el.get_attribute("data-chain") for el in dash_duo.find_elements(".oc-chain")}
    assert shown == set(chains)
    tiles = dash_duo.find_elements(".oc-tile")
    assert len(tiles) >= 20 and all(t.text.strip() for t in tiles)
    listed = {el.get_attribute("data-incident") for el in dash_duo.find_elements(".oc-incident")}
    assert listed == set(active["incident_id"]) and listed
    _no_console_errors(dash_duo)


def test_root_redirects_to_wall(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    dash_duo.wait_for_element(".oc-chain", timeout=20)
    assert dash_duo.driver.current_url.endswith("/wall")


def test_sources_page_lists_every_source(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/sources")
    dash_duo.wait_for_text_to_equal("#oc-sources-summary", "1 of 1 sources healthy", timeout=20)
    dash_duo.wait_for_element(".ag-row .oc-cell-fresh", timeout=10)
    assert "demo" in dash_duo.find_element(".ag-center-cols-container, .ag-pinned-left-cols-container").text
    _no_console_errors(dash_duo)


def test_unknown_page_is_not_found(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/no/such/page")
    dash_duo.wait_for_element("#oc-not-found", timeout=20)
    _no_console_errors(dash_duo)
