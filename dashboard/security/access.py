"""Access records in the history database: display tokens, built-in users and the audit trail.

Every write here checks the actor's roles against ``dashboard.security.policy`` and appends an
audit row in the same transaction; a refused write is audited too, then raises Forbidden.
The audit log has no update or delete API (and the database refuses both, see migration 0002).
Token and user checks run on every request, so a revocation counts from the next one; only
while the database is unreachable does a recent good answer stand in (OUTAGE_GRACE_S).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from dashboard.db.history import History
from dashboard.db.tables import audit_log, display_tokens, users
from dashboard.security import policy
from dashboard.security.passwords import hash_password, verify_password

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
OUTAGE_GRACE_S = 3600.0
log = logging.getLogger("opscenter.access")


class Forbidden(PermissionError):
    """The actor's roles do not allow this write; the attempt is in the audit log."""


@dataclass(frozen=True)
class Identity:
    """Who is asking: a name for the audit log, the roles the policy checks, how they were recognised."""

    name: str
    roles: frozenset[str]
    kind: str
    address: str | None = None


def token_sha256(secret: str) -> str:
    """The stored form of a display token (tokens are random, so a plain digest suffices)."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _check_name(name: str, what: str) -> str:
    if not NAME_PATTERN.match(name):
        raise ValueError(f"{what} {name[:70]!r} must be 1-64 letters, digits, '_', '.', '@' or '-'")
    return name


def _audit_row(actor: Identity, action: str, target: str, allowed: bool, detail: dict[str, Any] | None) -> dict:
    return {
        "at": datetime.now(UTC),
        "actor": actor.name,
        "roles": ",".join(sorted(actor.roles)),
        "address": actor.address,
        "action": action,
        "target": target,
        "allowed": allowed,
        "detail": json.dumps(detail, sort_keys=True, default=str) if detail else None,
    }


SYSTEM = Identity("opscenter", frozenset({"system"}), "system")  # the actor of what opscenter does by itself


def audit_system(connection: sa.Connection, action: str, target: str, detail: dict[str, Any]) -> None:
    """Append the audit row of a write opscenter performs by itself (a notification it sent) on ``connection``."""
    connection.execute(sa.insert(audit_log), _audit_row(SYSTEM, action, target, True, detail))


class AccessStore:
    """Display tokens, users and the audit log, in the history database at ``url``.

    The database is opened on first use, so an app that never checks a token or writes
    never touches it.
    """

    def __init__(self, url: str | None = None):
        self._url = url
        self._history: History | None = None
        self._lock = threading.Lock()
        self._last_good: dict[str, tuple[Any, float]] = {}

    def _open(self) -> History:
        with self._lock:
            if self._history is None:
                self._history = History(self._url)
            return self._history

    @property
    def engine(self) -> sa.Engine:
        return self._open().engine

    def migrate(self) -> None:
        """Bring the history schema (which holds these tables) up to date."""
        self._open().migrate()

    def close(self) -> None:
        with self._lock:
            if self._history is not None:
                self._history.close()
                self._history = None

    def refused(self, actor: Identity, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        """Record that ``actor`` was refused ``action`` (by the policy here, or by the request check)."""
        with self.engine.begin() as connection:
            connection.execute(sa.insert(audit_log), _audit_row(actor, action, target, False, detail))

    @contextmanager
    def audited(
        self, actor: Identity, action: str, target: str, detail: dict[str, Any] | None = None
    ) -> Iterator[sa.Connection]:
        """Check that ``actor`` may perform ``action`` and yield a connection whose transaction
        holds the audit row; a refusal is recorded and raises Forbidden before anything is written."""
        if not policy.may_write(actor.roles, action):
            self.refused(actor, action, target, detail)
            raise Forbidden(f"{actor.name} may not {action} {target}")
        with self.engine.begin() as connection:
            connection.execute(sa.insert(audit_log), _audit_row(actor, action, target, True, detail))
            yield connection

    def audit(self, actor: Identity, action: str, target: str, detail: dict[str, Any] | None = None) -> None:
        """Check and record a write performed elsewhere (a source's API, another table)."""
        with self.audited(actor, action, target, detail):
            pass

    def audit_trail(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest ``limit`` audit rows, newest first."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def create_token(self, name: str, actor: Identity) -> str:
        """Create the display token ``name`` and return its secret (shown once, stored hashed)."""
        _check_name(name, "token name")
        secret = secrets.token_urlsafe(32)
        with self.audited(actor, "token.create", name) as connection:
            active = connection.execute(
                sa.select(display_tokens.c.id).where(
                    display_tokens.c.name == name, display_tokens.c.revoked_at.is_(None)
                )
            ).first()
            if active:
                raise ValueError(f"display token {name!r} exists; revoke it first")
            connection.execute(
                sa.insert(display_tokens),
                {
                    "name": name,
                    "token_sha256": token_sha256(secret),
                    "created_at": datetime.now(UTC),
                    "created_by": actor.name,
                },
            )
        return secret

    def revoke_token(self, name: str, actor: Identity) -> None:
        """Revoke the active display token ``name``; raise LookupError when there is none."""
        with self.audited(actor, "token.revoke", name) as connection:
            revoked = connection.execute(
                sa.update(display_tokens)
                .where(display_tokens.c.name == name, display_tokens.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC), revoked_by=actor.name)
            ).rowcount
            if not revoked:
                raise LookupError(f"no active display token named {name!r}")

    def lookup(self, key: str, query: sa.Select) -> sa.Row | None:
        """The first row of ``query``; while the database is unreachable, the last good answer
        for ``key`` if it is under OUTAGE_GRACE_S old, so walls and signed-in users outlive an outage."""
        try:
            with self.engine.connect() as connection:
                value = connection.execute(query).first()
        except (sa.exc.OperationalError, sa.exc.InterfaceError):
            value, at = self._last_good.get(key, (None, 0.0))
            if value is None or time.monotonic() - at > OUTAGE_GRACE_S:
                raise
            log.warning("history database unreachable; using the last check of %s", key.split(":", 1)[0])
            return value
        if value is None:
            self._last_good.pop(key, None)
        else:
            self._last_good[key] = (value, time.monotonic())
        return value

    def display_token(self, secret: str) -> str | None:
        """The name of the active display token ``secret``, else None."""
        if not TOKEN_PATTERN.match(secret or ""):
            return None
        digest = token_sha256(secret)
        query = sa.select(display_tokens.c.name).where(
            display_tokens.c.token_sha256 == digest, display_tokens.c.revoked_at.is_(None)
        )
        row = self.lookup(f"token:{digest}", query)
        return row.name if row else None

    def tokens(self) -> list[dict[str, Any]]:
        """Every display token, active and revoked, without its secret."""
        query = sa.select(
            display_tokens.c.name,
            display_tokens.c.created_at,
            display_tokens.c.created_by,
            display_tokens.c.revoked_at,
            display_tokens.c.revoked_by,
        ).order_by(display_tokens.c.id)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def add_user(self, name: str, role: str, password: str, actor: Identity) -> None:
        """Add a built-in user with ``role``; the password is stored as a salted scrypt hash."""
        _check_name(name, "user name")
        if role not in policy.ROLES:
            raise ValueError(f"role must be one of {', '.join(policy.ROLES)}")
        password_hash = hash_password(password)
        with self.audited(actor, "user.add", name, {"role": role}) as connection:
            if connection.execute(sa.select(users.c.name).where(users.c.name == name)).first():
                raise ValueError(f"user {name!r} exists")
            connection.execute(
                sa.insert(users),
                {
                    "name": name,
                    "role": role,
                    "password_hash": password_hash,
                    "created_at": datetime.now(UTC),
                    "created_by": actor.name,
                },
            )

    def users(self) -> list[dict[str, Any]]:
        """Every built-in user with their role and whether they are disabled, without their password hash."""
        query = sa.select(users.c.name, users.c.role, users.c.created_at, users.c.disabled_at).order_by(users.c.name)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def user_role(self, name: str) -> str | None:
        """The role of the built-in user ``name`` while they are enabled, else None."""
        query = sa.select(users.c.role).where(users.c.name == name, users.c.disabled_at.is_(None))
        row = self.lookup(f"user:{name}", query)
        return row.role if row else None

    def authenticate(self, name: str, password: str) -> str | None:
        """The role of ``name`` when ``password`` is theirs and they are enabled, else None (in the same time
        either way)."""
        enabled = sa.and_(users.c.name == name, users.c.disabled_at.is_(None))
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(users.c.role, users.c.password_hash).where(enabled)).first()
        ok = verify_password(password, row.password_hash if row else None)
        return row.role if ok and row else None
