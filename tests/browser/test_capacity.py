"""/capacity renders cost, headroom and recommendations from the derived peaks, with links to the service page."""
import pytest

from dashboard.app import create_app
from dashboard.derived import DerivedFrames
from dashboard.poller import Poller
from dashboard.settings import load
from dashboard.store import open_store
from datasources import registry
from tests.browser.conftest import _need_chromium, assert_no_console_errors

pytestmark = pytest.mark.browser


def test_capacity_page_shows_costs_and_links(dash_duo):
    _need_chromium()
    settings = load()
    store = open_store(None, settings.deployment, settings.source_names)
    poller = Poller([registry.build(spec) for spec in settings.sources], store,
                    derived=DerivedFrames(store, history_days=1))
    for source in poller.sources:
        poller.poll(source)
    dash_duo.start_server(create_app(settings, store))
    dash_duo.driver.get(dash_duo.server_url + "/capacity")
    dash_duo.wait_for_contains_text("#oc-capacity-total", "CNY", timeout=20)
    dash_duo.wait_for_contains_text("#oc-capacity-chains", "Equity trading", timeout=10)
    link = dash_duo.find_element("#oc-capacity-services a[href^='/service/']")
    assert "from=now-6h" in link.get_attribute("href")
    assert_no_console_errors(dash_duo)
