"""Declaring incidents on /incidents in headless Chromium under built-in login: a manager declares one from the
form and one from a firing alert, each listed (source opscenter) once opscenter's own source has been polled; a
viewer sees neither, and a declaration crafted in the viewer's signed-in page is refused with 403 and audited."""

import secrets

import pandas as pd
import pytest
from selenium.webdriver.common.by import By

from dashboard import ids
from dashboard.analytics import rollup
from dashboard.app import create_app
from dashboard.command import declared
from dashboard.command.source import CommandSource
from dashboard.core.poller import Poller
from dashboard.core.settings import DEFAULT_CONFIG, parse
from dashboard.core.store import COMMAND_SOURCE
from dashboard.security.access import AccessStore, Identity
from layouts.components.incident_declare import alert_key
from layouts.pages.incidents import PAGE_STORE
from tests.browser.conftest import assert_no_console_errors
from tests.browser.test_incident_command import CRAFTED, PASSWORD

pytestmark = pytest.mark.browser


class Declaring:
    """The demo's store under ``auth: builtin`` with a manager (alice) and a viewer (victor), and opscenter's own
    source, which the test polls when it wants the declared incidents listed."""

    def __init__(self, store, tmp_path):
        settings = parse(DEFAULT_CONFIG.read_text() + "auth:\n  mode: builtin\n  secret_key: ${OC_TEST_SECRET_KEY}\n")
        self.access = AccessStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
        self.access.migrate()
        admin = Identity("cli:test", frozenset({"admin"}), "cli")
        self.access.add_user("alice", "manager", PASSWORD, admin)
        self.access.add_user("victor", "viewer", PASSWORD, admin)
        self.store = store
        self.command = CommandSource(COMMAND_SOURCE, 10.0, engine=self.access.engine)
        self.poller = Poller([self.command], store)
        self.app = create_app(settings, store, self.access)

    def poll(self) -> None:
        assert self.poller.poll(self.command)["ok"]

    def declared(self) -> list[dict]:
        """The declared incidents as the history database holds them."""
        frame = declared.incident_frame(self.access.engine, pd.Timestamp.now(tz="UTC"))
        return frame.to_dict("records")


@pytest.fixture
def declaring(demo_app, tmp_path, monkeypatch):
    monkeypatch.setenv("OC_TEST_SECRET_KEY", secrets.token_urlsafe(32))
    estate = Declaring(demo_app.server.extensions["opscenter"].store, tmp_path)
    yield estate
    estate.access.close()


def sign_in(dash_duo, user: str) -> None:
    dash_duo.driver.get(dash_duo.server.url + "/incidents")
    dash_duo.wait_for_element("input[type=password]", timeout=20)
    dash_duo.find_element("input[name=user]").send_keys(user)
    dash_duo.find_element("input[name=password]").send_keys(PASSWORD)
    dash_duo.find_element("button[type=submit]").click()
    dash_duo.wait_for_element(f"#{ids.INCIDENTS_BODY} .oc-panel", timeout=20)


def listed(dash_duo, incident_id: str) -> str:
    """The active incidents table's row of ``incident_id``, once a refresh has listed it."""
    selector = f"#{ids.INCIDENTS_BODY} .oc-inc-row"
    dash_duo.wait_for_contains_text(f"#{ids.INCIDENTS_BODY}", incident_id, timeout=20)
    rows = [row.text for row in dash_duo.find_elements(selector) if incident_id in row.text]
    assert len(rows) == 1, rows
    return rows[0]


def declaration(title: str) -> dict:
    """The declare callback request of a P1 titled ``title``, as the form's button would send it."""
    fields = [ids.DECLARE_TITLE, ids.DECLARE_SERVICE, ids.DECLARE_PRIORITY, ids.DECLARE_SUMMARY]
    values = [title, None, 1, None]
    return {
        "output": f"{ids.DECLARE_MESSAGE}.children",
        "outputs": {"id": ids.DECLARE_MESSAGE, "property": "children"},
        "inputs": [{"id": ids.DECLARE_BUTTON, "property": "n_clicks", "value": 1}],
        "state": [
            {"id": PAGE_STORE, "property": "data", "value": "en"},
            *({"id": i, "property": "value", "value": v} for i, v in zip(fields, values, strict=True)),
        ],
        "changedPropIds": [f"{ids.DECLARE_BUTTON}.n_clicks"],
    }


