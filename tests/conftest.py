"""Shared fixtures: real services on loopback, with the CI rule for missing ones.

Under CI=true a test whose service is missing fails; elsewhere it is skipped
with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid

import pytest

# The suite's own data folder, set before anything imports dashboard: the default history database is a
# file of this run, migrated once, never the user's.
DATA_HOME = os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="opscenter-tests-")


def pytest_sessionstart(session):
    from dashboard.db.history import History, default_url

    history = History(default_url())
    history.migrate()
    history.close()


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(DATA_HOME, ignore_errors=True)


REDIS_URL = os.environ.get("OPSCENTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
POSTGRES_URL = os.environ.get("OPSCENTER_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def need(service: str, reason: str) -> None:
    """Fail under CI, skip elsewhere: ``service`` is not available."""
    message = f"{service} is not available: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url():
    """The real Redis at 127.0.0.1:6379; keys the test wrote under its deployment are removed after."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        need("Redis", str(exc))
    yield REDIS_URL
    client.close()


@pytest.fixture
def deployment(redis_url):
    """A unique deployment name, so tests never see each other's keys; cleaned after."""
    import redis

    name = f"test-{uuid.uuid4().hex[:10]}"
    yield name
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"opscenter:{name}:*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def postgres_url():
    """A fresh database on the real PostgreSQL at 127.0.0.1:5432, dropped after the test."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"opscenter_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        need("PostgreSQL", str(exc).splitlines()[0])
    yield admin.url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """A fresh history database of each dialect: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def history(database_url):
    """A migrated History on a fresh database of each dialect."""
    from dashboard.db.history import History

    store = History(database_url)
    store.migrate()
    yield store
    store.close()
