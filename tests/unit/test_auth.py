"""The enforcement point, through Flask's test client: each mode, display tokens, roles and writes."""

import secrets

import pytest
from dash import Input, Output, html

from dashboard.app import create_app
from dashboard.core.settings import parse
from dashboard.core.store import open_store
from dashboard.i18n import t
from dashboard.security import auth
from dashboard.security import callbacks as callback_access
from dashboard.security.access import AccessStore, Identity

ADMIN = Identity("cli:test", frozenset({"admin"}), "cli")
PASSWORD = "correct horse battery staple"
BASE = "sources:\n  - {kind: demo, name: demo}\n"
PROXY = (
    BASE
    + """\
auth:
  mode: proxy
  groups_header: X-Forwarded-Groups
  trusted_proxies: [10.1.0.0/24]
  group_roles: {ops-managers: manager, ops-viewers: viewer}
  cookie_secure: false
"""
)
BUILTIN = BASE + "auth:\n  mode: builtin\n  secret_key: ${OC_TEST_SECRET_KEY}\n  cookie_secure: false\n"
ACK = {
    "output": "oc-test-ack.children",
    "outputs": {"id": "oc-test-ack", "property": "children"},
    "inputs": [{"id": "oc-test-button", "property": "n_clicks", "value": 1}],
    "changedPropIds": ["oc-test-button.n_clicks"],
    "state": [],
}


@pytest.fixture
def access(tmp_path):
    store = AccessStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def make_client(access, monkeypatch):
    """A test client on an app configured by ``config`` text, with an acknowledge button callback."""
    monkeypatch.setenv("OC_TEST_SECRET_KEY", secrets.token_urlsafe(32))

    def build(config: str, remote_addr: str = "127.0.0.1"):
        settings = parse(config)
        app = create_app(settings, open_store(None, "default", settings.source_names), access)

        with callback_access.shell_callbacks(app), callback_access.writes(app, "incident.acknowledge"):

            @app.callback(Output("oc-test-ack", "children"), Input("oc-test-button", "n_clicks"))
            def acknowledge(n_clicks):
                auth.audit("incident.acknowledge", "INC0001", {"clicks": n_clicks})
                return "acknowledged"

        app.validation_layout = html.Div([app.layout, html.Div(id="oc-test-ack"), html.Button(id="oc-test-button")])
        client = app.server.test_client()
        client.environ_base["REMOTE_ADDR"] = remote_addr
        return client

    return build


def form_token(client, path: str) -> str:
    return client.get(path).get_data(as_text=True).split('name="csrf" value="', 1)[1].split('"', 1)[0]


def login(client, user="alice", password=PASSWORD, next_url="/wall"):
    csrf = form_token(client, f"/login?next={next_url}")
    return client.post("/login", data={"user": user, "password": password, "csrf": csrf, "next": next_url})


def test_mode_none_is_open_on_loopback_only(make_client):
    client = make_client(BASE)
    assert client.get("/wall").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    assert client.post("/_dash-update-component", json=ACK).status_code == 200
    remote = make_client(BASE, remote_addr="192.0.2.10")
    assert remote.get("/wall").status_code == 403
    assert remote.get("/health").status_code == 200


def test_proxy_header_is_trusted_only_from_trusted_proxies(make_client):
    trusted = make_client(PROXY, remote_addr="10.1.0.4")
    named = {"X-Forwarded-User": "max", "X-Forwarded-Groups": "staff, ops-managers"}
    assert trusted.get("/wall", headers=named).status_code == 200
    assert trusted.get("/wall").status_code == 401
    assert trusted.get("/_dash-layout").get_json() == {"error": t("auth.required")}

    spoofed = make_client(PROXY, remote_addr="10.2.0.4")
    response = spoofed.get("/wall", headers=named)
    assert response.status_code == 401 and b"single sign-on" in response.data
    assert spoofed.post("/_dash-update-component", json=ACK, headers=named).status_code == 401
    assert spoofed.get("/health").status_code == 200


def test_proxy_user_without_a_mapped_group_has_no_role(make_client, access):
    client = make_client(PROXY, remote_addr="10.1.0.4")
    assert client.get("/wall", headers={"X-Forwarded-User": "eve", "X-Forwarded-Groups": "staff"}).status_code == 403
    with_default = make_client(PROXY + "  default_role: viewer\n", remote_addr="10.1.0.4")
    assert with_default.get("/wall", headers={"X-Forwarded-User": "eve"}).status_code == 200


