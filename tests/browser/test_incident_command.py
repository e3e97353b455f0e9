"""The incident page's command panel in headless Chromium under built-in login: a manager acknowledges and posts
a note, each recorded through the audited write path; a viewer sees no controls, and a callback request crafted
in the viewer's signed-in page is refused with 403 and audited."""

import secrets

import pandas as pd
import pytest

from dashboard import ids
from dashboard.app import create_app
from dashboard.command import actions
from dashboard.core.settings import DEFAULT_CONFIG, parse
from dashboard.security.access import AccessStore, Identity
from layouts.pages.incident import PAGE_STORE
from tests.browser.conftest import assert_no_console_errors

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"
CRAFTED = """
const [body, done] = arguments;
fetch('/_dash-update-component', {method: 'POST', headers: {'Content-Type': 'application/json'},
  body: JSON.stringify(body)}).then(response => done(response.status), error => done(String(error)));
"""  # the viewer's own page sends the acknowledge callback its form never offered


@pytest.fixture
def command_app(demo_app, tmp_path, monkeypatch):
    """The demo's store under ``auth: builtin`` with a manager (alice) and a viewer (victor); the incident acted on
    (the least recently acknowledged)."""
    monkeypatch.setenv("OC_TEST_SECRET_KEY", secrets.token_urlsafe(32))
    config = DEFAULT_CONFIG.read_text() + "auth:\n  mode: builtin\n  secret_key: ${OC_TEST_SECRET_KEY}\n"
    settings = parse(config, str(DEFAULT_CONFIG))  # its relative paths (the pre-plan library) from the default's
    access = AccessStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    access.migrate()
    admin = Identity("cli:test", frozenset({"admin"}), "cli")
    access.add_user("alice", "manager", PASSWORD, admin)
    access.add_user("victor", "viewer", PASSWORD, admin)
    store = demo_app.server.extensions["opscenter"].store
    incidents = store.frame("incidents").sort_values(["acknowledged_at", "opened_at"], na_position="first")
    yield create_app(settings, store, access), access, incidents.iloc[0]
    access.close()


def sign_in(dash_duo, user: str, path: str) -> None:
    dash_duo.driver.get(dash_duo.server.url + path)
    dash_duo.wait_for_element("input[type=password]", timeout=20)
    dash_duo.find_element("input[name=user]").send_keys(user)
    dash_duo.find_element("input[name=password]").send_keys(PASSWORD)
    dash_duo.find_element("button[type=submit]").click()
    dash_duo.wait_for_element(f"#{ids.INCIDENT_COMMAND}", timeout=20)


def acknowledgement(incident_id: str) -> dict:
    """The acknowledge callback request for ``incident_id``, as the page's button would send it."""
    button, message = (
        ids.INCIDENT_ACT.format(action="acknowledge"),
        ids.INCIDENT_ACT_MESSAGE.format(action="acknowledge"),
    )
    count = ids.INCIDENT_ACTED.format(action="acknowledge")
    return {
        "output": f"..{message}.children...{count}.data..",
        "outputs": [{"id": message, "property": "children"}, {"id": count, "property": "data"}],
        "inputs": [{"id": button, "property": "n_clicks", "value": 1}],
        "state": [
            {"id": PAGE_STORE, "property": "data", "value": {"lang": "en", "incident_id": incident_id}},
            {"id": count, "property": "data", "value": 0},
        ],
        "changedPropIds": [f"{button}.n_clicks"],
    }


def test_a_manager_acknowledges_and_posts_a_note(dash_duo, command_app):
    app, access, incident = command_app
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "alice", f"/incidents/{incident['incident_id']}")

    dash_duo.find_element(f"#{ids.INCIDENT_ACT.format(action='acknowledge')}").click()
    dash_duo.wait_for_text_to_equal(
        f"#{ids.INCIDENT_ACT_MESSAGE.format(action='acknowledge')}", "Recorded: acknowledged.", timeout=10
    )
    dash_duo.find_element(f"#{ids.INCIDENT_NOTE}").send_keys("Failover to site B under way.")
    dash_duo.find_element(f"#{ids.INCIDENT_PUBLIC} input").click()
    dash_duo.find_element(f"#{ids.INCIDENT_ACT.format(action='note')}").click()
    dash_duo.wait_for_contains_text(
        f"#{ids.INCIDENT_COMMAND} .oc-command-log", "status update: Failover to site B under way.", timeout=10
    )
    assert "Last update 0 min ago" in dash_duo.find_element(f"#{ids.INCIDENT_COMMAND}").text
    rows = [el.text for el in dash_duo.find_elements(".oc-command-row .oc-command-what")]
    assert rows == ["status update: Failover to site B under way.", "acknowledged"]  # newest first

    taken = actions.for_incident(access.engine, incident["source"], incident["incident_id"])
    assert taken[["action", "actor", "writeback"]].values.tolist() == [
        ["acknowledge", "alice", "pending"],
        ["note", "alice", "pending"],
    ]
    assert [(r["actor"], r["action"], r["allowed"]) for r in access.audit_trail()[:2]] == [
        ("alice", "incident.note", True),
        ("alice", "incident.acknowledge", True),
    ]
    ours, theirs = taken["at"].iloc[0], incident["acknowledged_at"]
    shown = (ours if pd.isna(theirs) or ours < theirs else theirs).tz_convert(
        app.server.extensions["opscenter"].settings.display_tz
    )
    assert shown.strftime("%Y-%m-%d %H:%M") in dash_duo.find_element(".oc-facts").text  # the earlier acknowledgement
    assert_no_console_errors(dash_duo)


def test_a_viewer_sees_no_controls_and_a_crafted_acknowledgement_is_refused_and_audited(dash_duo, command_app):
    app, access, incident = command_app
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "victor", f"/incidents/{incident['incident_id']}")
    assert "Incident commander" in dash_duo.find_element(f"#{ids.INCIDENT_COMMAND}").text
    assert dash_duo.driver.find_elements("css selector", ".oc-command-form, .oc-command-button") == []

    body = acknowledgement(incident["incident_id"])
    assert dash_duo.driver.execute_async_script(CRAFTED, body) == 403
    refused = access.audit_trail()[0]
    assert (refused["actor"], refused["roles"], refused["action"], refused["target"], refused["allowed"]) == (
        "victor",
        "viewer",
        "incident.acknowledge",
        incident["incident_id"],
        False,
    )
    assert actions.for_incident(access.engine, incident["source"], incident["incident_id"]).empty
