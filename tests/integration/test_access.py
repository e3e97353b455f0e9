"""Access records on SQLite and the real PostgreSQL: tokens, users, and an audit log that only grows."""

import secrets

import pytest
import sqlalchemy as sa

from dashboard.db.tables import audit_log, display_tokens
from dashboard.security.access import AccessStore, Forbidden, Identity, token_sha256

ADMIN = Identity("cli:ops", frozenset({"admin"}), "cli")
VIEWER = Identity("vera", frozenset({"viewer"}), "user", "10.0.0.7")
MANAGER = Identity("max", frozenset({"manager"}), "proxy", "10.0.0.8")


@pytest.fixture
def access(database_url):
    """A migrated AccessStore on a fresh database of each dialect."""
    store = AccessStore(database_url)
    store.migrate()
    yield store
    store.close()


def test_token_create_verify_revoke(access):
    secret = access.create_token("lobby-wall", ADMIN)
    assert len(secret) >= 43
    assert access.display_token(secret) == "lobby-wall"
    assert access.display_token(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    with access.engine.connect() as connection:
        stored = connection.execute(sa.select(display_tokens.c.token_sha256)).scalar()
    assert stored == token_sha256(secret) and secret not in stored

    with pytest.raises(ValueError, match="exists"):
        access.create_token("lobby-wall", ADMIN)
    access.revoke_token("lobby-wall", ADMIN)
    assert access.display_token(secret) is None
    with pytest.raises(LookupError):
        access.revoke_token("lobby-wall", ADMIN)

    again = access.create_token("lobby-wall", ADMIN)
    assert access.display_token(again) == "lobby-wall" and access.display_token(secret) is None
    listed = access.tokens()
    assert [t["name"] for t in listed] == ["lobby-wall", "lobby-wall"]
    assert listed[0]["revoked_by"] == "cli:ops" and listed[1]["revoked_at"] is None
    assert all(secret not in str(row) and again not in str(row) for row in listed)


@pytest.mark.parametrize("secret", ["", "short", "x" * 65, "' OR 1=1 --" + "a" * 30, None])
def test_malformed_tokens_are_refused_without_a_query(access, secret):
    assert access.display_token(secret) is None


def test_users_authenticate_with_their_password(access):
    access.add_user("alice", "manager", "correct horse battery staple", ADMIN)
    assert access.authenticate("alice", "correct horse battery staple") == "manager"
    assert access.authenticate("alice", "correct horse battery stapler") is None
    assert access.authenticate("mallory", "correct horse battery staple") is None
    assert access.user_role("alice") == "manager" and access.user_role("mallory") is None
    with pytest.raises(ValueError, match="exists"):
        access.add_user("alice", "admin", "another long password", ADMIN)
    with pytest.raises(ValueError, match="role"):
        access.add_user("bob", "root", "another long password", ADMIN)


def test_every_write_is_audited_and_checked(access):
    secret = access.create_token("lobby-wall", ADMIN)
    access.audit(MANAGER, "incident.acknowledge", "INC0001", {"note": "on it"})
    with pytest.raises(Forbidden):
        access.audit(VIEWER, "incident.acknowledge", "INC0002")
    with pytest.raises(Forbidden):
        access.create_token("sneaky", VIEWER)
    with access.audited(MANAGER, "assessment.write", "item-1") as connection:
        connection.execute(sa.text("SELECT 1"))

    trail = access.audit_trail()
    assert [(r["actor"], r["action"], r["target"], r["allowed"]) for r in reversed(trail)] == [
        ("cli:ops", "token.create", "lobby-wall", True),
        ("max", "incident.acknowledge", "INC0001", True),
        ("vera", "incident.acknowledge", "INC0002", False),
        ("vera", "token.create", "sneaky", False),
        ("max", "assessment.write", "item-1", True),
    ]
    assert trail[3]["detail"] == '{"note": "on it"}' and trail[2]["address"] == "10.0.0.7"
    assert all(secret not in str(row) for row in trail)
    assert [t["name"] for t in access.tokens()] == ["lobby-wall"]


def test_a_failed_write_leaves_neither_row_nor_audit(access):
    access.add_user("alice", "viewer", "correct horse battery staple", ADMIN)
    with pytest.raises(ValueError):
        access.add_user("alice", "admin", "correct horse battery staple", ADMIN)
    assert [r["action"] for r in access.audit_trail()] == ["user.add"]
    assert access.user_role("alice") == "viewer"


@pytest.mark.parametrize(
    "statement",
    [
        sa.update(audit_log).values(allowed=True),
        sa.delete(audit_log),
    ],
)
def test_the_database_refuses_to_change_the_audit_log(access, statement):
    with pytest.raises(Forbidden):
        access.audit(VIEWER, "settings.write", "display_tz")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with access.engine.begin() as connection:
            connection.execute(statement)
    assert [r["allowed"] for r in access.audit_trail()] == [False]


@pytest.mark.postgres
def test_postgresql_refuses_truncating_the_audit_log(postgres_url):
    access = AccessStore(postgres_url)
    access.migrate()
    try:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            with access.engine.begin() as connection:
                connection.execute(sa.text("TRUNCATE audit_log"))
    finally:
        access.close()


def test_migration_0002_downgrades_cleanly(access):
    from alembic import command
    from alembic.config import Config

    from dashboard.db.history import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with access.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert not {"audit_log", "users", "display_tokens"} & set(sa.inspect(access.engine).get_table_names())
    access.migrate()
    access.audit(ADMIN, "settings.write", "display_tz")
    assert len(access.audit_trail()) == 1


def test_recent_answers_stand_in_while_the_database_is_unreachable(access, tmp_path, monkeypatch):
    secret = access.create_token("lobby-wall", ADMIN)
    access.add_user("alice", "viewer", "correct horse battery staple", ADMIN)
    assert access.display_token(secret) == "lobby-wall" and access.user_role("alice") == "viewer"
    unreachable = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'history.sqlite3'}")
    monkeypatch.setattr(AccessStore, "engine", property(lambda self: unreachable))
    assert access.display_token(secret) == "lobby-wall" and access.user_role("alice") == "viewer"
    with pytest.raises(sa.exc.OperationalError):
        access.display_token(secrets.token_urlsafe(32))  # never seen: no answer to fall back on
    monkeypatch.setattr("dashboard.security.access.OUTAGE_GRACE_S", 0.0)
    with pytest.raises(sa.exc.OperationalError):
        access.display_token(secret)
