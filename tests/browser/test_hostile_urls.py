"""Hostile URL values in headless Chromium: each page shows its clear message, no console error."""

from urllib.parse import quote

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By

from tests.browser.conftest import assert_no_console_errors

pytestmark = pytest.mark.browser
ATTACK = quote("<img src=x onerror=alert(1)>", safe="")
URLS = [
    (f"/chain/{ATTACK}", "#oc-drill-problem"),
    (f"/service/quote-service?from={ATTACK}", "#oc-drill-problem"),
    (f"/trace/{ATTACK}", "#oc-drill-problem"),
    (f"/incidents/{ATTACK}", "#oc-incident-bad-input"),
    (f"/wall?lang={ATTACK}&playlist={ATTACK}", ".oc-chain"),
    (f"/preplans?plan={ATTACK}&version={ATTACK}", "#oc-preplans-problem"),
]


def test_hostile_urls_get_clear_messages(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    for path, selector in URLS:
        dash_duo.driver.get(dash_duo.server_url + path)
        dash_duo.wait_for_element(selector, timeout=20)
        assert "Traceback" not in dash_duo.driver.page_source
        assert dash_duo.driver.find_elements(By.CSS_SELECTOR, "img[src='x']") == [], f"{path} echoed markup"
        with pytest.raises(NoAlertPresentException):
            _ = dash_duo.driver.switch_to.alert
    assert_no_console_errors(dash_duo)
