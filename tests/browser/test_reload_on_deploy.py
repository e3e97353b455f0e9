"""A page drawn by another build than the server now runs reloads itself when nobody works on it (a wall left open
across a deploy), and not when somebody may be typing in it."""

import pytest
from dash.testing.wait import until

from tests.browser.conftest import _need_chromium, assert_no_console_errors
from tests.demo_app import polled_demo_app

pytestmark = pytest.mark.browser


CHECKS = "return performance.getEntriesByName(location.origin + '/health').length"


def _open_as_drawn_by_an_older_build(dash_duo, path: str, ready: str) -> None:
    """Open ``path`` of the demo and mark the page as drawn by another build than the server runs."""
    _need_chromium()
    dash_duo.start_server(polled_demo_app())
    dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_element(ready, timeout=20)
    dash_duo.driver.execute_script(
        "window.ocDrawnBefore = true;"
        f"window.ocChecksBefore = (function () {{ {CHECKS}; }})();"
        "document.getElementById('oc-liveness').setAttribute('data-build', 'an-older-build');"
    )


def test_a_wall_drawn_by_an_older_build_reloads_and_then_stays(dash_duo):
    _open_as_drawn_by_an_older_build(dash_duo, "/wall", ".oc-tile")
    until(lambda: dash_duo.driver.execute_script("return window.ocDrawnBefore === undefined"), timeout=30)
    dash_duo.wait_for_element(".oc-tile", timeout=20)
    dash_duo.driver.execute_script("window.ocDrawnAfter = true;")
    # the reloaded page is of the server's build: two more of its checks pass without a reload
    until(lambda: dash_duo.driver.execute_script(CHECKS) >= 3, timeout=30)
    assert dash_duo.driver.execute_script("return window.ocDrawnAfter === true")
    assert_no_console_errors(dash_duo)


def test_a_page_somebody_works_on_is_left_as_it_is(dash_duo):
    _open_as_drawn_by_an_older_build(dash_duo, "/incidents", "#oc-liveness")
    # two answers of another build would have reloaded the wall
    until(lambda: dash_duo.driver.execute_script(CHECKS + " - window.ocChecksBefore") >= 3, timeout=30)
    assert dash_duo.driver.execute_script("return window.ocDrawnBefore === true")
    assert_no_console_errors(dash_duo)
