"""/audit through the enforcement point: auditors read and export, everyone else is refused and audited."""

import csv
import io

import pytest

from dashboard import ids
from dashboard.app import create_app
from dashboard.core.settings import parse
from dashboard.core.store import open_store
from dashboard.security import auth, policy
from dashboard.security.access import AccessStore, Identity
from layouts.pages import audit

ADMIN = Identity("cli:test", frozenset({"admin"}), "cli")
PROXY = "10.1.0.4"
CONFIG = f"""
sources:
  - {{kind: demo, name: demo}}
auth:
  mode: proxy
  groups_header: X-Forwarded-Groups
  trusted_proxies: [{PROXY}/32]
  group_roles: {{{", ".join(f"g-{role}: {role}" for role in policy.ROLES)}}}
  cookie_secure: false
"""
CALLBACK = "/_dash-update-component"
FILTER_KEY = (
    f"..{ids.AUDIT_BODY}.children...{ids.AUDIT_CSV}.href...{ids.AUDIT_LINK}.href...{ids.AUDIT_PAGE}.data"
    f"...{ids.AUDIT_PREVIOUS}.disabled...{ids.AUDIT_NEXT}.disabled.."
)


@pytest.fixture
def site(tmp_path):
    """The app, its access records (a display token, a few audited writes) and a client per role and the wall."""
    access = AccessStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    access.migrate()
    secret = access.create_token("lobby-wall", ADMIN)
    access.add_user("vera", "viewer", "a long enough password", ADMIN)
    settings = parse(CONFIG)
    app = create_app(settings, open_store(None, "default", settings.source_names), access)
    clients = {}
    for who in (*policy.ROLES, "display"):
        client = app.server.test_client()
        client.environ_base["REMOTE_ADDR"] = PROXY
        if who == "display":
            client.set_cookie(auth.DISPLAY_COOKIE, secret)
        else:
            client.environ_base.update(HTTP_X_FORWARDED_USER=f"{who}-user", HTTP_X_FORWARDED_GROUPS=f"g-{who}")
        clients[who] = client
    clients["admin"].get("/_dash-layout")  # Dash registers its page router at the first request
    yield app, access, clients
    access.close()


def filter_request(actor=None, action=None, raw_from=None, raw_to=None, page=1) -> dict:
    values = [
        (ids.AUDIT_ACTOR, "value", actor),
        (ids.AUDIT_ACTION, "value", action),
        (ids.AUDIT_FROM, "value", raw_from),
        (ids.AUDIT_TO, "value", raw_to),
        (ids.AUDIT_PREVIOUS, "n_clicks", None),
        (ids.AUDIT_NEXT, "n_clicks", None),
    ]
    return {
        "output": FILTER_KEY,
        "outputs": [
            {"id": ids.AUDIT_BODY, "property": "children"},
            {"id": ids.AUDIT_CSV, "property": "href"},
            {"id": ids.AUDIT_LINK, "property": "href"},
            {"id": ids.AUDIT_PAGE, "property": "data"},
            {"id": ids.AUDIT_PREVIOUS, "property": "disabled"},
            {"id": ids.AUDIT_NEXT, "property": "disabled"},
        ],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in values],
        "state": [
            {"id": ids.AUDIT_PAGE, "property": "data", "value": page},
            {"id": ids.AUDIT_LANG, "property": "data"},
        ],
        "changedPropIds": [f"{ids.AUDIT_ACTION}.value"],
    }


def router_request(path: str) -> dict:
    return {
        "output": f"..{ids.PAGES_CONTENT}.children..._pages_store.data..",
        "outputs": [{"id": ids.PAGES_CONTENT, "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [
            {"id": ids.PAGES_LOCATION, "property": "pathname", "value": path},
            {"id": ids.PAGES_LOCATION, "property": "search", "value": ""},
        ],
        "changedPropIds": [f"{ids.PAGES_LOCATION}.pathname"],
    }


def refusals(access) -> list[tuple]:
    return [(r["actor"], r["action"], r["target"]) for r in access.audit_trail() if not r["allowed"]]


def test_the_filter_callback_is_the_pages(site):
    app, _access, _clients = site
    assert FILTER_KEY in app.callback_map


@pytest.mark.parametrize("who", ["viewer", "manager", "display"])
def test_a_reader_of_other_pages_is_refused_and_the_refusal_audited(site, who):
    app, access, clients = site
    actor = "display:lobby-wall" if who == "display" else f"{who}-user"
    client = clients[who]
    assert client.get("/audit?action=token.create").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    assert client.post(CALLBACK, json=filter_request(action="token.create")).status_code == 403
    assert client.post(CALLBACK, json=router_request("/audit")).status_code == 403
    assert client.post(CALLBACK, json=router_request("/wall")).status_code == 200
    assert refusals(access) == [
        (actor, "audit.read", "/audit"),
        (actor, "audit.read", "/audit"),
        (actor, "audit.read", "/audit/export.csv"),
        (actor, "audit.read", "/audit"),
    ]  # newest first
    assert not any(r["action"] == "audit.export" for r in access.audit_trail())


@pytest.mark.parametrize("who", ["auditor", "admin"])
def test_auditors_and_admins_filter_and_export(site, who):
    app, access, clients = site
    client = clients[who]
    assert client.get("/audit").status_code == 200
    answer = client.post(CALLBACK, json=filter_request(action="user.add")).get_json()["response"]
    assert answer[ids.AUDIT_CSV]["href"] == "/audit/export.csv?action=user.add&lang=en"
    assert "Rows 1–1 of 1" in str(answer[ids.AUDIT_BODY]["children"])

    exported = client.get("/audit/export.csv?action=token.create")
    assert exported.status_code == 200 and exported.mimetype == "text/csv" and exported.is_streamed
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["actor"], r["action"], r["target"]) for r in rows] == [("cli:test", "token.create", "lobby-wall")]
    assert exported.headers["X-Audit-Rows"] == "1" and "X-Audit-Capped" not in exported.headers
    newest = access.audit_trail(1)[0]
    assert (newest["actor"], newest["action"], newest["target"], newest["allowed"]) == (
        f"{who}-user",
        "audit.export",
        "action=token.create",
        True,
    )


