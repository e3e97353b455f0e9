"""The drill-down path in headless Chromium: wall -> chain -> service -> slowest call -> trace ->
resources, on the demo estate's saturated-instance episode; reloads, back, and unknown ids."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest
from selenium.webdriver.common.action_chains import ActionChains

from datasources.demo import episodes
from tests.browser.conftest import _need_chromium
from tests.demo_app import polled_demo_app

pytestmark = pytest.mark.browser
SATURATED = "pretrade-risk-2"
WEDNESDAY_AFTERNOON = datetime(2026, 11, 18, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai: the market busy


def _no_console_errors(dash_duo):
    errors = [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"]
    assert errors == [], errors


def _episode_window(store) -> tuple[str, str]:
    """Ten minutes either side of the latest saturation episode the calls frame covers."""
    calls = store.frame("calls")
    first, last = calls["start"].min(), calls["start"].max()
    found = [
        e
        for e in episodes(first, last)
        if e.kind == "saturation"
        and e.start - pd.Timedelta(minutes=10) >= first
        and e.end + pd.Timedelta(minutes=10) <= last
    ]
    episode = found[-1]
    assert episode.instance == SATURATED
    return tuple(
        (t + pd.Timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for t, m in ((episode.start, -10), (episode.end, 10))
    )


def _wait_url(dash_duo, part: str):
    dash_duo.wait_for_element("body")
    dash_duo._wait_for(lambda d: part in d.current_url, timeout=20, msg=f"url never contained {part}")


def _check_chain(dash_duo):
    dash_duo.wait_for_element("#oc-chain-bottleneck [data-service]", timeout=20)
    assert dash_duo.find_element("#oc-chain-bottleneck [data-service]").get_attribute("data-service") == "pretrade-risk"
    assert dash_duo.find_element(".oc-step-hot").get_attribute("data-service") == "pretrade-risk"


def _check_service(dash_duo, slowest_trace):
    dash_duo.wait_for_contains_text(".oc-crumbs", "Equity trading", timeout=20)
    dash_duo.wait_for_text_to_equal("#oc-service-calls tbody tr:first-child a.oc-row-link", slowest_trace, timeout=20)


def _check_trace(dash_duo, trace_id):
    verdict = dash_duo.wait_for_element("#oc-trace-verdict [data-instance]", timeout=20)
    assert verdict.get_attribute("data-instance") == SATURATED
    assert verdict.get_attribute("data-saturated") == "saturated"
    assert "pretrade-risk" in dash_duo.find_element("#oc-trace-verdict").text
    dash_duo.wait_for_contains_text("#oc-trace-resources .legend", SATURATED, timeout=20)
    assert dash_duo.find_elements("#oc-trace-waterfall .bars path")
    assert trace_id in dash_duo.find_element("h1").text
    assert dash_duo.driver.execute_script(  # the instances' resources come before their log lines
        "return document.getElementById('oc-trace-resources').compareDocumentPosition("
        "document.getElementById('oc-trace-logs')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )


def test_drill_from_the_wall_to_the_saturated_instance(dash_duo):
    _need_chromium()
    demo_app = polled_demo_app(clock=lambda: WEDNESDAY_AFTERNOON)
    store = demo_app.server.extensions["opscenter"].store
    start, end = _episode_window(store)
    calls = store.frame("calls")
    in_window = calls[(calls["service"] == "pretrade-risk") & (calls["start"] >= start) & (calls["start"] <= end)]
    slowest = in_window.nlargest(1, "duration_ms").iloc[0]
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(demo_app)

    dash_duo.wait_for_element('[data-chain="equity-trading"] .oc-chain-head a', timeout=20).click()
    _wait_url(dash_duo, "/chain/equity-trading")
    dash_duo.wait_for_element("#oc-chain-steps .oc-step", timeout=20)

    chain_url = f"{dash_duo.server_url}/chain/equity-trading?from={start}&to={end}"
    dash_duo.driver.get(chain_url)
    _check_chain(dash_duo)

    dash_duo.find_element('.oc-step[data-service="pretrade-risk"]').click()
    _wait_url(dash_duo, "/service/pretrade-risk")
    query = parse_qs(urlparse(dash_duo.driver.current_url).query)
    assert (query["from"], query["to"], query["chain"]) == ([start], [end], ["equity-trading"])
    service_url = dash_duo.driver.current_url
    _check_service(dash_duo, slowest["trace_id"])
    link = dash_duo.find_element("#oc-service-calls tbody tr:first-child a.oc-row-link")
    assert (link.get_attribute("target"), link.get_attribute("rel")) == ("_blank", "noopener")
    service_tab = dash_duo.driver.current_window_handle
    first_cell = dash_duo.find_element("#oc-service-calls tbody tr:first-child td:first-child")
    ActionChains(dash_duo.driver).move_to_element(first_cell).click().perform()  # the whole row is the link
    dash_duo._wait_for(lambda d: len(d.window_handles) == 2, timeout=20, msg="the trace never opened in a new tab")
    dash_duo.driver.switch_to.window(next(h for h in dash_duo.driver.window_handles if h != service_tab))
    _wait_url(dash_duo, f"/trace/{slowest['trace_id']}")
    _check_trace(dash_duo, slowest["trace_id"])
    dash_duo.driver.close()
    dash_duo.driver.switch_to.window(service_tab)
    dash_duo.driver.get(link.get_attribute("href"))

    _wait_url(dash_duo, f"/trace/{slowest['trace_id']}")
    query = parse_qs(urlparse(dash_duo.driver.current_url).query)
    assert (query["from"], query["to"], query["service"]) == ([start], [end], ["pretrade-risk"])
    _check_trace(dash_duo, slowest["trace_id"])
    trace_url = dash_duo.driver.current_url

    history = dash_duo.driver
    history.back()
    _wait_url(dash_duo, "/service/pretrade-risk")
    _check_service(dash_duo, slowest["trace_id"])
    history.back()
    _wait_url(dash_duo, "/chain/equity-trading?from=")
    _check_chain(dash_duo)
    history.forward()
    _wait_url(dash_duo, "/service/pretrade-risk")
    history.forward()
    _wait_url(dash_duo, "/trace/")
    _check_trace(dash_duo, slowest["trace_id"])

    for url, check in (
        (chain_url, _check_chain),
        (service_url, lambda d: _check_service(d, slowest["trace_id"])),
        (trace_url, lambda d: _check_trace(d, slowest["trace_id"])),
    ):
        dash_duo.driver.get(url)
        check(dash_duo)
    _no_console_errors(dash_duo)


PROBLEMS = (
    ("/chain/no-such-chain", "not_found"),
    ("/service/no-such-service", "not_found"),
    ("/trace/" + "0" * 32, "not_found"),
    ("/trace/not-a-trace-id", "bad_request"),
    ("/chain/equity-trading?from=yesterday", "bad_request"),
    ("/service/ledger?from=now&to=now-1h", "bad_request"),
    ("/service/ledger?calls=everything", "bad_request"),
)


def test_unknown_or_malformed_addresses_say_so(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    for path, kind in PROBLEMS:
        dash_duo.driver.get(dash_duo.server_url + path)
        dash_duo._wait_for(
            lambda d, kind=kind: d.find_elements("css selector", f'#oc-drill-problem[data-kind="{kind}"]'),
            timeout=20,
            msg=f"{path} did not say {kind}",
        )
        assert "Traceback" not in dash_duo.find_element("#oc-drill-problem").text
    _no_console_errors(dash_duo)


def test_chain_names_the_step_unhealthy_now_over_the_window_s_old_episode(dash_duo):
    """07:00: pretrade-risk saturated for eight minutes; the hour also holds order-gateway's error episode, which
    ended 53 minutes ago. The page names pretrade-risk, shows each step now, and the window's verdict aside."""
    _need_chromium()
    clock = datetime(2026, 11, 18, 7, 0, tzinfo=UTC)
    app = polled_demo_app(clock=lambda: clock)
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(app)
    dash_duo.driver.get(f"{dash_duo.server_url}/chain/equity-trading?from=2026-11-18T06:00:00Z&to=2026-11-18T07:00:00Z")
    named = dash_duo.wait_for_element("#oc-chain-bottleneck [data-when]", timeout=20)
    assert (named.get_attribute("data-when"), named.get_attribute("data-service")) == ("now", "pretrade-risk")
    assert "HighLatency" in named.text
    aside = dash_duo.find_element("#oc-chain-bottleneck [data-window-service]")
    assert aside.get_attribute("data-window-service") == "order-gateway"
    assert dash_duo.find_element(".oc-step-hot").get_attribute("data-service") == "pretrade-risk"
    now = {el.get_attribute("data-service"): el.get_attribute("data-now") for el in dash_duo.find_elements(".oc-step")}
    assert now["pretrade-risk"] == "crit" and now["order-gateway"] == "ok"
    risk = dash_duo.find_element('.oc-step[data-service="pretrade-risk"] .oc-step-now')
    assert "HighLatency" in risk.text and "p95" in risk.text
    _no_console_errors(dash_duo)


