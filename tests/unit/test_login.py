"""The built-in login against guessing, replayed forms and copied cookies: throttling, bounded
hashing, single-use form tokens, server-side sessions with idle and absolute lifetimes, logout."""

import re
import secrets
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask.sessions import SecureCookieSessionInterface

from dashboard.app import create_app
from dashboard.core.settings import parse
from dashboard.core.store import open_store
from dashboard.db.tables import user_sessions
from dashboard.security import auth, passwords
from dashboard.security.access import AccessStore, Identity

ADMIN = Identity("cli:test", frozenset({"admin"}), "cli")
PASSWORD = "correct horse battery staple"
BUILTIN = (
    "sources:\n  - {kind: demo, name: demo}\n"
    "auth:\n  mode: builtin\n  secret_key: ${OC_TEST_SECRET_KEY}\n  cookie_secure: false\n"
)
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def access(tmp_path):
    store = AccessStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    store.migrate()
    store.add_user("alice", "manager", PASSWORD, ADMIN)
    yield store
    store.close()


@pytest.fixture
def make_client(access, monkeypatch):
    """A test client from ``remote_addr`` on a builtin-mode app (``extra`` appended to its auth keys)."""
    monkeypatch.setenv("OC_TEST_SECRET_KEY", secrets.token_urlsafe(32))
    apps = {}

    def build(remote_addr: str = "127.0.0.1", extra: str = "", app_key: str = "one"):
        if app_key not in apps:
            settings = parse(BUILTIN + extra)
            apps[app_key] = create_app(settings, open_store(None, "default", settings.source_names), access)
        client = apps[app_key].server.test_client()
        client.environ_base["REMOTE_ADDR"] = remote_addr
        return client

    return build


def form_token(client, path="/login") -> str:
    return CSRF_FIELD.search(client.get(path).get_data(as_text=True)).group(1)


def attempt(client, user="alice", password=PASSWORD, token=None):
    token = token or form_token(client)
    return client.post("/login", data={"user": user, "password": password, "csrf": token, "next": "/capacity"})


def test_a_user_is_locked_out_after_repeated_failures_with_retry_after(make_client):
    client = make_client()
    unknown = attempt(make_client("10.0.0.9"), user="mallory", password="wrong password!")
    wrong = attempt(client, password="wrong password!")
    assert unknown.status_code == wrong.status_code == 401  # one message: nothing tells which names exist
    assert CSRF_FIELD.sub("", unknown.get_data(as_text=True)) == CSRF_FIELD.sub("", wrong.get_data(as_text=True))
    for _ in range(4):
        assert attempt(client, password="wrong password!").status_code == 401
    locked = attempt(client)  # even the right password waits out the lockout
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 60
    assert "Too many sign-in attempts" in locked.get_data(as_text=True)
    assert client.get("/capacity").status_code == 302
    assert attempt(make_client("10.0.0.8")).status_code == 429  # per user, from any address
    assert attempt(make_client("10.0.0.7"), user="mallory", password="wrong password!").status_code == 401


def test_one_address_cannot_spray_guesses_over_many_users(make_client):
    client = make_client("10.0.0.5")
    for i in range(20):
        assert attempt(client, user=f"user{i}", password="wrong password!").status_code == 401
    refused = attempt(client, user="user99", password="wrong password!")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert attempt(make_client("10.0.0.6")).status_code == 302  # another address is not affected


def test_password_hashes_are_bounded_and_the_excess_is_answered_at_once(make_client):
    client = make_client()
    token = form_token(client)
    taken = [passwords.HASH_SLOTS.acquire(blocking=False) for _ in range(passwords.MAX_CONCURRENT_HASHES)]
    try:
        assert all(taken)
        busy = attempt(client, token=token)
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
    finally:
        for _ in taken:
            passwords.HASH_SLOTS.release()
    assert attempt(client).status_code == 302