def test_a_manager_declares_from_the_form_and_sees_it_listed(dash_duo, declaring):
    dash_duo.start_server(declaring.app, navigate=False)
    sign_in(dash_duo, "alice")
    dash_duo.find_element(f"#{ids.DECLARE_TITLE}").send_keys("Quotes frozen on the equity gateway")
    dash_duo.select_dcc_dropdown(f"#{ids.DECLARE_PRIORITY}", "P1")
    dash_duo.find_element(f"#{ids.DECLARE_SUMMARY}").send_keys("No ticks since 09:31.")
    dash_duo.find_element(f"#{ids.DECLARE_BUTTON}").click()
    dash_duo.wait_for_text_to_equal(f"#{ids.DECLARE_MESSAGE}", "Declared OC-1.", timeout=10)

    [incident] = declaring.declared()
    assert (incident["title"], incident["priority"], incident["x_summary"]) == (
        "Quotes frozen on the equity gateway",
        1,
        "No ticks since 09:31.",
    )
    assert "OC-1" not in dash_duo.find_element(f"#{ids.INCIDENTS_BODY}").text
    declaring.poll()  # the poller's next run of opscenter's source: the page lists it within one refresh
    row = listed(dash_duo, "OC-1")
    assert "Quotes frozen on the equity gateway" in row and "no IC" in row and "updated 0 min ago" in row
    audit = declaring.access.audit_trail()[0]
    assert (audit["actor"], audit["action"], audit["target"], audit["allowed"]) == (
        "alice",
        "incident.declare",
        "new",
        True,
    )
    assert_no_console_errors(dash_duo)


def test_a_manager_declares_from_a_firing_alert_once(dash_duo, declaring):
    alert = rollup.firing_alerts(declaring.store.frame("alerts")).iloc[0]
    dash_duo.start_server(declaring.app, navigate=False)
    sign_in(dash_duo, "alice")
    button = f'[id*="{ids.DECLARE_ALERT}"][id*="{alert_key(alert)}"]'
    dash_duo.wait_for_element(button, timeout=10).click()
    dash_duo.wait_for_text_to_equal(f"#{ids.DECLARE_ALERT_MESSAGE}", "Declared OC-1.", timeout=10)
    [incident] = declaring.declared()
    assert (incident["title"], incident["service"], incident["x_alert_id"]) == (
        alert["name"],
        alert["service"],
        alert["alert_id"],
    )
    dash_duo.find_element(button).click()  # the same alert again: refused, pointing at the open one
    dash_duo.wait_for_text_to_equal(f"#{ids.DECLARE_ALERT_MESSAGE}", "Already declared as OC-1.", timeout=10)
    assert len(declaring.declared()) == 1
    declaring.poll()
    assert alert["name"] in listed(dash_duo, "OC-1")
    assert_no_console_errors(dash_duo)


def test_a_viewer_sees_no_declaring_and_a_crafted_declaration_is_refused_and_audited(dash_duo, declaring):
    dash_duo.start_server(declaring.app, navigate=False)
    sign_in(dash_duo, "victor")
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, ".oc-declare, .oc-declare-alerts, .oc-command-button") == []

    body = declaration("Forged incident")
    assert dash_duo.driver.execute_async_script(CRAFTED, body) == 403
    refused = declaring.access.audit_trail()[0]
    assert (refused["actor"], refused["roles"], refused["action"], refused["target"], refused["allowed"]) == (
        "victor",
        "viewer",
        "incident.declare",
        "new",
        False,
    )
    assert declaring.declared() == []
