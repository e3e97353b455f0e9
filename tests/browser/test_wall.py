"""/wall in headless Chromium: fit at 1080p and 4K, names never clipped, kiosk and playlists, freshness,
a real Alertmanager's alert rolled up into its chain and the header, "unknown" for a failing source,
the P1 banner, the cover that says the server stopped answering, and the market strip: a stalled feed late
in session and naming its site, the same stall quiet at lunch."""

import json
import re
import threading
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from werkzeug.serving import make_server

from dashboard import ids
from dashboard.core.derived import DerivedFrames
from dashboard.core.settings import load
from datasources.demo import CYCLE_S
from datasources.transport import HttpClient
from tests.browser.conftest import CLIPPED, TWO_SOURCES, Estate, _need_chromium, assert_no_console_errors, viewport
from tests.conftest import free_port
from tests.demo_app import polled_demo_app
from tests.servers import alertmanager, wait_until

pytestmark = pytest.mark.browser

SIZES = ((1920, 1080), (3840, 2160))
OUTSIDE = """
const view = {w: window.innerWidth, h: window.innerHeight};
const clipped = (el) => {
  const r = el.getBoundingClientRect();
  const box = el.closest('.oc-panel, .oc-chains-panel, .oc-kpi').getBoundingClientRect();
  return r.width === 0 || r.top < 0 || r.left < 0 || r.bottom > Math.min(view.h, box.bottom + 1) || r.right > view.w;
};
return {
  scrolls: document.documentElement.scrollHeight > view.h || document.documentElement.scrollWidth > view.w,
  hidden: [...document.querySelectorAll(arguments[0])].filter(clipped).map(el => el.textContent.slice(0, 40)),
};
"""


ROWS = """
return [...document.querySelectorAll('.oc-side .oc-panel-body')].map(body => {
  const box = body.getBoundingClientRect(), rows = [...body.querySelectorAll('li:not(.oc-more)')];
  const shown = rows.filter(row => row.getBoundingClientRect().height > 0);
  return {panel: body.id, rows: rows.length, shown: shown.length, more: body.getAttribute('data-more-label'),
          cut: shown.filter(row => row.getBoundingClientRect().bottom > box.bottom + 0.5).length};
});
"""


def _side_rows(dash_duo) -> list[dict]:
    """Each side panel's rows: how many, how many shown, how many cut by the panel's edge, its "+N more"."""
    WebDriverWait(dash_duo.driver, 10).until(lambda d: d.execute_script("return !!document.querySelector('.oc-side')"))
    dash_duo.driver.execute_script(
        "return new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
    )
    return dash_duo.driver.execute_script(ROWS)


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
            viewport(dash_duo, width, height)
            dash_duo.driver.get(dash_duo.server_url + "/wall" + query)
            _wait_drawn(dash_duo)
            assert {el.get_attribute("data-chain") for el in dash_duo.find_elements(".oc-chain")} == chains
            assert {el.get_attribute("data-incident") for el in dash_duo.find_elements(".oc-incident")} == active
            assert all(text.strip() != "– – –" for text in _tile_texts(dash_duo))
            layout = dash_duo.driver.execute_script(OUTSIDE, ".oc-chain, .oc-incident, .oc-tile, .oc-kpi")
            assert layout == {"scrolls": False, "hidden": []}, (width, height, query)
            assert all(panel["cut"] == 0 for panel in _side_rows(dash_duo)), (width, height, query)
    assert_no_console_errors(dash_duo)


