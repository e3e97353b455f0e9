"""The incident page's regulatory grade in headless Chromium under built-in login: a manager confirms the proposed
grade with a reason through the audited write path and the report carries it; a viewer sees the grade read-only,
and a confirmation crafted in the viewer's signed-in page is refused with 403 and audited."""

import pytest

from dashboard import ids
from dashboard.command import grade_decisions
from layouts.pages.incident import PAGE_STORE
from tests.browser.conftest import assert_no_console_errors
from tests.browser.test_incident_command import CRAFTED, command_app, sign_in  # noqa: F401  (a fixture)

pytestmark = pytest.mark.browser
FETCH = """
const [path, done] = arguments;
fetch(path).then(response => response.text().then(text => done([response.status, text])), e => done(String(e)));
"""


def test_a_manager_confirms_the_grade_and_the_report_carries_it(dash_duo, command_app):  # noqa: F811
    app, access, incident = command_app
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "alice", f"/incidents/{incident['incident_id']}")
    proposed = dash_duo.find_element("#oc-grade-in-force").text
    assert "Not yet confirmed" in dash_duo.find_element(f"#{ids.INCIDENT_GRADE}").text
    # the reports due (counting down, or after recovery: which depends on the minutes in session so far today)
    assert dash_duo.find_elements(f"#{ids.INCIDENT_GRADE} .oc-grade-due li")

    dash_duo.find_element(f"#{ids.INCIDENT_GRADE_REASON}").send_keys("Checked with the trading desk")
    dash_duo.find_element(f"#{ids.INCIDENT_GRADE_CONFIRM}").click()
    dash_duo.wait_for_text_to_equal(f"#{ids.INCIDENT_GRADE_MESSAGE}", f"Grade recorded: {proposed}", timeout=10)
    dash_duo.wait_for_contains_text(f"#{ids.INCIDENT_GRADE}", "by alice", timeout=10)

    decided = grade_decisions.for_incident(access.engine, incident["source"], incident["incident_id"])
    assert decided[["actor", "reason"]].values.tolist() == [["alice", "Checked with the trading desk"]]
    assert decided["grade"].iloc[0] == decided["proposed"].iloc[0]
    audit = access.audit_trail()[0]
    assert (audit["actor"], audit["action"], audit["target"], audit["allowed"]) == (
        "alice",
        "incident.grade",
        incident["incident_id"],
        True,
    )
    status, text = dash_duo.driver.execute_async_script(FETCH, f"/incidents/{incident['incident_id']}/report.md")
    assert status == 200 and f"Confirmed: {proposed}, by alice" in text
    assert_no_console_errors(dash_duo)


def test_a_viewer_sees_the_grade_read_only_and_a_crafted_confirmation_is_refused_and_audited(
    dash_duo,
    command_app,  # noqa: F811
):
    app, access, incident = command_app
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "victor", f"/incidents/{incident['incident_id']}")
    dash_duo.wait_for_element("#oc-grade-in-force", timeout=10)
    assert dash_duo.driver.find_elements("css selector", ".oc-grade-form") == []

    message, count = ids.INCIDENT_GRADE_MESSAGE, ids.INCIDENT_GRADED
    body = {
        "output": f"..{message}.children...{count}.data..",
        "outputs": [{"id": message, "property": "children"}, {"id": count, "property": "data"}],
        "inputs": [{"id": ids.INCIDENT_GRADE_CONFIRM, "property": "n_clicks", "value": 1}],
        "state": [
            {"id": PAGE_STORE, "property": "data", "value": {"lang": "en", "incident_id": incident["incident_id"]}},
            {"id": count, "property": "data", "value": 0},
            {"id": ids.INCIDENT_GRADE_CHOICE, "property": "value", "value": "general"},
            {"id": ids.INCIDENT_GRADE_REASON, "property": "value", "value": "downgrade it"},
        ],
        "changedPropIds": [f"{ids.INCIDENT_GRADE_CONFIRM}.n_clicks"],
    }
    assert dash_duo.driver.execute_async_script(CRAFTED, body) == 403
    refused = access.audit_trail()[0]
    assert (refused["actor"], refused["roles"], refused["action"], refused["target"], refused["allowed"]) == (
        "victor",
        "viewer",
        "incident.grade",
        incident["incident_id"],
        False,
    )
    assert grade_decisions.for_incident(access.engine, incident["source"], incident["incident_id"]).empty
    status, text = dash_duo.driver.execute_async_script(FETCH, f"/incidents/{incident['incident_id']}/report.md")
    assert status == 200 and "Not yet confirmed" in text  # the report is the incident pages' to read
