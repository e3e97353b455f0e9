"""/capacity renders cost, headroom and recommendations from the derived peaks, with links to the service page."""
from datetime import datetime, timezone

import pytest

from dashboard.core.derived import DerivedFrames
from tests.browser.conftest import _need_chromium, assert_no_console_errors
from tests.demo_app import polled_demo_app

pytestmark = pytest.mark.browser
WEDNESDAY_AFTERNOON = datetime(2026, 11, 18, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai: a day of trading behind it


def test_capacity_page_shows_costs_and_links(dash_duo):
    _need_chromium()
    dash_duo.start_server(polled_demo_app(clock=lambda: WEDNESDAY_AFTERNOON,
                                          derived=lambda store: DerivedFrames(store, history_days=1)))
    dash_duo.driver.get(dash_duo.server_url + "/capacity")
    dash_duo.wait_for_contains_text("#oc-capacity-total", "CNY", timeout=20)
    dash_duo.wait_for_contains_text("#oc-capacity-chains", "Equity trading", timeout=10)
    link = dash_duo.find_element("#oc-capacity-services a[href^='/service/']")
    assert "from=now-6h" in link.get_attribute("href")
    assert_no_console_errors(dash_duo)
