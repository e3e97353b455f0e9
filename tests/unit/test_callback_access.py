"""Callback requests are authorized on the app's own callback registry, for every callback and role."""

import json

import dash
import pytest

from dashboard import ids
from dashboard.app import create_app
from dashboard.command import actions
from dashboard.core.settings import DEFAULT_CONFIG, parse
from dashboard.security import auth, policy
from dashboard.security import callbacks as callback_access
from dashboard.security.access import AccessStore, Identity
from tests.demo_app import polled_demo_app

ADMIN = Identity("cli:test", frozenset({"admin"}), "cli")
CALLBACK = "/_dash-update-component"
PROXY = "10.1.0.4"
AUTH = f"""
auth:
  mode: proxy
  groups_header: X-Forwarded-Groups
  trusted_proxies: [{PROXY}/32]
  group_roles: {{{", ".join(f"g-{role}: {role}" for role in policy.ROLES)}}}
  cookie_secure: false
"""
DISPLAY = "display"  # a wall holding a display token: role viewer, by cookie
CALLERS = (DISPLAY, *policy.ROLES)
CONFIRM_ID = f"{ids.MATURITY_CONFIRM}.n_clicks"


@pytest.fixture(scope="module")
def demo_store():
    """The demo's frames after one poll, shared by the apps below."""
    return polled_demo_app().server.extensions["opscenter"].store


def guarded_app(store, access: AccessStore) -> dash.Dash:
    """The demo config in proxy mode, one group per role, with Dash's page router registered."""
    app = create_app(parse(DEFAULT_CONFIG.read_text() + AUTH), store, access)
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = PROXY
    client.get("/_dash-layout")  # the first request: Dash registers its page router
    return app


def caller(app: dash.Dash, who: str, secret: str):
    """A test client for ``who``: a user in the proxy's group of that role, or the display token's cookie."""
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = PROXY
    if who == DISPLAY:
        client.set_cookie(auth.DISPLAY_COOKIE, secret)
    else:
        client.environ_base.update(HTTP_X_FORWARDED_USER=f"{who}-user", HTTP_X_FORWARDED_GROUPS=f"g-{who}")
    return client


@pytest.fixture(scope="module")
def guarded(demo_store, tmp_path_factory):
    """One app, its access records and a client per caller."""
    access = AccessStore(f"sqlite:///{tmp_path_factory.mktemp('access') / 'history.sqlite3'}")
    access.migrate()
    secret = access.create_token("lobby-wall", ADMIN)
    app = guarded_app(demo_store, access)
    yield app, access, {who: caller(app, who, secret) for who in CALLERS}
    access.close()


def roles_of(who: str) -> frozenset[str]:
    return frozenset({"viewer" if who == DISPLAY else who})


def _sent(dependency: dict):
    """What a browser sends for a registered dependency: itself, or no components for a pattern."""
    return [] if dependency["id"].startswith("{") else {"id": dependency["id"], "property": dependency["property"]}


def request_for(app: dash.Dash, key: str, values: dict | None = None) -> dict:
    """A well-formed request for the registered callback ``key``; ``values`` by ``id.property``."""
    entry, values = app.callback_map[key], values or {}
    outputs = entry["output"]
    sent_outputs = [_sent(o.to_dict()) for o in outputs] if isinstance(outputs, list) else _sent(outputs.to_dict())

    def with_values(dependencies: list[dict]) -> list:
        sent = [_sent(d) for d in dependencies]
        for item in sent:
            if isinstance(item, dict):
                item["value"] = values.get(f"{item['id']}.{item['property']}")
        return sent

    return {
        "output": key,
        "outputs": sent_outputs,
        "inputs": with_values(entry["inputs"]),
        "state": with_values(entry["state"]),
        "changedPropIds": [f"{d['id']}.{d['property']}" for d in entry["inputs"]],
    }


def _props(node, found: dict) -> dict:
    """Every ``id.property`` value in a serialized layout."""
    if isinstance(node, list):
        for child in node:
            _props(child, found)
    elif isinstance(node, dict) and isinstance(node.get("props"), dict):
        props = node["props"]
        for name, value in props.items():
            if isinstance(props.get("id"), str):
                found[f"{props['id']}.{name}"] = value
            _props(value, found)
    return found


