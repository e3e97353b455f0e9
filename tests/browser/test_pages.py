"""The shell, /sources and the not-found page render with demo data in headless Chromium, without console errors."""

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import assert_no_console_errors as _no_console_errors

pytestmark = pytest.mark.browser


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


def _wait_for_title(dash_duo, title: str) -> None:
    WebDriverWait(dash_duo.driver, 20).until(
        lambda driver: driver.title == title, f"the tab title never became {title!r}"
    )


def test_navigation_and_tab_title_follow_the_language_in_the_url(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/incidents?lang=zh")
    dash_duo.wait_for_text_to_equal('.oc-nav-link[href="/incidents?lang=zh"]', "事件", timeout=20)
    assert dash_duo.find_element('.oc-nav-link[href="/catalogue?lang=zh"]').text == "服务目录"
    _wait_for_title(dash_duo, "事件")
    dash_duo.find_element('.oc-nav-link[href="/chaos?lang=zh"]').click()
    dash_duo.wait_for_text_to_equal(".oc-chaos h1", "混沌工程与韧性", timeout=20)
    assert dash_duo.find_element('.oc-nav-link[href="/wall?lang=zh"]').text == "大屏"
    _wait_for_title(dash_duo, "混沌工程")
    dash_duo.driver.get(dash_duo.server_url + "/incidents")
    dash_duo.wait_for_text_to_equal('.oc-nav-link[href="/incidents"]', "Incidents", timeout=20)
    _wait_for_title(dash_duo, "Incidents")
    _no_console_errors(dash_duo)