def test_a_side_panel_too_short_for_its_rows_shows_whole_rows_and_counts_the_rest(dash_duo):
    _need_chromium()
    night = pd.Timestamp("2026-12-02 03:00", tz="Asia/Shanghai").tz_convert("UTC").to_pydatetime()
    dash_duo.start_server(polled_demo_app(clock=lambda: night))  # a fixed moment: the same rows on every run
    viewport(dash_duo, 1920, 480)  # a short wall: the side column cannot hold every row
    dash_duo.driver.get(dash_duo.server_url + "/wall?kiosk=1")
    _wait_drawn(dash_duo)
    panels = _side_rows(dash_duo)
    assert all(panel["cut"] == 0 for panel in panels), panels
    short = [panel for panel in panels if panel["shown"] < panel["rows"]]
    assert short and any(panel["shown"] >= 1 for panel in short), panels
    for panel in short:  # a panel too short for even its first row says "+N more" alone
        assert panel["more"] == f"+{panel['rows'] - panel['shown']} more", panel
    viewport(dash_duo, 1920, 360)  # too short for even one row of a panel: "+N more" alone, never a cut row
    WebDriverWait(dash_duo.driver, 10).until(
        lambda d: sum(p["shown"] for p in _side_rows(dash_duo)) < sum(p["shown"] for p in panels)
    )
    assert all(panel["cut"] == 0 for panel in _side_rows(dash_duo))
    viewport(dash_duo, 1920, 1080)  # taller again: the rows come back
    WebDriverWait(dash_duo.driver, 10).until(
        lambda d: sum(p["shown"] for p in _side_rows(dash_duo)) > sum(p["shown"] for p in short)
    )
    assert_no_console_errors(dash_duo)


def test_a_kiosk_in_chinese_hides_controls_and_cursor_and_rotates_its_playlist(dash_duo, estate):
    dash_duo.start_server(estate.app)
    dash_duo.driver.get(dash_duo.server_url + "/wall?kiosk=1&lang=zh&playlist=rotation")
    _wait_drawn(dash_duo)
    assert not dash_duo.find_element("#oc-nav").is_displayed()
    cursors = dash_duo.driver.execute_script(
        "return [document.body, ...document.querySelectorAll('.oc-tile-link, .oc-preplan')]"
        ".map(el => getComputedStyle(el).cursor)"
    )
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
    assert incidents and not dash_duo.find_elements(".oc-is-stale:not([id*=alerts])")  # no source offers alerts
    itsm = estate.sources["itsm"]
    itsm.config = itsm.config.model_copy(update={"fail": True})
    assert not estate.poll("itsm")["ok"]
    estate.offset += estate.offset.__class__(minutes=3)
    assert estate.poll("metrics")["ok"]
    dash_duo.wait_for_element('.oc-is-stale[id*="incidents"]', timeout=10)
    stale = {json.loads(el.get_attribute("id"))["panel"] for el in dash_duo.find_elements(".oc-is-stale")}
    assert stale == {
        "status",
        "alerts",
        "incidents",
        "changes",
        "chaos",
        "kpi.mtta",
        "kpi.mttr",
        "kpi.changes",
        "kpi.chaos",
    }
    labels = {el.text for el in dash_duo.find_elements(".oc-stale-label") if el.text} - {"no source configured"}
    assert len(labels) == 1 and labels.pop().startswith("unknown: itsm failing since ")
    assert dash_duo.find_element("#oc-wall-incident-count").text == "?"  # the last count is no longer known
    assert len(dash_duo.find_elements(".oc-incident")) == len(incidents)  # last values kept, greyed
    WebDriverWait(dash_duo.driver, 10).until(lambda _d: _tile_texts(dash_duo) != before)
    assert_no_console_errors(dash_duo)


def test_a_new_p1_raises_the_banner_within_one_refresh(dash_duo, estate):
    dash_duo.start_server(estate.app)
    dash_duo.driver.get(dash_duo.server_url + "/wall")
    _wait_drawn(dash_duo)
    assert not dash_duo.find_elements('.oc-banner-row[data-incident="INC-TEST-P1"]')
    estate.sources["itsm"].inject_incident(
        "INC-TEST-P1", "Exchange link down", 1, "exchange-link", estate.poller.clock()
    )
    estate.poll("itsm")
    banner = dash_duo.wait_for_element(
        '.oc-banner-row[data-incident="INC-TEST-P1"]', timeout=estate.settings.refresh_s + 2
    )
    assert "Exchange link down" in banner.text and "not acknowledged" in banner.text
    assert "oc-banner-new" in banner.get_attribute("class")
    assert_no_console_errors(dash_duo)


