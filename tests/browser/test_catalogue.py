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