@pytest.mark.parametrize("value", ["' OR '1'='1", "<script>alert(1)</script>", "x" * 300, "a\x00b"])
def test_hostile_filters_get_a_message_and_no_export(site, value):
    _app, access, clients = site
    before = len(access.audit_trail(1000))
    answer = clients["auditor"].post(CALLBACK, json=filter_request(actor=value)).get_json()["response"]
    assert "This address is not valid" in str(answer[ids.AUDIT_BODY]["children"])
    assert answer[ids.AUDIT_CSV]["href"] is None and answer[ids.AUDIT_LINK]["href"] is None
    exported = clients["auditor"].get("/audit/export.csv", query_string={"actor": value})
    assert exported.status_code == 400 and exported.mimetype == "text/plain"
    assert len(access.audit_trail(1000)) == before  # neither a row nor an export


def test_a_crafted_language_never_reaches_a_link(site):
    _app, _access, clients = site
    request = filter_request(action="user.add")
    request["state"][1]["value"] = "javascript:alert(1)"
    answer = clients["auditor"].post(CALLBACK, json=request).get_json()["response"]
    assert answer[ids.AUDIT_CSV]["href"] == "/audit/export.csv?action=user.add&lang=en"


def clicked(button: str, at: int, page: int) -> dict:
    """The filter callback's request when ``button`` (at input position ``at``) is clicked on ``page``."""
    request = filter_request(page=page)
    request["changedPropIds"] = [f"{button}.n_clicks"]
    request["inputs"][at]["value"] = 1
    return request


def test_paging_moves_through_the_rows_and_stops_at_the_ends(site, monkeypatch):
    monkeypatch.setattr(audit.auditlog, "PAGE_SIZE", 1)  # the log holds two rows: token.create, user.add
    _app, _access, clients = site
    post = lambda request: clients["auditor"].post(CALLBACK, json=request).get_json()["response"]  # noqa: E731
    first = post(filter_request(page=2))
    assert first[ids.AUDIT_PAGE]["data"] == 1  # a changed filter starts again
    assert (first[ids.AUDIT_PREVIOUS]["disabled"], first[ids.AUDIT_NEXT]["disabled"]) == (True, False)
    older = post(clicked(ids.AUDIT_NEXT, 5, 1))
    assert older[ids.AUDIT_PAGE]["data"] == 2 and "page 2 of 2" in str(older[ids.AUDIT_BODY]["children"])
    assert (older[ids.AUDIT_PREVIOUS]["disabled"], older[ids.AUDIT_NEXT]["disabled"]) == (False, True)
    assert "token.create" in str(older[ids.AUDIT_BODY]["children"])  # the oldest row
    assert older[ids.AUDIT_LINK]["href"] == "/audit?lang=en&page=2"
    assert post(clicked(ids.AUDIT_NEXT, 5, 2))[ids.AUDIT_PAGE]["data"] == 2  # the last page stays
    assert post(clicked(ids.AUDIT_PREVIOUS, 4, 1))[ids.AUDIT_PAGE]["data"] == 1


def test_an_export_over_the_cap_says_so_on_the_page_and_in_its_answer(site, monkeypatch):
    monkeypatch.setattr(audit.auditlog, "EXPORT_CAP", 1)  # the log holds two rows: token.create, user.add
    _app, _access, clients = site
    answer = clients["auditor"].post(CALLBACK, json=filter_request()).get_json()["response"]
    assert "The export holds the newest 1 of the 2 matching rows" in str(answer[ids.AUDIT_BODY]["children"])
    exported = clients["auditor"].get("/audit/export.csv?to=now")
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["action"] for r in rows] == ["user.add"]  # "now" was before the export's own row
    assert exported.headers["X-Audit-Capped"] == "newest 1 of 2 rows"
