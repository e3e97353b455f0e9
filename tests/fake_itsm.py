"""What the stateful fakes of the ITSM APIs share: basic auth, request checks, injected faults, and a
write-back harness (history database, outbox, job) to drive them."""

from __future__ import annotations

import base64
import re
import threading
from datetime import datetime

import sqlalchemy as sa

from dashboard.command import actions
from dashboard.command.writeback import WritebackJob
from dashboard.db.history import History
from dashboard.db.tables import incident_actions
from tests.loopback_http import Reply, Request

STALL_S = 60.0  # the longest a stalled answer waits for its release


class FakeApi:
    """A stateful fake of one ITSM API, called as a ``loopback_http.serve`` answer.

    Every request must carry the basic-auth header of ``username``/``password`` (else 401) and a write
    a JSON body; a request the API would refuse is answered 400 and its reason kept in ``rejected``.
    ``failures`` are answered instead of the next requests, one each; while ``stall`` is an unset
    Event, a write is applied and its answer then waits for the event (a timeout after the fact).
    """

    def __init__(self, username: str = "opscenter", password: str = "s3cret"):
        self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.lock = threading.Lock()
        self.failures: list[Reply] = []
        self.stall: threading.Event | None = None
        self.rejected: list[str] = []

    def __call__(self, request: Request, base: str) -> Reply:
        if request.headers.get("Authorization") != self.auth:
            return self.unauthorized()
        if self.failures:
            return self.failures.pop(0)
        writes = request.method != "GET"
        if writes and not request.headers.get("Content-Type", "").startswith("application/json"):
            return self.refuse(f"{request.method} {request.path} without a JSON body")
        with self.lock:
            reply = self.route(request, base)
        if writes and self.stall is not None and reply.status < 300:
            self.stall.wait(STALL_S)
        return reply

    def refuse(self, reason: str, status: int = 400) -> Reply:
        self.rejected.append(reason)
        return Reply({"error": reason}, status)

    def unauthorized(self) -> Reply:
        return Reply({"error": "authentication required"}, 401)

    def route(self, request: Request, base: str) -> Reply:
        raise NotImplementedError


def marked(texts, action_id: int) -> int:
    """How many of ``texts`` carry the marker of ``action_id``."""
    marker = re.escape(f"[opscenter action {action_id}]")
    return sum(1 for text in texts if re.search(marker, text))


class SoleRunner:
    """Leases for a test that is the only runner: every claim succeeds (``LocalLeases`` refuses a claim
    within a millisecond of the last run's end, which a quick test can hit)."""

    def claim(self, name: str, seconds: float) -> bool:
        return True

    def hold(self, name: str, seconds: float, grace: float | None = None) -> None:
        pass


class Outbox:
    """A history database holding the incident actions outbox, and the write-back job delivering it."""

    def __init__(self, path, sources):
        self.history = History(f"sqlite:///{path}")
        self.history.migrate()
        self.engine = self.history.engine
        self.job = WritebackJob(sources, self.engine, SoleRunner())

    def act(self, source: str, incident_id: str, action: str, at: datetime, detail=None, actor="li.wei") -> int:
        """Record an action as the incident page does; return its id."""
        with self.engine.begin() as connection:
            return actions.record(connection, source, incident_id, action, actor, detail or {}, at)

    def row(self, action_id: int) -> dict:
        with self.engine.connect() as connection:
            found = connection.execute(sa.select(incident_actions).where(incident_actions.c.id == action_id)).one()
        return dict(found._mapping)

    def pending(self) -> None:
        """Forget every delivery, as if each mark had been lost."""
        with self.engine.begin() as connection:
            connection.execute(sa.update(incident_actions).values(writeback=actions.PENDING))

    def close(self) -> None:
        self.history.close()
