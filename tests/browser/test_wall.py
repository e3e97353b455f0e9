"""/wall in headless Chromium: fit at 1080p and 4K, kiosk and playlists, freshness, the P1 banner."""
import json

import pytest
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser.conftest import assert_no_console_errors

pytestmark = pytest.mark.browser

SIZES = ((1920, 1080), (3840, 2160))
OUTSIDE = """
const view = {w: window.innerWidth, h: window.innerHeight};
const clipped = (el) => {
  const r = el.getBoundingClientRect(), box = el.closest('.oc-panel, .oc-chains-panel, .oc-kpi').getBoundingClientRect();
  return r.width === 0 || r.top < 0 || r.left < 0 || r.bottom > Math.min(view.h, box.bottom + 1) || r.right > view.w;
};
return {
  scrolls: document.documentElement.scrollHeight > view.h || document.documentElement.scrollWidth > view.w,
  hidden: [...document.querySelectorAll(arguments[0])].filter(clipped).map(el => el.textContent.slice(0, 40)),
};
"""


def _viewport(dash_duo, width, height):
    """Make the page's viewport exactly ``width`` x ``height`` (a window adds its own chrome)."""
    dash_duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


def _wait_drawn(dash_duo):
    dash_duo.wait_for_element(".oc-tile:not(.oc-nodata)", timeout=20)


def _tile_texts(dash_duo):
    return [el.text for el in dash_duo.find_elements(".oc-tile-metrics")]


def test_every_chain_and_incident_is_visible_without_scrolling(dash_duo, demo_app):
    store = demo_app.server.extensions["opscenter"].store
    chains = set(store.frame("chains")["chain"])
    active = set(store.frame("incidents").query("state in ['new', 'in_progress', 'on_hold']")["incident_id"])
    dash_duo.start_server(demo_app)
    for width, height in SIZES:
        for query in ("", "?kiosk=1"):
            _viewport(dash_duo, width, height)
            dash_duo.driver.get(dash_duo.server_url + "/wall" + query)
            _wait_drawn(dash_duo)
            assert {el.get_attribute("data-chain") for el in dash_duo.find_elements(".oc-chain")} == chains
            assert {el.get_attribute("data-incident") for el in dash_duo.find_elements(".oc-incident")} == active
            assert all(text.strip() != "– – –" for text in _tile_texts(dash_duo))
            layout = dash_duo.driver.execute_script(OUTSIDE, ".oc-chain, .oc-incident, .oc-tile, .oc-kpi")
            assert layout == {"scrolls": False, "hidden": []}, (width, height, query)
    assert_no_console_errors(dash_duo)


def test_a_kiosk_in_chinese_hides_controls_and_cursor_and_rotates_its_playlist(dash_duo, estate):
    dash_duo.start_server(estate.app)
    dash_duo.driver.get(dash_duo.server_url + "/wall?kiosk=1&lang=zh&playlist=rotation")
    _wait_drawn(dash_duo)
    assert not dash_duo.find_element("#oc-nav").is_displayed()
    cursors = dash_duo.driver.execute_script(
        "return [document.body, ...document.querySelectorAll('.oc-tile-link, .oc-preplan')]"
        ".map(el => getComputedStyle(el).cursor)")
    assert set(cursors) == {"none"}
    text = dash_duo.find_element(".oc-wall").text
    assert all(label in text for label in ("进行中的事件", "今日可用率", "A股", "最近的混沌演练"))
    WebDriverWait(dash_duo.driver, 10).until(lambda d: "/sources?" in d.current_url)
    assert dash_duo.driver.current_url.endswith("/sources?kiosk=1&lang=zh&playlist=rotation")
    dash_duo.wait_for_element("#oc-sources-grid", timeout=10)
    assert not dash_duo.find_element("#oc-nav").is_displayed()
    assert_no_console_errors(dash_duo)


def test_a_failing_source_greys_its_panels_while_the_others_keep_updating(dash_duo, estate):
    dash_duo.start_server(estate.app)
    dash_duo.driver.get(dash_duo.server_url + "/wall")
    _wait_drawn(dash_duo)
    incidents, before = dash_duo.find_elements(".oc-incident"), _tile_texts(dash_duo)
    assert incidents and not dash_duo.find_elements(".oc-is-stale")
    estate.sources["itsm"].options["fail"] = True
    assert not estate.poll("itsm")["ok"]
    estate.offset += estate.offset.__class__(minutes=3)
    assert estate.poll("metrics")["ok"]
    dash_duo.wait_for_element('.oc-is-stale[id*="incidents"]', timeout=10)
    stale = {json.loads(el.get_attribute("id"))["panel"] for el in dash_duo.find_elements(".oc-is-stale")}
    assert stale == {"status", "incidents", "changes", "chaos", "kpi.mtta", "kpi.mttr", "kpi.changes", "kpi.chaos"}
    labels = {el.text for el in dash_duo.find_elements(".oc-stale-label") if el.text}
    assert len(labels) == 1 and labels.pop().startswith("stale since ")
    assert len(dash_duo.find_elements(".oc-incident")) == len(incidents)  # last values kept
    WebDriverWait(dash_duo.driver, 10).until(lambda _d: _tile_texts(dash_duo) != before)
    assert_no_console_errors(dash_duo)


def test_a_new_p1_raises_the_banner_within_one_refresh(dash_duo, estate):
    dash_duo.start_server(estate.app)
    dash_duo.driver.get(dash_duo.server_url + "/wall")
    _wait_drawn(dash_duo)
    assert not dash_duo.find_elements('.oc-banner-row[data-incident="INC-TEST-P1"]')
    estate.sources["itsm"].inject_incident("INC-TEST-P1", "Exchange link down", 1, "exchange-link",
                                           estate.poller.clock())
    estate.poll("itsm")
    banner = dash_duo.wait_for_element('.oc-banner-row[data-incident="INC-TEST-P1"]',
                                       timeout=estate.settings.refresh_s + 2)
    assert "Exchange link down" in banner.text and "not acknowledged" in banner.text
    assert "oc-banner-new" in banner.get_attribute("class")
    assert_no_console_errors(dash_duo)