def test_proxy_roles_decide_writes(make_client, access):
    client = make_client(PROXY, remote_addr="10.1.0.4")
    manager = {"X-Forwarded-User": "max", "X-Forwarded-Groups": "ops-managers"}
    viewer = {"X-Forwarded-User": "vera", "X-Forwarded-Groups": "ops-viewers"}
    assert client.post("/_dash-update-component", json=ACK, headers=manager).status_code == 200
    denied = client.post("/_dash-update-component", json=ACK, headers=viewer)
    assert denied.status_code == 403 and denied.get_json() == {"error": t("auth.forbidden")}
    trail = access.audit_trail()
    assert [(r["actor"], r["roles"], r["address"], r["allowed"]) for r in trail] == [
        ("vera", "viewer", "10.1.0.4", False),
        ("max", "manager", "10.1.0.4", True),
    ]


def test_builtin_login_session_and_logout(make_client, access):
    access.add_user("alice", "manager", PASSWORD, ADMIN)
    client = make_client(BUILTIN)
    response = client.get("/wall?lang=zh")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=%2Fwall%3Flang%3Dzh"
    assert client.get("/_dash-layout").status_code == 401
    form = client.get("/login?next=/wall").get_data(as_text=True)
    assert 'name="csrf"' in form and 'type="password"' in form

    assert login(client, password=PASSWORD + "x").status_code == 401
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"] == "/wall"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{auth.SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert PASSWORD not in cookie
    assert client.get("/wall").status_code == 200
    assert client.post("/_dash-update-component", json=ACK).status_code == 200
    assert access.audit_trail()[0]["actor"] == "alice"

    assert client.get("/logout").status_code == 200 and client.get("/wall").status_code == 200
    assert client.post("/logout", data={"csrf": form_token(client, "/logout")}).headers["Location"] == "/login"
    assert client.get("/wall").status_code == 302


def test_login_needs_its_csrf_token_and_stays_on_site(make_client, access):
    access.add_user("alice", "viewer", PASSWORD, ADMIN)
    client = make_client(BUILTIN)
    client.get("/login")
    forged = client.post("/login", data={"user": "alice", "password": PASSWORD, "csrf": "guess"})
    assert forged.status_code == 400
    assert client.get("/wall").status_code == 302
    for target in (
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/logout",
        "/\t/evil.example",
        "/\r\n/evil.example",
    ):
        assert login(client, next_url=target).headers["Location"] == "/"


def test_a_viewer_reaches_no_restricted_page_callback_or_write(make_client, access):
    access.add_user("vera", "viewer", PASSWORD, ADMIN)
    client = make_client(BUILTIN)
    login(client, user="vera")
    for path in ("/maturity", "/maturity/export.csv", "/maturity/export.pdf?lang=zh"):
        assert client.get(path).status_code == 403, path
    assert client.post("/_dash-update-component", json=ACK).status_code == 403
    assert (
        client.post(
            "/_dash-update-component",
            json={**ACK, "outputs": {"id": "oc-audit-table", "property": "data"}, "output": "oc-audit-table.data"},
        ).status_code
        == 400
    )  # no such callback
    page_route = {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/maturity"},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
    }
    assert client.post("/_dash-update-component", json=page_route).status_code == 403
    row = access.audit_trail()[0]
    assert (row["actor"], row["action"], row["allowed"]) == ("vera", "incident.acknowledge", False)


@pytest.mark.parametrize("config", [PROXY, BUILTIN])
def test_display_token_in_url_then_cookie_until_revoked(make_client, access, config):
    secret = access.create_token("lobby-wall", ADMIN)
    client = make_client(config, remote_addr="10.9.9.9")
    response = client.get(f"/wall?kiosk=1&token={secret}")
    assert response.status_code == 302 and response.headers["Location"] == "/wall?kiosk=1"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{auth.DISPLAY_COOKIE}=") and "HttpOnly" in cookie and "Max-Age=" in cookie

    assert client.get("/wall?kiosk=1").status_code == 200
    assert client.get("/sources").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    assert client.post("/_dash-update-component", json=ACK).status_code == 403  # read-only
    assert client.get("/maturity").status_code == 403 and client.get("/maturity/export.csv").status_code == 403

    access.revoke_token("lobby-wall", ADMIN)
    response = client.get("/wall?kiosk=1")
    assert response.status_code == 401 and "Location" not in response.headers
    assert b"token is not valid" in response.data and b"password" not in response.data
    assert client.get_cookie(auth.DISPLAY_COOKIE) is None
    assert client.post("/_dash-update-component", json=ACK).status_code == 401