@pytest.fixture(scope="module")
def browser_values(guarded, demo_store):
    """What a browser sends: the demo's current versions and every component property of a page of each kind."""
    app, _access, clients = guarded
    trace_id = demo_store.frame("calls")["trace_id"].iloc[0]
    incident_id = demo_store.frame("incidents").sort_values("opened_at")["incident_id"].iloc[-1]
    paths = [page["path"] for page in dash.page_registry.values() if not page["path_template"]]
    paths += ["/chain/equity-trading", "/service/pretrade-risk", f"/trace/{trace_id}", f"/incidents/{incident_id}"]
    values = {}
    for path in paths:
        body = route(
            app,
            [
                {"id": ids.PAGES_LOCATION, "property": "pathname", "value": path},
                {"id": ids.PAGES_LOCATION, "property": "search", "value": ""},
            ],
        )
        _props(clients["admin"].post(CALLBACK, json=body).get_json()["response"][ids.PAGES_CONTENT]["children"], values)
    versions = clients["admin"].post(CALLBACK, json=request_for(app, f"{ids.VERSIONS}.data"))
    return {**values, f"{ids.VERSIONS}.data": versions.get_json()["response"][ids.VERSIONS]["data"]}


def server_callbacks(app: dash.Dash) -> list[str]:
    return [key for key, entry in app.callback_map.items() if "callback" in entry]


def router(app: dash.Dash) -> str:
    return next(key for key in app.callback_map if key.startswith(f"..{ids.PAGES_CONTENT}.children..."))


def route(app: dash.Dash, inputs: list) -> dict:
    return {**request_for(app, router(app)), "inputs": inputs}


def owned(app: dash.Dash, prefix: str) -> list[str]:
    return [key for key in server_callbacks(app) if key.lstrip(".").startswith(prefix)]


def test_every_server_callback_has_a_rule(guarded):
    app, _access, _clients = guarded
    rules = {key: callback_access.rule(app, key) for key in server_callbacks(app)}
    assert [key for key, rule in rules.items() if rule is None] == []
    assert rules[router(app)].pathname_at == 0
    assert rules[f"{ids.VERSIONS}.data"].page is None  # the shell: every role
    for prefix, page in (
        ("oc-maturity-", "/maturity"),
        ("oc-capacity-", "/capacity"),
        ("oc-incident-", "/incidents"),
        ("oc-preplan-", "/incidents"),
        ("oc-declare-", "/incidents"),
        ("oc-audit-", "/audit"),
    ):
        assert owned(app, prefix) and {rules[key].page for key in owned(app, prefix)} == {page}
    writes = sorted((rules[key].action, key) for key in rules if rules[key].action)
    assert writes == sorted(
        [
            ("assessment.write", owned(app, ids.MATURITY_MESSAGE)[0]),
            *((f"incident.{a}", owned(app, ids.INCIDENT_ACT_MESSAGE.format(action=a))[0]) for a in actions.ACTIONS),
            ("incident.preplan_step", owned(app, ids.PREPLAN_MESSAGE)[0]),
            ("incident.grade", owned(app, ids.INCIDENT_GRADE_MESSAGE)[0]),
            ("incident.submit_report", owned(app, ids.INCIDENT_SUBMIT_MESSAGE)[0]),
            ("incident.declare", owned(app, ids.DECLARE_MESSAGE)[0]),
            ("incident.declare", owned(app, ids.DECLARE_ALERT_MESSAGE)[0]),
        ]
    )


@pytest.mark.parametrize("who", CALLERS)
def test_every_callback_answers_each_role_as_its_page_allows(guarded, browser_values, who):
    app, _access, clients = guarded
    outcomes, expected = {}, {}
    for key in server_callbacks(app):
        if key == router(app):
            continue
        page = callback_access.rule(app, key).page
        expected[key] = "refused" if page and not policy.may_read(roles_of(who), page) else "ran"
        status = clients[who].post(CALLBACK, json=request_for(app, key, browser_values)).status_code
        outcomes[key] = {403: "refused", 200: "ran", 204: "ran"}.get(status, status)
    assert outcomes == expected


