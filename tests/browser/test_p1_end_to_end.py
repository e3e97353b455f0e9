"""A P1 run end to end in headless Chromium, as a duty manager would, against the real Request Tracker and a
loopback webhook: declared on /incidents, its ticket opened in RT, the duty manager told and, with the poller's
clock moved past ``ack_minutes``, the next level; then on the incident page the commander assigned, the
acknowledgement (in RT within one poll), two pre-plan steps ticked, a status update and the resolution; the
report carries the proposed grade, /audit lists every step, MTTA counts the acknowledgement, and a viewer's
forged declaration and acknowledgement are refused and audited."""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dash.testing.errors import TestingTimeoutError
from dash.testing.wait import until
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException

from dashboard import cli, ids
from dashboard.app import create_app
from dashboard.command import actions, checklist, declared
from dashboard.core.settings import parse
from dashboard.core.store import open_store
from dashboard.security.access import AccessStore, Identity
from layouts.pages import incidents as incidents_page
from tests.browser.conftest import assert_no_console_errors
from tests.browser.test_incident_command import CRAFTED, PASSWORD, acknowledgement
from tests.browser.test_incident_declare import declaration
from tests.browser.test_incident_grading import FETCH
from tests.browser.test_preplan_checklist import TIMELINE_TEXT, step_selector
from tests.integration.test_request_tracker import AUTH, rest, rt_notes, rt_server, rt_tickets, rt_url  # noqa: F401
from tests.loopback_http import Reply, serve

pytestmark = pytest.mark.browser
LIBRARY = Path(declared.__file__).with_name("preplan_library")
CONFIG = """
center_name: Test Center
refresh_s: 2
sources:
  - {{kind: demo, name: metrics, interval_s: 60, frames: [services, chains, service_metrics]}}
  - kind: request_tracker
    name: rt
    interval_s: 60
    url: {rt_url}
    username: {user}
    password: ${{OC_TEST_RT_PASSWORD}}
    query: "Queue = 'Incidents' AND Subject LIKE '{token}'"
command: {{declare_to: rt}}
preplans: {{path: {library}}}
auth:
  mode: builtin
  secret_key: ${{OC_TEST_SECRET_KEY}}
notifications:
  ack_minutes: 5
  channels:
    pager: {{kind: webhook, url: "{hook}/hook"}}
  roster:
    people:
      zhang.wei: {{name: Zhang Wei}}
      wang.fang: {{name: Wang Fang}}
    levels:
      - title: Duty manager
        channels: [pager]
        shifts: [{{from: "00:00", to: "24:00", who: zhang.wei}}]
      - title: Head of operations
        channels: [pager]
        shifts: [{{from: "00:00", to: "24:00", who: wang.fang}}]
"""
ADMIN = Identity("cli:test", frozenset({"admin"}), "cli")
UPDATE = "Failover to site B under way."
DONE_STEPS = "return [...document.querySelectorAll('.oc-preplan-done')].map(el => el.dataset.step);"
AUDIT_ROWS = "return [...document.querySelectorAll('.oc-audit-row')].map(row => [...row.cells].map(c => c.innerText));"
TEXTS = "return [...document.querySelectorAll(arguments[0])].map(el => el.innerText.trim());"
P1_ROW = """
const row = document.querySelector('.oc-kpi-block .oc-kpi-table tbody tr');
return row ? [...row.cells].map(cell => cell.innerText.trim()) : null;
"""


