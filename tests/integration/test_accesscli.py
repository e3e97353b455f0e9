"""opscenter token create|list|revoke and user add, on a SQLite history database."""

import io

import pytest

from dashboard.cli import main
from dashboard.security.access import AccessStore


@pytest.fixture
def database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    monkeypatch.setenv("OPSCENTER_DATABASE_URL", url)
    monkeypatch.delenv("OPSCENTER_CONFIG", raising=False)
    access = AccessStore(url)
    yield access
    access.close()


def test_token_create_list_revoke(database, capsys):
    assert main(["token", "create", "--name", "lobby-wall"]) == 0
    out = capsys.readouterr().out
    secret = out.splitlines()[1]
    assert database.display_token(secret) == "lobby-wall" and f"token={secret}" in out

    assert main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    assert "lobby-wall" in listing and "active" in listing and secret not in listing

    assert main(["token", "create", "--name", "lobby-wall"]) == 1
    assert "exists" in capsys.readouterr().err
    assert main(["token", "revoke", "lobby-wall"]) == 0
    assert database.display_token(secret) is None
    assert main(["token", "revoke", "lobby-wall"]) == 1
    assert "no active display token" in capsys.readouterr().err
    assert main(["token", "list"]) == 0 and "revoked" in capsys.readouterr().out
    assert [(r["action"], r["actor"].startswith("cli:")) for r in database.audit_trail()] == [
        ("token.revoke", True),
        ("token.create", True),
    ]


def test_user_add_reads_the_password_from_stdin(database, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery staple\n"))
    assert main(["user", "add", "alice", "--role", "auditor"]) == 0
    assert database.authenticate("alice", "correct horse battery staple") == "auditor"
    assert "correct horse" not in capsys.readouterr().out

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "bob", "--role", "viewer"]) == 1
    assert "at least 12" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["user", "add", "carol", "--role", "root"])
    assert database.user_role("bob") is None


def test_user_revoke_ends_every_session_of_the_user(database, capsys, monkeypatch):
    from datetime import timedelta

    from dashboard.security.sessions import Sessions

    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery staple\n"))
    assert main(["user", "add", "alice", "--role", "viewer"]) == 0
    sessions = Sessions(database, idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
    desk, laptop = sessions.start("alice", None), sessions.start("alice", None)
    capsys.readouterr()
    assert main(["user", "revoke", "alice"]) == 0
    assert "ended 2 sessions of 'alice'" in capsys.readouterr().out
    assert sessions.user(desk) is None and sessions.user(laptop) is None
    assert database.audit_trail()[0]["action"] == "user.revoke"
    assert main(["user", "revoke", "mallory"]) == 1
    assert "no user named 'mallory'" in capsys.readouterr().err


def test_a_disabled_user_can_neither_sign_in_nor_stay_in_until_enabled(database, capsys, monkeypatch):
    from datetime import timedelta

    from dashboard.security.sessions import Sessions

    password = "correct horse battery staple"
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    assert main(["user", "add", "alice", "--role", "manager"]) == 0
    sessions = Sessions(database, idle=timedelta(minutes=30), lifetime=timedelta(hours=12))
    desk = sessions.start("alice", None)
    capsys.readouterr()

    assert main(["user", "disable", "alice"]) == 0
    assert "disabled 'alice' and ended 1 sessions" in capsys.readouterr().out
    assert sessions.user(desk) is None
    assert database.authenticate("alice", password) is None and database.user_role("alice") is None
    late = sessions.start("alice", None)  # a session row written by a login that raced the disable
    assert sessions.user(late) is None
    assert main(["user", "list"]) == 0
    assert capsys.readouterr().out.startswith("alice\tmanager\tdisabled ")

    assert main(["user", "enable", "alice"]) == 0
    assert database.authenticate("alice", password) == "manager"
    assert sessions.user(late).role == "manager"
    assert main(["user", "list"]) == 0 and "alice\tmanager\tenabled" in capsys.readouterr().out
    assert [r["action"] for r in database.audit_trail(2)] == ["user.enable", "user.disable"]
    assert main(["user", "disable", "mallory"]) == 1
    assert "no user named 'mallory'" in capsys.readouterr().err
