"""A wall opened with a display token renders under built-in login, with no login prompt, and reaches only
the pages a viewer may read."""

import secrets
import time

import pytest
from dash.testing import wait

from dashboard import ids
from dashboard.app import create_app
from dashboard.core.settings import DEFAULT_CONFIG, parse
from dashboard.security.access import AccessStore, Identity
from tests.browser.test_pages import _no_console_errors

pytestmark = pytest.mark.browser
PASSWORD = "correct horse battery staple"


@pytest.fixture
def guarded_app(demo_app, tmp_path, monkeypatch):
    """The demo app's store under ``auth: builtin``, and a display token for it."""
    monkeypatch.setenv("OC_TEST_SECRET_KEY", secrets.token_urlsafe(32))
    config = DEFAULT_CONFIG.read_text().replace("refresh_s: 5", "refresh_s: 1")
    settings = parse(config + "auth:\n  mode: builtin\n  secret_key: ${OC_TEST_SECRET_KEY}\n")
    access = AccessStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    access.migrate()
    admin = Identity("cli:test", frozenset({"admin"}), "cli")
    secret = access.create_token("lobby-wall", admin)
    access.add_user("alice", "manager", PASSWORD, admin)
    store = demo_app.server.extensions["opscenter"].store
    yield create_app(settings, store, access), secret
    access.close()


def test_wall_with_a_display_token_shows_no_login_prompt(dash_duo, guarded_app):
    app, secret = guarded_app
    dash_duo.start_server(app, navigate=False)
    dash_duo.driver.get(dash_duo.server.url + f"/wall?kiosk=1&token={secret}")
    dash_duo.wait_for_element(".oc-chain", timeout=20)
    assert dash_duo.driver.current_url.endswith("/wall?kiosk=1")
    time.sleep(2.5)  # a few refresh ticks: the callbacks ride on the cookie
    dash_duo.driver.refresh()
    dash_duo.wait_for_element(".oc-chain", timeout=20)
    assert not dash_duo.driver.find_elements("css selector", "input[type=password]")
    assert "/login" not in dash_duo.driver.current_url
    _no_console_errors(dash_duo)


def test_without_a_token_the_wall_asks_for_a_login(dash_duo, guarded_app):
    app, _secret = guarded_app
    dash_duo.start_server(app, navigate=False)
    dash_duo.driver.get(dash_duo.server.url + "/wall")
    dash_duo.wait_for_element("input[type=password]", timeout=20)
    assert "/login?next=%2Fwall" in dash_duo.driver.current_url
    _no_console_errors(dash_duo)


def test_sign_in_then_sign_out_with_the_logout_form(dash_duo, guarded_app):
    app, _secret = guarded_app
    dash_duo.start_server(app, navigate=False)
    dash_duo.driver.get(dash_duo.server.url + "/capacity")
    dash_duo.wait_for_element("input[type=password]", timeout=20)
    dash_duo.find_element("input[name=user]").send_keys("alice")
    dash_duo.find_element("input[name=password]").send_keys(PASSWORD)
    dash_duo.find_element("button[type=submit]").click()
    dash_duo.wait_for_element(".oc-nav", timeout=20)
    assert dash_duo.driver.current_url.endswith("/capacity")

    dash_duo.driver.get(dash_duo.server.url + "/logout")  # a GET only shows the form
    dash_duo.wait_for_element("form[action='/logout'] button", timeout=20).click()
    dash_duo.wait_for_element("input[type=password]", timeout=20)
    dash_duo.driver.get(dash_duo.server.url + "/capacity")
    dash_duo.wait_for_element("input[type=password]", timeout=20)
    assert "/login?next=%2Fcapacity" in dash_duo.driver.current_url


def test_a_wall_navigates_to_the_pages_its_token_may_read_and_no_other(dash_duo, guarded_app):
    app, secret = guarded_app
    dash_duo.start_server(app, navigate=False)
    dash_duo.driver.get(dash_duo.server.url + f"/wall?token={secret}")
    dash_duo.wait_for_element(".oc-chain", timeout=20)
    dash_duo.find_element(f"#{ids.NAV} a[href^='/sources']").click()
    dash_duo.wait_for_element(f"#{ids.SOURCES_SUMMARY}", timeout=20)
    _no_console_errors(dash_duo)

    assert not dash_duo.find_element(f"#{ids.NAV} a[href^='/capacity']").is_displayed()  # not the viewer's page
    dash_duo.driver.execute_script(  # what the link would do: Dash's router asks for the page
        "history.pushState({}, '', '/capacity'); window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));"
    )
    wait.until(lambda: [e for e in dash_duo.get_logs() if "status of 403" in e["message"]], timeout=20)
    assert not dash_duo.driver.find_elements("css selector", ".oc-capacity")
    assert dash_duo.find_element(f"#{ids.SOURCES_SUMMARY}")  # the page shown stays
