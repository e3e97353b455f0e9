"""Server-side sessions of built-in users, in the history database's ``user_sessions`` table.

The session cookie carries only a random session id; the table holds its SHA-256 with the user,
when it started and when it was last used. A request counts only while its row exists, has been
used within ``idle`` and is younger than ``lifetime``, so logout, a new login and an admin's
``revoke_user`` end a session for every copy of its cookie. The table sits beside the users it joins
(one query per request gives the user and their current role), works in every deployment
(SQLite embedded, PostgreSQL in production), and a revocation is written in the same transaction
as its audit row.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from dashboard.db.tables import user_sessions, users
from dashboard.security.access import AccessStore, Identity, token_sha256

TOUCH_EVERY = timedelta(minutes=1)
MAX_SECRET = 64
log = logging.getLogger("opscenter.auth")


class SessionUser(NamedTuple):
    name: str
    role: str


class Sessions:
    """Start, check and end the sessions kept in ``access``'s database."""

    def __init__(self, access: AccessStore, idle: timedelta, lifetime: timedelta):
        self.access, self.idle, self.lifetime = access, idle, lifetime

    def _expired(self, now: datetime) -> sa.ColumnElement[bool]:
        return sa.or_(
            user_sessions.c.created_at <= now - self.lifetime, user_sessions.c.last_seen_at <= now - self.idle
        )

    def start(self, user: str, address: str | None) -> str:
        """Open a session for ``user`` and return its secret id (removing expired sessions first)."""
        secret, now = secrets.token_urlsafe(32), datetime.now(UTC)
        with self.access.engine.begin() as connection:
            connection.execute(sa.delete(user_sessions).where(self._expired(now)))
            connection.execute(
                sa.insert(user_sessions),
                {
                    "id_sha256": token_sha256(secret),
                    "user_name": user,
                    "created_at": now,
                    "last_seen_at": now,
                    "address": address,
                },
            )
        return secret

    def user(self, secret: str) -> SessionUser | None:
        """The user and current role of the live session ``secret``, else None; a use counts as
        activity (recorded at most every TOUCH_EVERY), an expired session is removed."""
        if not secret or len(secret) > MAX_SECRET or not secret.isascii():
            return None
        digest, now = token_sha256(secret), datetime.now(UTC)
        query = (
            sa.select(users.c.name, users.c.role, user_sessions.c.created_at, user_sessions.c.last_seen_at)
            .join(users, users.c.name == user_sessions.c.user_name)
            .where(user_sessions.c.id_sha256 == digest, users.c.disabled_at.is_(None))
        )
        row = self.access.lookup(f"session:{digest}", query)
        if row is None:
            return None
        this = user_sessions.c.id_sha256 == digest
        if row.created_at <= now - self.lifetime or row.last_seen_at <= now - self.idle:
            self._write(sa.delete(user_sessions).where(this))
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            self._write(sa.update(user_sessions).where(this).values(last_seen_at=now))
        return SessionUser(row.name, row.role)

    def _write(self, statement: sa.Executable) -> None:
        """Run ``statement``; while the database is unreachable (the check used its last good
        answer), skip it: the session's use simply goes unrecorded."""
        try:
            with self.access.engine.begin() as connection:
                connection.execute(statement)
        except (sa.exc.OperationalError, sa.exc.InterfaceError):
            log.warning("history database unreachable; a session's use is not recorded")

    def end(self, secret: str) -> None:
        """End the session ``secret`` (logout, or a new login in the same browser)."""
        with self.access.engine.begin() as connection:
            connection.execute(sa.delete(user_sessions).where(user_sessions.c.id_sha256 == token_sha256(secret)))


def _end_sessions(connection: sa.Connection, name: str) -> int:
    """End every session of the user ``name``; LookupError when there is no such user."""
    if not connection.execute(sa.select(users.c.name).where(users.c.name == name)).first():
        raise LookupError(f"no user named {name!r}")
    return connection.execute(sa.delete(user_sessions).where(user_sessions.c.user_name == name)).rowcount


def revoke_user(access: AccessStore, name: str, actor: Identity) -> int:
    """End every session of the user ``name`` (audited as ``user.revoke``); return how many ended."""
    with access.audited(actor, "user.revoke", name) as connection:
        return _end_sessions(connection, name)


def set_user_enabled(access: AccessStore, name: str, enabled: bool, actor: Identity) -> int:
    """Enable or disable the user ``name`` (audited as ``user.enable`` or ``user.disable``); disabling also ends
    their sessions. Return how many sessions ended."""
    with access.audited(actor, "user.enable" if enabled else "user.disable", name) as connection:
        ended = _end_sessions(connection, name) if not enabled else 0
        disabled_at = None if enabled else datetime.now(UTC)
        if not connection.execute(
            sa.update(users).where(users.c.name == name).values(disabled_at=disabled_at)
        ).rowcount:
            raise LookupError(f"no user named {name!r}")
        return ended
