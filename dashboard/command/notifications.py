"""``incident_notifications``: who was told of an incident, at which escalation level, through which channel.

A level is opened once per incident (``open_level``): one row per channel, unique on (source, incident,
level, channel), inserted with "on conflict do nothing", so pollers racing each other open it once.
A runner ``claim``s a due row before sending it, so it is sent by one runner only. A row stays
``pending`` until its channel took the message (``sent``) or its last attempt failed
(``failed``); once the incident is acknowledged or over, what is still pending is ``cancelled``.
Each attempt's outcome is written with its audit row in one transaction (``outcome``).
"""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.db import incident_rows
from dashboard.db.tables import incident_notifications
from dashboard.security.access import audit_system

PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"
ACTION = "incident.notify"  # the audit log's action of every attempt
COLUMNS = ["id", "level", "channel", "recipients", "created_at", "status", "attempts", "sent_at", "last_error"]
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def levels(engine: sa.Engine, source: str, incident_id: str) -> dict[int, datetime]:
    """The levels opened for an incident, each with when it was opened."""
    table = incident_notifications
    query = (
        sa.select(table.c.level, sa.func.min(table.c.created_at))
        .where(table.c.source == source, table.c.incident_id == incident_id)
        .group_by(table.c.level)
    )
    with engine.connect() as connection:
        return {level: pd.Timestamp(at).to_pydatetime() for level, at in connection.execute(query)}


def open_level(
    engine: sa.Engine, source: str, incident_id: str, level: int, channels, recipients: list[dict], now: datetime
) -> int:
    """Queue the level's notification on each of ``channels``; return how many rows this call inserted (0
    when another poller opened the level first)."""
    rows = [
        {
            "source": source,
            "incident_id": incident_id,
            "level": level,
            "channel": channel,
            "recipients": json.dumps(recipients, ensure_ascii=False, sort_keys=True),
            "created_at": now,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for channel in channels
    ]
    statement = _INSERTS[engine.dialect.name](incident_notifications).on_conflict_do_nothing()
    with engine.begin() as connection:
        return sum(connection.execute(statement, row).rowcount for row in rows)


def due(engine: sa.Engine, now: datetime, limit: int = 50) -> list[dict]:
    """Pending notifications whose next attempt has come, oldest first; ``recipients`` as a list."""
    table = incident_notifications
    query = (
        sa.select(table)
        .where(table.c.status == PENDING, table.c.next_attempt_at <= now)
        .order_by(table.c.id)
        .limit(limit)
    )
    with engine.connect() as connection:
        return [{**row._mapping, "recipients": json.loads(row.recipients)} for row in connection.execute(query)]


def claim(engine: sa.Engine, notification_id: int, now: datetime, until: datetime) -> bool:
    """Take a due notification for sending, moving its next attempt to ``until``; False when another runner
    took it first (so two pollers never send the same notification, lease or not)."""
    table = incident_notifications
    with engine.begin() as connection:
        taken = connection.execute(
            sa.update(table)
            .where(table.c.id == notification_id, table.c.status == PENDING, table.c.next_attempt_at <= now)
            .values(next_attempt_at=until)
        )
    return taken.rowcount == 1


def pending_incidents(engine: sa.Engine) -> set[tuple[str, str]]:
    """The (source, incident id) of every incident with a notification still pending."""
    table = incident_notifications
    query = sa.select(table.c.source, table.c.incident_id).where(table.c.status == PENDING).distinct()
    with engine.connect() as connection:
        return {tuple(row) for row in connection.execute(query)}


def cancel(engine: sa.Engine, source: str, incident_id: str) -> None:
    """Stop what is still pending for an incident (acknowledged, resolved or gone)."""
    table = incident_notifications
    with engine.begin() as connection:
        connection.execute(
            sa.update(table)
            .where(table.c.source == source, table.c.incident_id == incident_id, table.c.status == PENDING)
            .values(status=CANCELLED)
        )


def outcome(engine: sa.Engine, row: dict, now: datetime, error: str | None, next_at: datetime | None) -> None:
    """Record one attempt at ``row``: sent (no ``error``), else failed, to be tried again at ``next_at``
    (None: that was the last attempt); with its audit row, actor "opscenter"."""
    table = incident_notifications
    status = SENT if error is None else (PENDING if next_at is not None else FAILED)
    values = {"attempts": row["attempts"] + 1, "status": status, "last_error": error, "next_attempt_at": next_at}
    if error is None:
        values["sent_at"] = now
    detail = {
        "source": row["source"],
        "level": row["level"],
        "channel": row["channel"],
        "recipients": [r["id"] for r in row["recipients"]],
        "attempt": row["attempts"] + 1,
        "outcome": "sent" if error is None else "failed",
        **({"error": error} if error else {}),
    }
    with engine.begin() as connection:
        connection.execute(sa.update(table).where(table.c.id == row["id"]).values(**values))
        audit_system(connection, ACTION, row["incident_id"], detail)


def for_incident(engine: sa.Engine, source: str, incident_id: str) -> pd.DataFrame:
    """An incident's notifications, by level; ``recipients`` as lists of {id, name}."""
    frame = incident_rows.of_incident(
        engine,
        incident_notifications,
        COLUMNS,
        source,
        incident_id,
        order=("level",),
        times=("created_at", "sent_at"),
    )
    frame["recipients"] = frame["recipients"].map(json.loads).astype(object)
    return frame
