"""/catalogue lists every demo service and the standard service requests, without console errors."""

import pytest

from datasources.demo import ESTATE, REQUEST_ITEMS
from tests.browser.conftest import assert_no_console_errors as _no_console_errors

pytestmark = pytest.mark.browser


def test_catalogue_lists_services_and_service_requests(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/catalogue")
    dash_duo.wait_for_element("#oc-catalogue-services tr[data-service='ledger']", timeout=20)
    rows = dash_duo.find_elements("#oc-catalogue-services tbody tr")
    assert len(rows) == len(ESTATE)
    ledger = dash_duo.find_element("#oc-catalogue-services tr[data-service='ledger']").text
    assert "post-trade" in ledger and "Accounts" in ledger and "Margin financing" in ledger
    assert len(dash_duo.find_elements("#oc-catalogue-requests tbody tr")) == len(REQUEST_ITEMS)
    assert "%" in dash_duo.find_element("#oc-catalogue-requests tr[data-item='VPN token replacement']").text
    _no_console_errors(dash_duo)


def test_an_open_incident_links_to_its_page(dash_duo, demo_app):
    """The catalogue's open-incident link opens the incident's page, not "Not found"."""
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/catalogue")
    link = dash_duo.wait_for_element("#oc-catalogue-services a[href^='/incidents/']", timeout=20)
    incident_id = link.text
    assert link.get_attribute("href").endswith(f"/incidents/{incident_id}")
    link.click()
    dash_duo.wait_for_element("#oc-incident-timeline .main-svg", timeout=20)
    assert incident_id in dash_duo.find_element("h1").text
    assert not dash_duo.find_elements("#oc-incident-not-found")
    _no_console_errors(dash_duo)