@pytest.mark.parametrize("who", CALLERS)
def test_the_page_router_serves_each_page_to_its_readers_only(guarded, who):
    app, _access, clients = guarded
    outcomes, expected = {}, {}
    for page in dash.page_registry.values():
        expected[page["path"]] = "ran" if policy.may_read(roles_of(who), page["path"]) else "refused"
        body = route(
            app,
            [
                {"id": ids.PAGES_LOCATION, "property": "pathname", "value": page["path"]},
                {"id": ids.PAGES_LOCATION, "property": "search", "value": ""},
            ],
        )
        status = clients[who].post(CALLBACK, json=body).status_code
        outcomes[page["path"]] = {403: "refused", 200: "ran"}.get(status, status)
    assert "/capacity" in outcomes and "/maturity" in outcomes
    assert outcomes == expected


def test_a_renamed_pathname_does_not_hide_the_page(guarded):
    app, _access, clients = guarded
    renamed = route(
        app,
        [
            {"id": ids.PAGES_LOCATION, "property": "search", "value": "/capacity"},
            {"id": ids.PAGES_LOCATION, "property": "pathname", "value": "/wall"},
        ],
    )
    swapped = route(
        app,
        [
            {"id": ids.PAGES_LOCATION, "property": "pathname", "value": "/capacity"},
            {"id": ids.PAGES_LOCATION, "property": "search", "value": ""},
        ][::-1],
    )
    for body in (renamed, swapped):
        response = clients[DISPLAY].post(CALLBACK, json=body)
        assert response.status_code in (400, 403)
        assert b"capacity" not in response.data.lower()
    assert clients[DISPLAY].get("/capacity").status_code == 403


def test_empty_outputs_neither_hide_the_page_nor_run_the_callback(guarded):
    app, _access, clients = guarded
    key = owned(app, ids.MATURITY_GRID)[0]
    body = {**request_for(app, key), "outputs": [[] for _ in app.callback_map[key]["output"]]}
    assert clients[DISPLAY].post(CALLBACK, json=body).status_code == 403
    assert clients["viewer"].post(CALLBACK, json=body).status_code == 403
    assert clients["manager"].post(CALLBACK, json=body).status_code == 400
    assert clients["manager"].post(CALLBACK, json={**body, "outputs": []}).status_code == 400


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda body: body["inputs"][0].pop("property"), id="input-without-property"),
        pytest.param(lambda body: body["inputs"][0].pop("id"), id="input-without-id"),
        pytest.param(lambda body: body["inputs"].clear(), id="no-inputs"),
        pytest.param(lambda body: body["inputs"].append(body["inputs"][0]), id="an-input-too-many"),
        pytest.param(lambda body: body["inputs"][0].update(property="search"), id="renamed-input"),
        pytest.param(lambda body: body["state"].__setitem__(0, "oc-versions.data"), id="state-not-an-object"),
        pytest.param(
            lambda body: body.update(outputs={"id": "oc-capacity-total", "property": "children"}), id="other-output"
        ),
        pytest.param(lambda body: body.update(outputs=[]), id="outputs-empty"),
        pytest.param(lambda body: body.update(changedPropIds=7), id="changed-not-a-list"),
    ],
)
def test_a_malformed_request_is_a_400_and_never_runs(guarded, change):
    app, _access, clients = guarded
    body = request_for(app, f"{ids.VERSIONS}.data")
    change(body)
    response = clients["admin"].post(CALLBACK, json=body)
    assert response.status_code == 400 and response.get_json() == {"error": "This request is not understood."}


@pytest.mark.parametrize(
    "body",
    [
        {"output": "oc-nope.children", "outputs": {"id": "oc-nope", "property": "children"}, "inputs": []},
        {
            "output": "oc-shell.className",
            "outputs": {"id": "oc-shell", "property": "className"},
            "inputs": [{"id": ids.PAGES_LOCATION, "property": "search", "value": ""}],
        },  # a browser-side callback
        {"output": 5},
        {"inputs": []},
        [1],
        "oc-versions.data",
    ],
    ids=["unknown-output", "clientside-output", "output-not-text", "no-output", "a-list", "a-string"],
)
@pytest.mark.parametrize("who", ["viewer", "admin"])
def test_a_request_naming_no_registered_callback_is_refused(guarded, body, who):
    _app, _access, clients = guarded
    assert clients[who].post(CALLBACK, data=json.dumps(body), content_type="application/json").status_code == 400


