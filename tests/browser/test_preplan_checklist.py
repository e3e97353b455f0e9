"""The incident's pre-plan as a checklist in headless Chromium under built-in login: a manager ticks a step, which
is recorded through the audited write path and appears on the incident's timeline, then unticks it; a viewer
sees the checklist without tick buttons, and a crafted tick is refused with 403 and audited."""

import json

import pytest
from dash.testing.wait import until

from dashboard import ids
from dashboard.command import checklist
from layouts.pages.incident import PAGE_STORE
from tests.browser.conftest import assert_no_console_errors
from tests.browser.test_incident_command import CRAFTED, command_app, sign_in  # noqa: F401 (command_app: a fixture)

pytestmark = pytest.mark.browser
STEP_ONE = {"type": ids.PREPLAN_STEP, "step": 1}
TIMELINE_TEXT = """
const plot = document.querySelector(arguments[0] + ' .js-plotly-plot');
return plot && plot.data ? plot.data.flatMap(trace => [].concat(trace.text || [])).filter(Boolean) : [];
"""


@pytest.fixture
def preplan_app(command_app):  # noqa: F811
    """The command app and the newest order-gateway incident, whose pre-plan the demo library holds."""
    app, access, _ = command_app
    incidents = app.server.extensions["opscenter"].store.frame("incidents")
    gateway = incidents[incidents["service"] == "order-gateway"].sort_values("opened_at")
    return app, access, gateway.iloc[-1]


def step_selector(step: int) -> str:
    """The CSS selector of a step's tick button (a pattern-matching id, as Dash writes it)."""
    pattern = json.dumps({"step": step, "type": ids.PREPLAN_STEP}, separators=(",", ":"))
    return f"[id='{pattern}']"


def step_button(dash_duo, step: int):
    return dash_duo.driver.find_element("css selector", step_selector(step))


def test_a_manager_ticks_a_step_and_sees_it_on_the_timeline(dash_duo, preplan_app):
    app, access, incident = preplan_app
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "alice", f"/incidents/{incident['incident_id']}")
    dash_duo.wait_for_contains_text(f"#{ids.PREPLAN_CHECKLIST}", "order-gateway-down", timeout=20)
    assert "0 of 5 steps done" in dash_duo.find_element(f"#{ids.PREPLAN_CHECKLIST}").text

    step_button(dash_duo, 1).click()
    dash_duo.wait_for_contains_text(
        f"#{ids.PREPLAN_MESSAGE}", "Recorded: ticked step 1: Confirm the failure", timeout=10
    )
    dash_duo.wait_for_contains_text(f"#{ids.PREPLAN_CHECKLIST}", "1 of 5 steps done", timeout=10)
    done = dash_duo.find_element(".oc-preplan-step[data-step='1']")
    assert "oc-preplan-done" in done.get_attribute("class") and "done by alice" in done.text
    until(
        lambda: any(
            text.startswith("alice: ticked step 1: Confirm the failure")
            for text in dash_duo.driver.execute_script(TIMELINE_TEXT, f"#{ids.INCIDENT_TIMELINE}")
        ),
        timeout=10,
    )

    step_button(dash_duo, 1).click()
    dash_duo.wait_for_contains_text(f"#{ids.PREPLAN_MESSAGE}", "Recorded: unticked step 1", timeout=10)
    dash_duo.wait_for_contains_text(f"#{ids.PREPLAN_CHECKLIST}", "0 of 5 steps done", timeout=10)

    ticks = checklist.for_incident(access.engine, incident["source"], incident["incident_id"])
    assert ticks[["preplan_id", "version", "step", "done", "actor"]].values.tolist() == [
        ["order-gateway-down", 2, 1, True, "alice"],
        ["order-gateway-down", 2, 1, False, "alice"],
    ]
    assert [(r["actor"], r["action"], r["target"], r["allowed"]) for r in access.audit_trail()[:2]] == [
        ("alice", "incident.preplan_step", incident["incident_id"], True)
    ] * 2
    assert_no_console_errors(dash_duo)


def test_a_viewer_cannot_tick_and_a_crafted_tick_is_refused_and_audited(dash_duo, preplan_app):
    app, access, incident = preplan_app
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "victor", f"/incidents/{incident['incident_id']}")
    dash_duo.wait_for_contains_text(f"#{ids.PREPLAN_CHECKLIST}", "order-gateway-down", timeout=20)
    assert len(dash_duo.find_elements(".oc-preplan-mark")) == 5
    assert dash_duo.driver.find_elements("css selector", ".oc-preplan-tick") == []

    body = {
        "output": f"..{ids.PREPLAN_MESSAGE}.children...{ids.PREPLAN_TICKED}.data..",
        "outputs": [
            {"id": ids.PREPLAN_MESSAGE, "property": "children"},
            {"id": ids.PREPLAN_TICKED, "property": "data"},
        ],
        "inputs": [[{"id": STEP_ONE, "property": "n_clicks", "value": 1}]],
        "state": [
            {"id": PAGE_STORE, "property": "data", "value": {"lang": "en", "incident_id": incident["incident_id"]}},
            {"id": ids.PREPLAN_TICKED, "property": "data", "value": 0},
        ],
        "changedPropIds": [json.dumps(STEP_ONE, separators=(",", ":"), sort_keys=True) + ".n_clicks"],
    }
    assert dash_duo.driver.execute_async_script(CRAFTED, body) == 403
    refused = access.audit_trail()[0]
    assert (refused["actor"], refused["roles"], refused["action"], refused["target"], refused["allowed"]) == (
        "victor",
        "viewer",
        "incident.preplan_step",
        incident["incident_id"],
        False,
    )
    assert checklist.for_incident(access.engine, incident["source"], incident["incident_id"]).empty