def test_service_calls_above_the_fold_failed_first_as_links_on_the_window_s_axis(dash_duo):
    """order-gateway during its error episode with ?calls=failed: the calls table is in the first screen, its
    failed calls first, every row a link to its trace in a new tab; the time axes are the window's."""
    _need_chromium()
    app = polled_demo_app(clock=lambda: WEDNESDAY_AFTERNOON)
    start, end = "2026-11-18T05:30:00Z", "2026-11-18T06:00:00Z"
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.start_server(app)
    dash_duo.driver.get(f"{dash_duo.server_url}/service/order-gateway?from={start}&to={end}&calls=failed")
    dash_duo.wait_for_element("#oc-service-calls tbody tr", timeout=20)
    rows = dash_duo.find_elements("#oc-service-calls tbody tr")
    statuses = [row.find_element("css selector", "td:nth-child(3)").text for row in rows]
    failed = statuses.count("error")
    assert 0 < failed < len(statuses) and statuses[:failed] == ["error"] * failed
    links = dash_duo.find_elements("#oc-service-calls tbody a.oc-row-link")
    assert len(links) == len(rows) and {a.get_attribute("target") for a in links} == {"_blank"}
    assert all(
        f"/trace/{row.get_attribute('data-trace')}?from=" in a.get_attribute("href") for row, a in zip(rows, links)
    )
    fold = dash_duo.driver.execute_script(
        "const r = document.querySelector('#oc-service-calls tbody tr').getBoundingClientRect();"
        "return [r.top, r.bottom, window.innerHeight];"
    )
    assert 0 < fold[0] < fold[1] < fold[2]
    assert "oc-preset-on" in dash_duo.find_element(".oc-calls-order a[href*='calls=failed']").get_attribute("class")
    dash_duo.wait_for_element("#oc-service-timeline .main-svg", timeout=20)
    shown = dash_duo.driver.execute_script(
        "return document.querySelector('#oc-service-timeline .js-plotly-plot').layout.xaxis3.range"
    )
    assert [pd.Timestamp(x) for x in shown] == [
        pd.Timestamp(t).tz_convert("Asia/Shanghai").tz_localize(None) for t in (start, end)
    ]
    _no_console_errors(dash_duo)