FONT_PX = "return parseFloat(getComputedStyle(document.querySelector(arguments[0])).fontSize)"


def test_names_read_from_five_metres_and_are_never_clipped(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    viewport(dash_duo, 1920, 1080)
    dash_duo.driver.get(dash_duo.server_url + "/wall")
    _wait_drawn(dash_duo)
    assert dash_duo.driver.execute_script(FONT_PX, ".oc-tile-name") >= 28
    assert dash_duo.driver.execute_script(FONT_PX, ".oc-metric-main") >= 48
    for width, height in ((1366, 768), (1920, 937)):
        for lang in ("en", "zh"):
            viewport(dash_duo, width, height)
            dash_duo.driver.get(dash_duo.server_url + f"/wall?lang={lang}")
            _wait_drawn(dash_duo)
            found = dash_duo.driver.execute_script(CLIPPED)
            assert found == {"names": [], "figures": [], "tiles": 25}, (width, height, lang)
    assert "事前风控" in dash_duo.find_element(".oc-tile[data-service='pretrade-risk']").text
    assert "股票交易" in dash_duo.find_element(".oc-chain[data-chain='equity-trading'] h2").text
    assert_no_console_errors(dash_duo)


ALERTING = """
center_name: Test Center
refresh_s: 1
sources:
  - {{kind: demo, name: metrics, interval_s: 60, seed: {seed}, frames: [services, chains, service_metrics]}}
  - {{kind: alertmanager, name: alertmanager, interval_s: 60, url: "{url}"}}
"""


def _quiet_seed() -> int:
    """A demo seed whose episode cycle (shifted by ``seed`` minutes) is now at its quiet 105-120 minutes, so the
    last ten minutes hold none of its scripted episodes."""
    now_s = int(datetime.now(UTC).timestamp())
    return (now_s - 112 * 60) % CYCLE_S // 60


def _firing(estate) -> set[str]:
    alerts = estate.store.frame("alerts")
    return set(alerts.loc[alerts["state"] == "firing", "name"])


def _header(dash_duo) -> str:
    return dash_duo.find_element(".oc-wall-status .oc-badge").get_attribute("class").split()[-1]


def test_a_critical_alert_from_alertmanager_turns_its_chain_and_the_header_red(dash_duo, tmp_path):
    _need_chromium()
    with alertmanager(tmp_path) as url:
        estate = Estate(ALERTING.format(url=url, seed=_quiet_seed()))
        dash_duo.start_server(estate.app)
        dash_duo.driver.get(dash_duo.server_url + "/wall")
        _wait_drawn(dash_duo)
        chain = ".oc-chain[data-chain='equity-trading']"
        assert _header(dash_duo) == "oc-ok" and "oc-ok" in dash_duo.find_element(chain).get_attribute("class")
        assert dash_duo.find_element("#oc-wall-alert-count").text == "0"

        HttpClient("test", url).post(
            "/api/v2/alerts",
            [
                {
                    "labels": {"alertname": "HighLatency", "service": "clearing", "severity": "critical"},
                    "annotations": {"summary": "clearing p99 above its objective"},
                    "startsAt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                }
            ],
        )
        wait_until(
            lambda: estate.poll("alertmanager")["ok"] and _firing(estate) == {"HighLatency"},
            20,
            "the alert firing in Alertmanager and polled",
        )

        dash_duo.wait_for_element(chain + ".oc-crit", timeout=15)
        assert _header(dash_duo) == "oc-crit"
        assert "Clearing: alert HighLatency (critical)" in dash_duo.find_element(chain + " .oc-chain-why").text
        tile = dash_duo.find_element(".oc-tile[data-service='clearing']")
        assert "oc-crit" in tile.get_attribute("class") and "alert HighLatency (critical)" in tile.get_attribute(
            "title"
        )
        assert "oc-ok" in dash_duo.find_element(".oc-chain[data-chain='market-data']").get_attribute("class")
        listed = dash_duo.find_element(".oc-alerts .oc-alert")
        assert (
            "HighLatency" in listed.text
            and "Clearing" in listed.text
            and "oc-alert-critical" in listed.get_attribute("class")
        )
        assert dash_duo.find_element("#oc-wall-alert-count").text == "1"
    assert_no_console_errors(dash_duo)


def test_a_failing_itsm_source_shows_unknown_not_zero(dash_duo):
    _need_chromium()
    failing = TWO_SOURCES.replace(
        "frames: [incidents, changes, chaos_runs]}", "frames: [incidents, changes, chaos_runs], fail: true}"
    )
    estate = Estate(failing)
    dash_duo.start_server(estate.app)
    dash_duo.driver.get(dash_duo.server_url + "/wall")
    _wait_drawn(dash_duo)
    panel = dash_duo.find_element(".oc-incidents-panel")
    assert dash_duo.find_element("#oc-wall-incident-count").text == "?"
    assert re.search(r"unknown: itsm failing since \d\d:\d\d", panel.text) and "No active incidents" not in panel.text
    mtta = dash_duo.find_element('[id*="kpi.mtta"]')
    assert "unknown: itsm failing since" in mtta.text and "n = 0" not in mtta.text
    assert_no_console_errors(dash_duo)


class Server:
    """An app on a fixed loopback port, one request at a time (so no connection outlives a stop), that a
    test stops and starts again."""

    def __init__(self, app):
        self.app, self.port, self.server, self.thread = app, free_port(), None, None

    def start(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self.app.server)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(10)
            self.server = None


def test_a_stopped_server_is_announced_and_the_wall_recovers_by_itself(dash_duo, estate):
    served = Server(estate.app)
    served.start()
    try:
        dash_duo.driver.get(f"http://127.0.0.1:{served.port}/wall?lang=zh")
        _wait_drawn(dash_duo)
        updated = dash_duo.find_element(".oc-updated").text
        assert re.fullmatch(r"\d\d:\d\d:\d\d 更新", updated)
        assert not dash_duo.driver.find_elements(By.ID, "oc-lost")

        served.stop()
        cover = WebDriverWait(dash_duo.driver, 45, poll_frequency=0.5).until(
            lambda d: d.find_elements(By.ID, "oc-lost")
        )[0]
        assert re.fullmatch(r"连接中断，始于 \d\d:\d\d:\d\d\n所示数据已非最新，正在重新连接…", cover.text)

        estate.offset += timedelta(minutes=2)
        assert estate.poll("metrics")["ok"]
        served.start()
        WebDriverWait(dash_duo.driver, 45, poll_frequency=0.5).until(lambda d: not d.find_elements(By.ID, "oc-lost"))
        WebDriverWait(dash_duo.driver, 45, poll_frequency=0.5).until(
            lambda d: d.find_element(By.CSS_SELECTOR, ".oc-updated").text != updated
        )
    finally:
        served.stop()


NATIONAL_DAY = datetime(2025, 10, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai and Hong Kong


def test_on_a_holiday_the_wall_says_each_market_is_closed_and_why(dash_duo):
    """The wall's sessions follow the app's clock: on National Day both markets are closed for the holiday,
    each named."""
    _need_chromium()
    dash_duo.start_server(polled_demo_app(clock=lambda: NATIONAL_DAY))
    for lang, expected in (
        ("en", {"cn": "Closed: National Day holiday", "hk": "Closed: National Day"}),
        ("zh", {"cn": "休市：国庆节", "hk": "休市：国庆节"}),
    ):
        dash_duo.driver.get(f"{dash_duo.server_url}/wall?lang={lang}")
        _wait_drawn(dash_duo)
        markets = dash_duo.find_elements(".oc-market")
        shown = {
            el.get_attribute("data-market"): el.find_element(By.CSS_SELECTOR, ".oc-session").text for el in markets
        }
        assert shown == expected
        assert all("oc-session-closed" in el.get_attribute("class") for el in dash_duo.find_elements(".oc-session"))
    assert_no_console_errors(dash_duo)


WEDNESDAY = (
    "2026-12-02"  # a trading day in Shanghai and Hong Kong; the demo's feed stall runs 09:57-10:07 and 11:57-12:07
)


def _feed_stall_app(clock: str):
    """The demo app polled at ``clock`` Shanghai time on ``WEDNESDAY``, the market strip judged by the derived step."""
    _need_chromium()
    moment = pd.Timestamp(f"{WEDNESDAY} {clock}", tz="Asia/Shanghai").tz_convert("UTC").to_pydatetime()
    health = load().health
    return polled_demo_app(
        clock=lambda: moment, derived=lambda store: DerivedFrames(store, history_days=1, health=health)
    )


def _chip(market: str) -> str:
    return f"#{ids.WALL_FEEDS} .oc-feed[data-market='{market}']"


def test_a_stalled_feed_in_session_shows_its_market_late_naming_the_site(dash_duo):
    """At 10:00 the SSE feeds at sh-dc2 have not ticked since 09:57: the SSE chip is late, red with a square, and
    names sh-dc2 and the age; the other markets are live."""
    dash_duo.start_server(_feed_stall_app("10:00"))
    for lang, late, live in (("en", "late at sh-dc2 · 3 min", "live"), ("zh", "sh-dc2 延迟 · 3 分钟", "正常")):
        dash_duo.driver.get(f"{dash_duo.server_url}/wall?lang={lang}")
        dash_duo.wait_for_text_to_equal(_chip("SSE") + " .oc-feed-state", late, timeout=20)
        sse = dash_duo.find_element(_chip("SSE"))
        assert sse.get_attribute("data-state") == "late" and "oc-crit" in sse.get_attribute("class")
        shape = "return getComputedStyle(arguments[0], '::before').content"
        assert dash_duo.driver.execute_script(shape, sse.find_element(By.CSS_SELECTOR, ".oc-shape")) == '"■"'
        others = [el for el in dash_duo.find_elements(f"#{ids.WALL_FEEDS} .oc-feed") if el != sse]
        assert {el.get_attribute("data-market") for el in others} == {"SZSE", "HKEX", "futures", "indices"}
        assert {el.find_element(By.CSS_SELECTOR, ".oc-feed-state").text for el in others} == {live}
    assert_no_console_errors(dash_duo)


def test_the_same_stall_at_lunch_shows_the_market_closed_not_late(dash_duo):
    """At 12:00 the same stall is on, but the markets break for lunch: no chip, one muted line names the closed
    markets once, nothing is late."""
    dash_duo.start_server(_feed_stall_app("12:00"))
    dash_duo.driver.get(f"{dash_duo.server_url}/wall")
    closed = f"#{ids.WALL_FEEDS} .oc-feeds-closed"
    dash_duo.wait_for_text_to_equal(closed, "Not trading: SSE, SZSE, HKEX, Futures, Indices", timeout=20)
    assert dash_duo.find_element(closed).get_attribute("data-markets") == "SSE SZSE HKEX futures indices"
    assert dash_duo.find_elements(_chip("SSE")) == []
    assert "sh-dc2" not in dash_duo.find_element(f"#{ids.WALL_FEEDS}").text
    assert dash_duo.find_elements(f"#{ids.WALL_FEEDS} .oc-feed.oc-crit") == []
    assert_no_console_errors(dash_duo)
