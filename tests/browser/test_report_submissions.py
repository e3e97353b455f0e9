"""Reports due to the regulator marked submitted, in headless Chromium under built-in login: a manager marks the
initial report submitted with a reference through the audited write path and its countdown gives way to the
submission, which the incident report lists; a viewer has no form, and a submission crafted in the viewer's
signed-in page is refused with 403 and audited."""

from datetime import UTC, datetime

import pytest

from dashboard import ids
from dashboard.command import grade_decisions, submissions
from layouts.pages.incident import PAGE_STORE
from tests.browser.conftest import assert_no_console_errors
from tests.browser.test_incident_command import CRAFTED, command_app, sign_in  # noqa: F401  (a fixture)
from tests.browser.test_incident_grading import FETCH

pytestmark = pytest.mark.browser
INITIAL = f"#{ids.INCIDENT_DUE.format(report='initial')}"


@pytest.fixture
def graded(command_app, demo_app):  # noqa: F811
    """The latest incident graded major beforehand, so that an initial report is due 30 minutes after discovery:
    counting down, or on once overdue (an incident ended longer ago than the record window has no count)."""
    app, access, _ = command_app
    incident = demo_app.server.extensions["opscenter"].store.frame("incidents").sort_values("opened_at").iloc[-1]
    decision = {"grade": "major", "proposed": "general", "session_minutes": 0, "reason": "Trading stopped"}
    with access.engine.begin() as connection:
        grade_decisions.record(
            connection, incident["source"], incident["incident_id"], decision, "alice", datetime.now(UTC)
        )
    return app, access, incident


def test_a_manager_marks_the_initial_report_submitted_and_its_countdown_gives_way(dash_duo, graded):
    app, access, incident = graded
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "alice", f"/incidents/{incident['incident_id']}")
    dash_duo.wait_for_element(f"{INITIAL} .oc-countdown", timeout=10)

    dash_duo.find_element(f"#{ids.INCIDENT_SUBMIT_REFERENCE}").send_keys("CSRC-2026-118")
    dash_duo.find_element(f"#{ids.INCIDENT_SUBMIT}").click()
    dash_duo.wait_for_text_to_equal(
        f"#{ids.INCIDENT_SUBMIT_MESSAGE}", "Recorded: Initial report submitted.", timeout=10
    )
    dash_duo.wait_for_contains_text(INITIAL, "marked submitted", timeout=10)
    assert "by alice (ref. CSRC-2026-118)" in dash_duo.find_element(INITIAL).text
    assert dash_duo.driver.find_elements("css selector", f"{INITIAL} .oc-countdown") == []
    assert dash_duo.find_element(f"#{ids.INCIDENT_SUBMIT_REFERENCE}").get_attribute("value") == ""

    recorded = submissions.for_incident(access.engine, incident["source"], incident["incident_id"])
    assert recorded[["report", "reference", "actor"]].values.tolist() == [["initial", "CSRC-2026-118", "alice"]]
    audit = access.audit_trail()[0]
    assert (audit["actor"], audit["action"], audit["target"], audit["allowed"]) == (
        "alice",
        "incident.submit_report",
        incident["incident_id"],
        True,
    )
    status, text = dash_duo.driver.execute_async_script(FETCH, f"/incidents/{incident['incident_id']}/report.md")
    assert status == 200 and "Initial report marked submitted (ref. CSRC-2026-118)" in text
    assert_no_console_errors(dash_duo)


def test_a_viewer_has_no_form_and_a_crafted_submission_is_refused_and_audited(dash_duo, graded):
    app, access, incident = graded
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "victor", f"/incidents/{incident['incident_id']}")
    dash_duo.wait_for_element(f"{INITIAL} .oc-countdown", timeout=10)
    assert dash_duo.driver.find_elements("css selector", ".oc-submit-form") == []

    message, count = ids.INCIDENT_SUBMIT_MESSAGE, ids.INCIDENT_SUBMITTED
    reference, choice = ids.INCIDENT_SUBMIT_REFERENCE, ids.INCIDENT_SUBMIT_CHOICE
    body = {
        "output": f"..{message}.children...{count}.data...{reference}.value...{choice}.value..",
        "outputs": [
            {"id": message, "property": "children"},
            {"id": count, "property": "data"},
            {"id": reference, "property": "value"},
            {"id": choice, "property": "value"},
        ],
        "inputs": [{"id": ids.INCIDENT_SUBMIT, "property": "n_clicks", "value": 1}],
        "state": [
            {"id": PAGE_STORE, "property": "data", "value": {"lang": "en", "incident_id": incident["incident_id"]}},
            {"id": count, "property": "data", "value": 0},
            {"id": choice, "property": "value", "value": "initial"},
            {"id": reference, "property": "value", "value": "forged"},
        ],
        "changedPropIds": [f"{ids.INCIDENT_SUBMIT}.n_clicks"],
    }
    assert dash_duo.driver.execute_async_script(CRAFTED, body) == 403
    refused = access.audit_trail()[0]
    assert (refused["actor"], refused["roles"], refused["action"], refused["target"], refused["allowed"]) == (
        "victor",
        "viewer",
        "incident.submit_report",
        incident["incident_id"],
        False,
    )
    assert submissions.for_incident(access.engine, incident["source"], incident["incident_id"]).empty
    assert dash_duo.driver.find_elements("css selector", f"{INITIAL} .oc-countdown")  # still counting