@pytest.mark.parametrize("who, actor", [(DISPLAY, "display:lobby-wall"), ("viewer", "viewer-user")])
def test_a_refused_write_is_audited_at_the_gate(demo_store, database_url, who, actor):
    access = AccessStore(database_url)
    access.migrate()
    try:
        secret = access.create_token("lobby-wall", ADMIN)
        app = guarded_app(demo_store, access)
        key = owned(app, ids.MATURITY_MESSAGE)[0]
        body = request_for(
            app,
            key,
            {
                CONFIRM_ID: 1,
                f"{ids.MATURITY_GRID}.selectedRows": [{"id": "D1.1"}],
                f"{ids.MATURITY_NEW_STATUS}.value": "met",
                f"{ids.MATURITY_JUSTIFICATION}.value": "looks fine",
            },
        )
        response = caller(app, who, secret).post(CALLBACK, json=body)
        assert response.status_code == 403
        row = access.audit_trail()[0]
        assert (row["actor"], row["roles"], row["address"], row["action"], row["target"], row["allowed"]) == (
            actor,
            "viewer",
            PROXY,
            "assessment.write",
            "D1.1",
            False,
        )
        assert json.loads(row["detail"]) == {"callback": key}

        malformed_target = caller(app, who, secret).post(CALLBACK, json={**body, "state": []})
        assert malformed_target.status_code == 403
        assert access.audit_trail()[0]["target"] == callback_access.UNKNOWN_TARGET
        assert len(access.audit_trail()) == 3  # the token, then both refusals
    finally:
        access.close()


def test_a_permitted_reader_without_the_write_is_refused_and_audited_by_the_write(guarded):
    app, access, clients = guarded
    key = owned(app, ids.MATURITY_MESSAGE)[0]
    body = request_for(
        app,
        key,
        {
            CONFIRM_ID: 1,
            f"{ids.MATURITY_GRID}.selectedRows": [{"id": "D1.1", "proposed": "met"}],
            f"{ids.MATURITY_NEW_STATUS}.value": "met",
            f"{ids.MATURITY_JUSTIFICATION}.value": "looks fine",
        },
    )
    response = clients["auditor"].post(CALLBACK, json=body)
    assert response.status_code == 200 and "You may not change assessments." in response.get_data(as_text=True)
    row = access.audit_trail()[0]
    assert (row["actor"], row["action"], row["target"], row["allowed"]) == (
        "auditor-user",
        "assessment.write",
        "D1.1",
        False,
    )


def test_an_incident_action_is_refused_to_a_viewer_with_403_and_recorded_for_a_manager(guarded, demo_store):
    app, access, clients = guarded
    incident = demo_store.frame("incidents").sort_values("opened_at").iloc[-1]
    key = owned(app, ids.INCIDENT_ACT_MESSAGE.format(action="note"))[0]
    body = request_for(
        app,
        key,
        {
            f"{ids.INCIDENT_ACT.format(action='note')}.n_clicks": 1,
            "oc-incident-page.data": {"lang": "en", "incident_id": incident["incident_id"]},
            f"{ids.INCIDENT_NOTE}.value": "Failover under way.",
            f"{ids.INCIDENT_PUBLIC}.value": ["public"],
        },
    )
    assert clients["viewer"].post(CALLBACK, json=body).status_code == 403
    refused = access.audit_trail()[0]
    assert (refused["actor"], refused["action"], refused["target"], refused["allowed"]) == (
        "viewer-user",
        "incident.note",
        incident["incident_id"],
        False,
    )
    assert actions.for_incident(access.engine, incident["source"], incident["incident_id"]).empty

    answer = clients["manager"].post(CALLBACK, json=body)
    assert answer.status_code == 200 and "Recorded: status update: Failover under way." in answer.get_data(as_text=True)
    allowed = access.audit_trail()[0]
    assert (allowed["actor"], allowed["action"], allowed["allowed"]) == ("manager-user", "incident.note", True)
    taken = actions.for_incident(access.engine, incident["source"], incident["incident_id"])
    assert taken[["action", "actor", "writeback"]].values.tolist() == [["note", "manager-user", "pending"]]
    assert taken["detail"].iloc[0] == {"text": "Failover under way.", "public": True}
