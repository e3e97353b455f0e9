"""Server-side sessions on SQLite and the real PostgreSQL: start, end, revoke, expire, migrate."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from dashboard.db.tables import user_sessions
from dashboard.security.access import AccessStore, Forbidden, Identity
from dashboard.security.sessions import Sessions, revoke_user

ADMIN = Identity("cli:ops", frozenset({"admin"}), "cli")
VIEWER = Identity("vera", frozenset({"viewer"}), "user", "10.0.0.7")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def access(database_url):
    store = AccessStore(database_url)
    store.migrate()
    store.add_user("alice", "manager", PASSWORD, ADMIN)
    store.add_user("bob", "viewer", PASSWORD, ADMIN)
    yield store
    store.close()


@pytest.fixture
def sessions(access):
    return Sessions(access, idle=timedelta(minutes=30), lifetime=timedelta(hours=12))


def test_a_session_is_stored_hashed_and_reads_the_role_now(sessions, access):
    secret = sessions.start("alice", "10.0.0.1")
    assert sessions.user(secret) == ("alice", "manager")
    with access.engine.connect() as connection:
        stored = connection.execute(sa.select(user_sessions)).one()._mapping
    assert secret not in str(dict(stored)) and stored["user_name"] == "alice" and stored["address"] == "10.0.0.1"
    assert sessions.user(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    assert sessions.user("") is None and sessions.user("x" * 500) is None


def test_ending_one_session_leaves_the_others(sessions):
    desk, laptop = sessions.start("alice", None), sessions.start("alice", None)
    sessions.end(desk)
    assert sessions.user(desk) is None and sessions.user(laptop) == ("alice", "manager")


def test_revoking_a_user_ends_all_their_sessions_and_is_audited(sessions, access):
    desk, laptop, other = sessions.start("alice", None), sessions.start("alice", None), sessions.start("bob", None)
    assert revoke_user(access, "alice", ADMIN) == 2
    assert sessions.user(desk) is None and sessions.user(laptop) is None and sessions.user(other) == ("bob", "viewer")
    with pytest.raises(Forbidden):
        revoke_user(access, "bob", VIEWER)
    with pytest.raises(LookupError):
        revoke_user(access, "mallory", ADMIN)
    assert [(r["actor"], r["action"], r["target"], r["allowed"]) for r in access.audit_trail()[:2]] == [
        ("vera", "user.revoke", "bob", False),
        ("cli:ops", "user.revoke", "alice", True),
    ]
    assert sessions.user(other) == ("bob", "viewer")


def test_a_new_login_removes_expired_sessions(sessions, access):
    old = sessions.start("alice", None)
    impatient = Sessions(access, idle=timedelta(0), lifetime=timedelta(hours=12))  # every older one is idle
    impatient.start("bob", None)
    assert sessions.user(old) is None
    with access.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(user_sessions)).scalar() == 1


def test_migration_0004_downgrades_cleanly(access):
    from alembic import command
    from alembic.config import Config

    from dashboard.db.history import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with access.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    assert "user_sessions" not in sa.inspect(access.engine).get_table_names()
    access.migrate()
    assert "user_sessions" in sa.inspect(access.engine).get_table_names()
