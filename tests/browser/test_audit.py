"""/audit in Chromium under built-in login: an auditor filters and exports, a viewer is refused and audited."""

import csv
import io
import secrets

import pytest
import requests
from dash.testing.wait import until

from dashboard import ids
from dashboard.app import create_app
from dashboard.core.settings import DEFAULT_CONFIG, parse
from dashboard.security import auth
from dashboard.security.access import AccessStore, Identity
from tests.browser.conftest import assert_no_console_errors

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"
ADMIN = Identity("cli:test", frozenset({"admin"}), "cli")


@pytest.fixture
def audit_app(demo_app, tmp_path, monkeypatch):
    """The demo app's store under ``auth: builtin`` with an auditor, a viewer and a few audited writes."""
    monkeypatch.setenv("OC_TEST_SECRET_KEY", secrets.token_urlsafe(32))
    settings = parse(DEFAULT_CONFIG.read_text() + "auth:\n  mode: builtin\n  secret_key: ${OC_TEST_SECRET_KEY}\n")
    access = AccessStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    access.migrate()
    access.add_user("ada", "auditor", PASSWORD, ADMIN)
    access.add_user("vera", "viewer", PASSWORD, ADMIN)
    for name in ("lobby-wall", "noc-wall"):
        access.create_token(name, ADMIN)
    access.revoke_token("noc-wall", ADMIN)
    yield create_app(settings, demo_app.server.extensions["opscenter"].store, access), access
    access.close()


def sign_in(dash_duo, user: str, path: str) -> None:
    dash_duo.driver.get(dash_duo.server.url + path)
    dash_duo.wait_for_element("input[name=user]", timeout=20).send_keys(user)
    dash_duo.find_element("input[name=password]").send_keys(PASSWORD)
    dash_duo.find_element("button[type=submit]").click()


def rows(dash_duo) -> list[list[str]]:
    return [
        [cell.text for cell in row.find_elements("css selector", "td")]
        for row in dash_duo.find_elements(".oc-audit-row")
    ]


def test_an_auditor_filters_by_action_and_exports_the_filtered_rows(dash_duo, audit_app):
    app, access = audit_app
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "ada", "/audit")
    dash_duo.wait_for_contains_text(".oc-audit-summary", "Rows 1–5 of 5", timeout=20)
    assert dash_duo.find_element(f"#{ids.NAV} a[href^='/audit']").is_displayed()
    assert not any(dash_duo.find_element(f"#{i}").is_enabled() for i in (ids.AUDIT_PREVIOUS, ids.AUDIT_NEXT))

    dash_duo.find_element(f"#{ids.AUDIT_ACTION}").click()
    next(o for o in dash_duo.find_elements(".dash-dropdown-option") if o.text == "token.create").click()
    dash_duo.wait_for_contains_text(".oc-audit-summary", "Rows 1–2 of 2", timeout=10)
    shown = rows(dash_duo)
    assert [(r[1], r[4], r[5]) for r in shown] == [("cli:test", "token.create", "noc-wall")] + [
        ("cli:test", "token.create", "lobby-wall")
    ]
    link = dash_duo.find_element(f"#{ids.AUDIT_CSV}").get_attribute("href")
    assert link == dash_duo.server.url + "/audit/export.csv?action=token.create&lang=en"

    session = {auth.SESSION_COOKIE: dash_duo.driver.get_cookie(auth.SESSION_COOKIE)["value"]}
    exported = requests.get(link, cookies=session, timeout=30)
    assert exported.status_code == 200 and exported.headers["Content-Type"] == "text/csv; charset=utf-8"
    table = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["actor"], r["action"], r["target"]) for r in table] == [
        ("cli:test", "token.create", "noc-wall"),
        ("cli:test", "token.create", "lobby-wall"),
    ]
    newest = access.audit_trail(1)[0]
    assert (newest["actor"], newest["action"], newest["target"]) == ("ada", "audit.export", "action=token.create")
    assert_no_console_errors(dash_duo)


def test_a_hostile_filter_in_the_address_shows_its_message_and_no_rows(dash_duo, audit_app):
    app, _access = audit_app
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "ada", "/audit?actor=%27%20OR%20%271%27%3D%271&from=%3Cscript%3E")
    dash_duo.wait_for_contains_text(".oc-audit-message", "This address is not valid", timeout=20)
    assert not dash_duo.find_elements(".oc-audit-row")
    assert not dash_duo.find_element(f"#{ids.AUDIT_CSV}").is_displayed()
    assert_no_console_errors(dash_duo)


def test_a_viewer_sees_no_link_is_refused_and_the_refusal_is_audited(dash_duo, audit_app):
    app, access = audit_app
    dash_duo.start_server(app, navigate=False)
    sign_in(dash_duo, "vera", "/wall")
    dash_duo.wait_for_element(".oc-chain", timeout=30)
    for page in ("audit", "maturity", "capacity"):
        assert not dash_duo.find_element(f"#{ids.NAV} a[href^='/{page}']").is_displayed(), page
    assert dash_duo.find_element(f"#{ids.NAV} a[href^='/sources']").is_displayed()

    dash_duo.driver.execute_script(  # what a link to /audit would do: Dash's router asks for the page
        "history.pushState({}, '', '/audit'); window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));"
    )
    until(lambda: [e for e in dash_duo.get_logs() if "status of 403" in e["message"]], timeout=20)
    assert not dash_duo.find_elements(".oc-audit")
    dash_duo.driver.get(dash_duo.server.url + "/audit")
    dash_duo.wait_for_contains_text(".oc-auth-message", "Your role does not allow this.", timeout=20)

    refused = [(r["actor"], r["action"], r["target"], r["allowed"]) for r in access.audit_trail(2)]
    assert refused == [("vera", "audit.read", "/audit", False)] * 2  # the page, then the router before it
    details = [r["detail"] for r in access.audit_trail(2)]
    assert '"method": "GET"' in details[0] and '"callback"' in details[1]
