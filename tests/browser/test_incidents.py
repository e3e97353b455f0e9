"""/incidents and /incidents/<id> render with demo data in headless Chromium, without console errors."""

from urllib.parse import parse_qs, urlparse

import pandas as pd
import pytest

pytestmark = pytest.mark.browser


def _no_console_errors(dash_duo):
    errors = [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"]
    assert errors == [], errors


def test_incidents_lists_active_by_priority_with_response_times(dash_duo, demo_app):
    store = demo_app.server.extensions["opscenter"].store
    active = store.frame("incidents").query("state in ['new', 'in_progress', 'on_hold']")
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/incidents")
    dash_duo.wait_for_element(".oc-inc-row", timeout=20)
    rows = dash_duo.find_elements(".oc-inc-row")
    shown = [el.get_attribute("data-incident") for el in rows]
    assert set(shown) == set(active["incident_id"])
    priorities = [int(el.find_element("css selector", ".oc-prio").text[1:]) for el in rows]
    assert priorities == sorted(priorities)
    assert {el.get_attribute("data-days") for el in dash_duo.find_elements(".oc-kpi-block[data-days]")} == {"30", "90"}
    assert "MTTA" in dash_duo.find_element(".oc-inc-kpis").text
    _no_console_errors(dash_duo)


def test_p2_incident_flags_the_failed_change_before_it(dash_duo, demo_app):
    store = demo_app.server.extensions["opscenter"].store
    incident = store.frame("incidents").query("priority == 2 and change_id.notna()").sort_values("opened_at").iloc[-1]
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(f"{dash_duo.server_url}/incidents/{incident['incident_id']}?lang=zh")
    dash_duo.wait_for_element(".oc-change-row.oc-suspect", timeout=20)
    assert dash_duo.find_element(".oc-suspect").get_attribute("data-change") == incident["change_id"]
    assert "可疑变更" in dash_duo.find_element(".oc-suspect").text
    dash_duo.wait_for_element("#oc-incident-timeline .main-svg", timeout=10)
    links = [el.get_attribute("href") for el in dash_duo.find_elements(".oc-drill")]
    assert any("/service/order-gateway?from=" in link and "calls=failed" in link for link in links)
    assert not any("/chain/" in link and "calls=" in link for link in links)
    assert any("/chain/equity-trading?from=" in link for link in links)
    _no_console_errors(dash_duo)


def test_unknown_incident_says_so(dash_duo, demo_app):
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/incidents/INC-NOPE")
    dash_duo.wait_for_text_to_equal("#oc-incident-not-found", "No incident INC-NOPE in the current data.", timeout=20)
    _no_console_errors(dash_duo)


def _add_incidents(store, *rows: dict) -> None:
    """Add ``rows`` to the incidents of the source that delivers them."""
    source = next(s for s in store.sources if (f := store.read(s, "incidents")) is not None and len(f))
    frame = store.read(source, "incidents")
    added = pd.DataFrame([{**frame.iloc[0].to_dict(), "url": None, "change_id": None, **row} for row in rows])
    store.write(source, {"incidents": pd.concat([frame, added.astype(frame.dtypes.to_dict())], ignore_index=True)})


def test_an_incident_resolved_long_ago_and_a_cancelled_one_have_their_page(dash_duo, demo_app):
    """Resolved 40 days ago: its page, with links to the days around it; cancelled: it ends when cancelled."""
    store = demo_app.server.extensions["opscenter"].store
    now = pd.Timestamp.now(tz="UTC").floor("s")
    _add_incidents(
        store,
        {
            "incident_id": "INC-OLD",
            "state": "closed",
            "opened_at": now - pd.Timedelta(days=41),
            "acknowledged_at": now - pd.Timedelta(days=41),
            "resolved_at": now - pd.Timedelta(days=40),
        },
        {
            "incident_id": "INC-CXL",
            "state": "cancelled",
            "opened_at": now - pd.Timedelta(hours=5),
            "acknowledged_at": now - pd.Timedelta(hours=4),
            "resolved_at": pd.NaT,
        },
    )
    dash_duo.start_server(demo_app)
    dash_duo.driver.get(dash_duo.server_url + "/incidents/INC-OLD")
    dash_duo.wait_for_element("#oc-incident-timeline .main-svg", timeout=20)
    assert "INC-OLD" in dash_duo.find_element("h1").text
    service_link = next(
        el.get_attribute("href")
        for el in dash_duo.find_elements(".oc-drill")
        if "/service/" in el.get_attribute("href")
    )
    window = parse_qs(urlparse(service_link).query)
    assert pd.Timestamp(window["to"][0]) == now - pd.Timedelta(days=40) + pd.Timedelta(hours=1)
    dash_duo.driver.get(dash_duo.server_url + "/incidents/INC-CXL")
    dash_duo.wait_for_element("#oc-incident-timeline .main-svg", timeout=20)
    assert "Cancelled" in dash_duo.find_element("h1").text
    facts = dash_duo.find_element(".oc-facts").text
    cancelled_at = (now - pd.Timedelta(hours=4)).tz_convert("Asia/Shanghai").strftime("%Y-%m-%d %H:%M")
    assert f"Cancelled\n{cancelled_at}" in facts
    legend = dash_duo.find_element("#oc-incident-timeline .legend").text
    assert "Cancelled" in legend
    x_range = dash_duo.driver.execute_script(
        "return document.querySelector('#oc-incident-timeline .js-plotly-plot').layout.xaxis.range"
    )
    assert pd.Timestamp(x_range[1]) < pd.Timestamp.now(tz="Asia/Shanghai").tz_localize(None) - pd.Timedelta(hours=2)
    _no_console_errors(dash_duo)