def test_an_unknown_token_in_the_url_is_refused(make_client, access):
    client = make_client(BUILTIN)
    response = client.get("/wall?token=" + secrets.token_urlsafe(32))
    assert response.status_code == 401 and client.get_cookie(auth.DISPLAY_COOKIE) is None


def test_display_cookie_is_secure_by_default(make_client, access):
    secret = access.create_token("lobby-wall", ADMIN)
    client = make_client(BUILTIN.replace("  cookie_secure: false\n", ""))
    assert "Secure" in client.get(f"/wall?token={secret}").headers["Set-Cookie"]


def test_cross_site_posts_are_refused(make_client):
    client = make_client(BASE)
    assert client.post("/_dash-update-component", json=ACK, headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert (
        client.post("/_dash-update-component", json=ACK, headers={"Origin": "https://evil.example"}).status_code == 403
    )
    assert (
        client.post("/_dash-update-component", json=ACK, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    )


def test_open_paths_and_static_files_need_no_login(make_client):
    client = make_client(BUILTIN)
    assert client.get("/health").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/assets/opscenter.css").status_code == 200
    closed = make_client(BUILTIN + "  open_paths: [/health]\n")
    assert closed.get("/metrics").status_code == 302


@pytest.mark.parametrize("path", ["/wall", "/health", "/login", "/assets/opscenter.css", "/_dash-layout"])
def test_security_headers_on_every_response(make_client, path):
    response = make_client(BUILTIN).get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp and "script-src 'self' 'sha256-" in csp and "'unsafe-eval'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_a_token_never_travels_on_to_the_login_page(make_client, access):
    secret = access.create_token("lobby-wall", ADMIN)
    response = make_client(BUILTIN).head(f"/wall?token={secret}")
    assert response.status_code == 302 and response.headers["Location"] == "/wall"


@pytest.mark.parametrize(
    "path, location",
    [
        ("/%09/evil.example", None),
        ("/%0d%0aSet-Cookie:%20x=1", None),
        ("/%2F%2Fevil.example", "/evil.example"),
        ("/%5Cevil.example", "/%5Cevil.example"),
        ("/chain/equity%20trading", "/chain/equity%20trading"),
    ],
)
@pytest.mark.parametrize("config", [PROXY, BUILTIN])
def test_adopting_a_display_token_redirects_only_on_this_site(make_client, access, config, path, location):
    secret = access.create_token("lobby-wall", ADMIN)
    response = make_client(config, remote_addr="10.9.9.9").get(f"{path}?kiosk=1&token={secret}")
    if location is None:  # a path no page has: not found, and no cookie
        assert response.status_code in (400, 404) and "Location" not in response.headers
        assert auth.DISPLAY_COOKIE not in response.headers.get("Set-Cookie", "")
        return
    assert response.status_code == 302 and response.headers["Location"] == f"{location}?kiosk=1"


@pytest.mark.parametrize("header", ["Forwarded", "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Host", "Via"])
def test_mode_none_refuses_requests_a_proxy_forwarded(make_client, header):
    client = make_client(BASE)
    response = client.get("/wall", headers={header: "for=192.0.2.60"})
    assert response.status_code == 403 and "proxy" in response.get_data(as_text=True)
    assert client.post("/_dash-update-component", json=ACK, headers={header: "192.0.2.60"}).status_code == 403
    assert client.get("/health", headers={header: "192.0.2.60"}).status_code == 200


def test_proxy_mode_refuses_a_user_header_naming_two_people(make_client):
    client = make_client(PROXY, remote_addr="10.1.0.4")
    response = client.get("/wall", headers={"X-Forwarded-User": "max,admin", "X-Forwarded-Groups": "ops-managers"})
    assert response.status_code == 400 and "more than once" in response.get_data(as_text=True)