class Command:
    """The app and the poller ``opscenter run`` builds from the config above (the RT source reading only this
    test's tickets), on a history database with a manager (alice), an auditor (ada) and a viewer (victor); the
    poller's clock runs ``offset`` ahead of the system's."""

    def __init__(self, rt: str, hook: str, tmp_path: Path):
        self.token = secrets.token_hex(4)  # the suite's RT outlives one test: this test's tickets carry it
        config = CONFIG.format(rt_url=rt, user=AUTH[0], token=self.token, library=LIBRARY, hook=hook)
        database = f"sqlite:///{tmp_path / 'history.sqlite3'}"
        env = {
            **os.environ,
            "OC_TEST_RT_PASSWORD": AUTH[1],
            "OC_TEST_SECRET_KEY": secrets.token_urlsafe(32),
            "OPSCENTER_DATABASE_URL": database,
        }
        self.settings = parse(config, env=env)
        self.access = AccessStore(database)
        self.access.migrate()
        for user, role in (("alice", "manager"), ("ada", "auditor"), ("victor", "viewer")):
            self.access.add_user(user, role, PASSWORD, ADMIN)
        self.store = open_store(None, self.settings.deployment, self.settings.source_names)
        self.offset = timedelta(0)
        self.poller = cli._poller(self.settings, self.store)
        self.poller.clock = lambda: datetime.now(UTC) + self.offset
        self.next_poll()  # the poller's first run, before anyone signs in
        self.app = create_app(self.settings, self.store, self.access)

    def next_poll(self) -> None:
        """The poller's next run, as if every source's interval had passed: each source polled, then the jobs."""
        for source in self.poller.sources:
            self.poller.leases.hold(source.name, 0, 0)
        assert set(self.poller.tick()) == {s.name for s in self.poller.sources}

    def poll_until(self, done, what: str) -> None:
        """Run the poller until ``done()`` (the escalation job runs on a thread of its own after the polls)."""
        until(lambda: self.next_poll() or done(), timeout=90, poll=1, msg=what)

    def incident(self) -> dict:
        [incident] = declared.incident_frame(self.access.engine, self.poller.clock()).to_dict("records")
        return incident


@pytest.fixture
def command(rt_url, tmp_path):  # noqa: F811
    with serve(lambda request, base: Reply(None, status=204)) as (hook, seen):
        estate = Command(rt_url, hook, tmp_path)
        yield estate, seen
        estate.access.close()
        estate.poller.history.close()


def sign_in(dash_duo, user: str, path: str, ready: str) -> None:
    dash_duo.driver.delete_all_cookies()
    dash_duo.driver.get(dash_duo.server.url + path)
    dash_duo.wait_for_element("input[name=user]", timeout=30).send_keys(user)
    dash_duo.find_element("input[name=password]").send_keys(PASSWORD)
    dash_duo.find_element("button[type=submit]").click()
    dash_duo.wait_for_element(ready, timeout=30)


def texts(dash_duo, selector: str) -> list[str]:
    """The text of each element ``selector`` matches, read in one go: the page redraws its panels at every
    refresh."""
    return dash_duo.driver.execute_script(TEXTS, selector)


def click(dash_duo, selector: str) -> None:
    """Click ``selector``, again when a refresh redrew it between finding and clicking (the click never landed)."""

    def clicked() -> bool:
        try:
            dash_duo.find_element(selector).click()
        except StaleElementReferenceException:
            return False
        return True

    until(clicked, timeout=30)


def tick(dash_duo, engine, step: int) -> None:
    """Tick ``step``: click its box, and click again only when no tick of it was recorded after a while (a
    refresh that redrew the box as the click landed); never twice for one recorded tick, which would untick."""

    def recorded() -> bool:
        return step in checklist.for_incident(engine, declared.SOURCE, "OC-1")["step"].tolist()

    for _attempt in range(3):
        click(dash_duo, step_selector(step))
        try:
            until(recorded, timeout=20)
            return
        except TestingTimeoutError:
            continue
    raise AssertionError(f"no tick of step {step} was recorded")


def shows_progress(dash_duo, progress: str) -> None:
    """The checklist says ``progress``: after its refresh, else after a reload of the page (a refresh begun
    before the tick was recorded may answer after the one the tick began, and no poll follows here to redraw
    the checklist again)."""
    try:
        dash_duo.wait_for_contains_text(f"#{ids.PREPLAN_CHECKLIST}", progress, timeout=15)
    except TimeoutException:
        dash_duo.driver.refresh()
        dash_duo.wait_for_contains_text(f"#{ids.PREPLAN_CHECKLIST}", progress, timeout=30)


def act(dash_duo, action: str, done: str) -> None:
    click(dash_duo, f"#{ids.INCIDENT_ACT.format(action=action)}")
    dash_duo.wait_for_text_to_equal(f"#{ids.INCIDENT_ACT_MESSAGE.format(action=action)}", done, timeout=30)


def p1_row(dash_duo) -> list[str] | None:
    """The P1 row of the first response-time table on /incidents (priority, count, MTTA, unacknowledged, ...),
    read in one go: the page redraws it at every refresh."""
    return dash_duo.driver.execute_script(P1_ROW)