def test_each_login_form_token_works_once(make_client):
    client = make_client()
    token = form_token(client)
    assert attempt(client, password="wrong password!", token=token).status_code == 401
    replayed = attempt(client, token=token)
    assert replayed.status_code == 400 and client.get("/capacity").status_code == 302
    first, second = form_token(client), form_token(client)  # two tabs: each form its own token
    assert first != second
    assert attempt(client, token=second).status_code == 302


def test_a_form_token_is_bound_to_the_browser_it_was_issued_to(make_client):
    token = form_token(make_client())
    assert attempt(make_client("127.0.0.2"), token=token).status_code == 400


def test_logout_is_a_post_with_its_form_token(make_client):
    client = make_client()
    assert attempt(client).status_code == 302
    page = client.get("/logout")
    assert page.status_code == 200 and 'method="post" action="/logout"' in page.get_data(as_text=True)
    assert client.get("/capacity").status_code == 200  # a GET does not sign out
    assert client.post("/logout", data={"csrf": "forged"}).status_code == 400
    assert client.get("/capacity").status_code == 200
    response = client.post("/logout", data={"csrf": form_token(client, "/logout")})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/capacity").status_code == 302


def test_logout_survives_a_page_request_that_answers_after_the_logout_form(make_client):
    """A page's request in flight when the logout form loads answers with the cookie it was sent;
    the form's token must still match that cookie, or sign-out fails with an expired form."""
    client = make_client()
    attempt(client)
    before_form = client.get_cookie(auth.SESSION_COOKIE).value
    token = form_token(client, "/logout")
    client.set_cookie(auth.SESSION_COOKIE, before_form)  # the late answer's Set-Cookie wins
    response = client.post("/logout", data={"csrf": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/capacity").status_code == 302


def test_a_cookie_copied_before_logout_is_dead_after_it(make_client):
    client = make_client()
    attempt(client)
    copied = client.get_cookie(auth.SESSION_COOKIE).value
    client.post("/logout", data={"csrf": form_token(client, "/logout")})
    thief = make_client("10.0.0.66")
    thief.set_cookie(auth.SESSION_COOKIE, copied)
    assert thief.get("/capacity").status_code == 302


def _age_sessions(access, **columns_back):
    with access.engine.begin() as connection:
        for column, back in columns_back.items():
            connection.execute(sa.update(user_sessions).values({column: datetime.now(UTC) - back}))


def test_an_idle_session_ends(make_client, access):
    client = make_client(extra="  session_idle_minutes: 20\n")
    attempt(client)
    _age_sessions(access, last_seen_at=timedelta(minutes=19))
    assert client.get("/capacity").status_code == 200  # and the visit counts as activity
    _age_sessions(access, last_seen_at=timedelta(minutes=21))
    assert client.get("/capacity").status_code == 302


def test_an_active_session_still_ends_at_its_absolute_lifetime(make_client, access):
    client = make_client(extra="  session_hours: 8\n")
    attempt(client)
    _age_sessions(access, created_at=timedelta(hours=7, minutes=59))
    assert client.get("/capacity").status_code == 200
    _age_sessions(access, created_at=timedelta(hours=8, minutes=1))
    assert client.get("/capacity").status_code == 302
    with access.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(user_sessions)).scalar() == 0


def test_the_session_cookie_holds_no_user_name_and_a_new_login_gets_a_new_session(make_client, access):
    client = make_client()
    attempt(client)
    before = client.get_cookie(auth.SESSION_COOKIE).value
    content = SecureCookieSessionInterface().get_signing_serializer(client.application).loads(before)
    assert set(content) <= {"sid", "browser", "_permanent"} and "alice" not in str(content)
    attempt(client)
    after = client.get_cookie(auth.SESSION_COOKIE).value
    assert before != after
    thief = make_client("10.0.0.66")
    thief.set_cookie(auth.SESSION_COOKIE, before)
    assert thief.get("/capacity").status_code == 302  # the old session ended with the new login


def test_without_its_redis_sign_in_is_refused_not_unthrottled(make_client, monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setenv("OPSCENTER_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    client = make_client(app_key="no-redis")
    refused = attempt(client)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    assert client.get("/capacity").status_code == 302
