"""Incident actions taken in opscenter: ``incident_actions``, which is also the ITSM write-back's outbox.

A duty manager's action is written with ``record`` inside ``auth.audited("incident.<action>", ...)``, so
the audit row and the action share one transaction. Every action is queued ``pending``; the poller's
write-back job (``dashboard.command.writeback``), which knows the sources, delivers it and marks it
``delivered``, or leaves it pending with a later ``next_attempt_at`` and the error, so nothing is lost
while the ITSM is away; an action on a source that takes no write-back it marks ``local``.
"""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from dashboard.db import incident_rows
from dashboard.db.tables import incident_actions
from dashboard.i18n import t
from datasources.base import utc_column

ACTIONS = ("acknowledge", "assign", "note", "priority", "resolve")  # on an incident, from its page
DECLARE = "declare"  # an incident declared in opscenter: the outbox's request to open its ticket
ROLES = ("commander", "communications", "scribe")
PENDING, DELIVERED, LOCAL = "pending", "delivered", "local"
MAX_TEXT = 4000
MAX_USER = 64
COLUMNS = ["id", "source", "incident_id", "action", "actor", "at", "detail", "writeback", "delivered_at", "last_error"]


def text(value, limit: int) -> str:
    """``value`` as stripped text; ValueError when longer than ``limit``."""
    stripped = str(value or "").strip()
    if len(stripped) > limit:
        raise ValueError(f"at most {limit} characters")
    return stripped


def checked(action: str, detail: dict) -> dict:
    """The detail of ``action`` as stored; ValueError when it is not one an action of that kind can have."""
    if action not in (*ACTIONS, DECLARE):
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    note = text(detail.get("text"), MAX_TEXT)
    if action == "assign":
        user = text(detail.get("user"), MAX_USER)
        if detail.get("role") not in ROLES or not user:
            raise ValueError(f"an assignment needs a role ({', '.join(ROLES)}) and a user name")
        return {"role": detail["role"], "user": user}
    if action == "note":
        if not note:
            raise ValueError("a note needs text")
        return {"text": note, "public": bool(detail.get("public"))}
    if action == "priority":
        priority = detail.get("priority")
        if priority not in (1, 2, 3, 4, 5):
            raise ValueError("priority must be 1 to 5")
        return {"priority": priority}
    return {"text": note} if note else {}


def record(
    connection: sa.Connection,
    source: str,
    incident_id: str,
    action: str,
    actor: str,
    detail: dict,
    at: datetime,
) -> int:
    """Append one action on ``connection``, pending write-back; return its id."""
    row = {
        "source": source,
        "incident_id": incident_id,
        "action": action,
        "actor": actor,
        "at": at,
        "detail": json.dumps(checked(action, detail), sort_keys=True),
        "writeback": PENDING,
        "attempts": 0,
        "next_attempt_at": at,
    }
    return connection.execute(sa.insert(incident_actions).returning(incident_actions.c.id), row).scalar_one()


def for_incident(engine: sa.Engine, source: str, incident_id: str) -> pd.DataFrame:
    """The actions on one incident, oldest first; ``detail`` as dicts."""
    frame = incident_rows.of_incident(
        engine, incident_actions, COLUMNS, source, incident_id, times=("at", "delivered_at")
    )
    frame["detail"] = frame["detail"].map(json.loads).astype(object)
    return frame


def current_roles(actions: pd.DataFrame) -> dict[str, str]:
    """Who holds each incident role: the latest assignment of each (``actions``: one incident's)."""
    assigned = actions[actions["action"] == "assign"]
    return {row.detail["role"]: row.detail["user"] for row in assigned.itertuples()}


def last_update(actions: pd.DataFrame) -> pd.Timestamp | None:
    """When the incident's last status update or note was posted, else None."""
    notes = actions.loc[actions["action"] == "note", "at"]
    return notes.max() if len(notes) else None


def acknowledgements(engine: sa.Engine) -> pd.DataFrame:
    """Each incident's first acknowledgement in opscenter: source, incident_id, acknowledged_at."""
    table = incident_actions
    query = (
        sa.select(table.c.source, table.c.incident_id, sa.func.min(table.c.at))
        .where(table.c.action == "acknowledge")
        .group_by(table.c.source, table.c.incident_id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).fetchall()
    frame = pd.DataFrame(rows, columns=["source", "incident_id", "acknowledged_at"], dtype=object)
    frame["acknowledged_at"] = utc_column(frame["acknowledged_at"])
    return frame


def due(engine: sa.Engine, now: datetime, sources: list[str], limit: int = 100) -> list[dict]:
    """Pending actions of ``sources`` whose next attempt has come, oldest first; an action waits while an
    earlier one of its incident is pending and not yet due again, so the ITSM sees an incident's in order."""
    table, earlier = incident_actions, incident_actions.alias("earlier")
    waiting = (
        sa.exists()
        .where(earlier.c.source == table.c.source, earlier.c.incident_id == table.c.incident_id)
        .where(earlier.c.id < table.c.id, earlier.c.writeback == PENDING, earlier.c.next_attempt_at > now)
    )
    query = (
        sa.select(table)
        .where(table.c.writeback == PENDING, table.c.source.in_(sources), table.c.next_attempt_at <= now, ~waiting)
        .order_by(table.c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [{**row._mapping, "detail": json.loads(row.detail)} for row in connection.execute(query)]


def delivered(engine: sa.Engine, action_id: int, at: datetime) -> None:
    """Mark an action delivered to its ITSM."""
    table = incident_actions
    with engine.begin() as connection:
        connection.execute(
            sa.update(table)
            .where(table.c.id == action_id)
            .values(writeback=DELIVERED, delivered_at=at, attempts=table.c.attempts + 1, last_error=None)
        )


def failed(engine: sa.Engine, action_id: int, error: str, next_at: datetime) -> None:
    """Keep an action pending after a failed delivery, with the error and when to try again."""
    table = incident_actions
    with engine.begin() as connection:
        connection.execute(
            sa.update(table)
            .where(table.c.id == action_id)
            .values(attempts=table.c.attempts + 1, last_error=error[:1000], next_attempt_at=next_at)
        )


def local(engine: sa.Engine, action_id: int) -> None:
    """Mark an action local: its source takes no write-back."""
    table = incident_actions
    with engine.begin() as connection:
        connection.execute(sa.update(table).where(table.c.id == action_id).values(writeback=LOCAL))


def did(action: str, detail: dict, lang: str) -> str:
    """One action in words: "assigned alice as Scribe", "status update: ..."."""
    if action == "assign":
        return t("command.did.assign", lang, user=detail["user"], role=t(f"command.role.{detail['role']}", lang))
    if action == "priority":
        return t("command.did.priority", lang, priority=detail["priority"])
    if action == "note":
        return t("command.did.update" if detail.get("public") else "command.did.note", lang, text=detail["text"])
    return t(f"command.did.{action}", lang)