def test_a_p1_from_declaration_to_resolution(dash_duo, command, rt_url):  # noqa: F811
    estate, hooked = command
    title = f"Order gateway rejecting orders {estate.token}"
    dash_duo.start_server(estate.app, navigate=False)

    # 1. declared from the /incidents form on a service with a pre-plan
    sign_in(dash_duo, "alice", "/incidents", f"#{ids.DECLARE_BUTTON}")
    dash_duo.find_element(f"#{ids.DECLARE_TITLE}").send_keys(title)
    dash_duo.select_dcc_dropdown(f"#{ids.DECLARE_SERVICE}", "order-gateway")
    dash_duo.select_dcc_dropdown(f"#{ids.DECLARE_PRIORITY}", "P1")
    dash_duo.find_element(f"#{ids.DECLARE_SUMMARY}").send_keys("Orders rejected since 09:31.")
    dash_duo.find_element(f"#{ids.DECLARE_BUTTON}").click()
    dash_duo.wait_for_text_to_equal(f"#{ids.DECLARE_MESSAGE}", "Declared OC-1.", timeout=30)

    # 2. the next poll lists it and opens its ticket in RT; the escalation job tells level 1
    estate.poll_until(lambda: len(hooked) >= 1, "the level-1 notification")
    [ticket] = rt_tickets(rt_url, estate.token)
    assert ticket["Subject"].startswith("[opscenter OC-1 ") and ticket["Subject"].endswith(title)
    assert rest(rt_url, "GET", f"ticket/{ticket['id']}", None)["Priority"] == "100"  # P1: RT's High
    incident = estate.incident()
    assert (incident["priority"], incident["service"], incident["x_ticket"]) == (
        1,
        "order-gateway",
        f"RT-{ticket['id']}",
    )
    dash_duo.wait_for_contains_text(f"#{ids.INCIDENTS_BODY}", title, timeout=30)
    until(lambda: (p1_row(dash_duo) or [])[1:4] == ["1", "–", "1"], timeout=30)  # one P1, not acknowledged yet
    first = hooked[0].body
    assert (first["event"], first["incident_id"], first["priority"], first["level"]) == (
        "incident.notified",
        "OC-1",
        1,
        1,
    )
    assert [r["name"] for r in first["recipients"]] == ["Zhang Wei"] and title in first["title"]

    # 3. nobody acknowledges for longer than ack_minutes: level 2
    estate.offset = timedelta(minutes=6)
    estate.poll_until(lambda: len(hooked) >= 2, "the level-2 escalation")
    second = hooked[1].body
    assert (second["event"], second["incident_id"], second["priority"], second["level"]) == (
        "incident.escalated",
        "OC-1",
        1,
        2,
    )
    assert [r["name"] for r in second["recipients"]] == ["Wang Fang"] and len(hooked) == 2

    # 4. on the incident page: the commander, the acknowledgement (in RT within one poll), the checklist, an
    # update, the resolution
    dash_duo.driver.get(dash_duo.server.url + "/incidents/OC-1")
    dash_duo.wait_for_contains_text(f"#{ids.PREPLAN_CHECKLIST}", "order-gateway-down", timeout=30)
    dash_duo.find_element(f"#{ids.INCIDENT_USER}").send_keys("alice")
    act(dash_duo, "assign", "Recorded: assigned alice as Incident commander.")
    dash_duo.wait_for_text_to_equal(f"#{ids.INCIDENT_COMMAND} .oc-command-commander", "alice", timeout=30)

    act(dash_duo, "acknowledge", "Recorded: acknowledged.")
    estate.next_poll()
    assert rest(rt_url, "GET", f"ticket/{ticket['id']}", None)["Status"] == "open"
    taken = actions.for_incident(estate.access.engine, declared.SOURCE, "OC-1").set_index("action")
    acknowledged = taken.loc["acknowledge"]
    assert acknowledged["writeback"] == "delivered"
    notes = {n["subject"]: n["content"] for n in rt_notes(rt_url, ticket["id"])}
    assert notes[f"[opscenter action {acknowledged['id']}]"].startswith(
        f"[opscenter action {acknowledged['id']}] alice acknowledged the incident in opscenter."
    )

    total = len(texts(dash_duo, ".oc-preplan-step"))
    for step in (1, 2):
        tick(dash_duo, estate.access.engine, step)
        shows_progress(dash_duo, f"{step} of {total} steps done")
    assert dash_duo.driver.execute_script(DONE_STEPS) == ["1", "2"]

    dash_duo.find_element(f"#{ids.INCIDENT_NOTE}").send_keys(UPDATE)
    dash_duo.find_element(f"#{ids.INCIDENT_PUBLIC} input").click()
    act(dash_duo, "note", f"Recorded: status update: {UPDATE}.")
    act(dash_duo, "resolve", "Recorded: resolved.")
    dash_duo.wait_for_contains_text(f"#{ids.INCIDENT_COMMAND} .oc-command-log", "resolved", timeout=30)
    logged = texts(dash_duo, ".oc-command-row .oc-command-what")
    assert logged == [
        "resolved",
        f"status update: {UPDATE}",
        "acknowledged",
        "assigned alice as Incident commander",
        "declared the incident",
    ]
    wanted = ("alice: ticked step 1:", "alice: ticked step 2:", "alice: resolved")
    until(
        lambda: all(
            any(
                text.startswith(w)
                for text in dash_duo.driver.execute_script(TIMELINE_TEXT, f"#{ids.INCIDENT_TIMELINE}")
            )
            for w in wanted
        ),
        timeout=30,
    )
    notices = [text.splitlines()[1:] for text in texts(dash_duo, f"#{ids.INCIDENT_NOTICES} .oc-notice")]
    assert notices == [["level 1 · pager → Zhang Wei", "sent"], ["level 2 · pager → Wang Fang", "sent"]]
    estate.next_poll()
    assert rest(rt_url, "GET", f"ticket/{ticket['id']}", None)["Status"] == "resolved"

    # 5. the report carries the proposed grade the page shows
    [proposed] = texts(dash_duo, f"#{ids.INCIDENT_GRADE} .oc-grade-proposed")
    assert proposed.startswith("Proposed grade: ")
    status, text = dash_duo.driver.execute_async_script(FETCH, "/incidents/OC-1/report.md")
    assert status == 200 and proposed in text

    # 7. MTTA on /incidents counts the acknowledgement made here
    incident = estate.incident()
    minutes = (incident["acknowledged_at"] - incident["opened_at"]).total_seconds() / 60
    dash_duo.driver.get(dash_duo.server.url + "/incidents")
    mtta = ["1", incidents_page.duration(minutes, "en"), "0"]
    until(lambda: (p1_row(dash_duo) or [])[1:4] == mtta, timeout=30, msg=f"MTTA of P1 {mtta}")
    assert_no_console_errors(dash_duo)

    # 6. /audit lists every step
    sign_in(dash_duo, "ada", "/audit", ".oc-audit-row")
    cells = dash_duo.driver.execute_script(AUDIT_ROWS)
    audited = [(r[1], r[4], r[5]) for r in cells]
    for step in (
        ("alice", "incident.declare", "new"),
        ("alice", "incident.assign", "OC-1"),
        ("alice", "incident.acknowledge", "OC-1"),
        ("alice", "incident.preplan_step", "OC-1"),
        ("alice", "incident.note", "OC-1"),
        ("alice", "incident.resolve", "OC-1"),
        ("opscenter", "incident.notify", "OC-1"),
    ):
        assert step in audited, (step, audited)
    assert audited.count(("opscenter", "incident.notify", "OC-1")) == 2  # level 1, then level 2
    ticks = checklist.for_incident(estate.access.engine, declared.SOURCE, "OC-1")
    assert ticks[["step", "done", "actor"]].values.tolist() == [[1, True, "alice"], [2, True, "alice"]]
    assert_no_console_errors(dash_duo)

    # 8. a viewer: a forged acknowledgement and a forged declaration, each refused and audited
    sign_in(dash_duo, "victor", "/incidents/OC-1", f"#{ids.INCIDENT_COMMAND}")
    assert dash_duo.driver.find_elements("css selector", ".oc-command-form, .oc-command-button") == []
    assert dash_duo.driver.execute_async_script(CRAFTED, acknowledgement("OC-1")) == 403
    assert dash_duo.driver.execute_async_script(CRAFTED, declaration("Forged incident")) == 403
    refused = [(r["actor"], r["action"], r["target"], r["allowed"]) for r in estate.access.audit_trail()[:2]]
    assert refused == [("victor", "incident.declare", "new", False), ("victor", "incident.acknowledge", "OC-1", False)]
    assert len(declared.incident_frame(estate.access.engine, estate.poller.clock())) == 1
    assert len(actions.for_incident(estate.access.engine, declared.SOURCE, "OC-1")) == len(logged)
