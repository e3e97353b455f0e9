"""Incidents declared in opscenter: ``declared_incidents``, and the ``incidents`` frame made of them.

A manager declares an incident from nothing (title, service, priority, summary) or from an alert (its
service, name and link); ``declare`` writes it inside ``auth.audited("incident.declare", ...)`` together
with a ``declare`` action, which is the write-back outbox's request to open the ticket in the ITSM the
config names (``command.declare_to``); once opened, ``linked`` records the ticket. An alert with an open
declared incident (one not resolved in opscenter) cannot be declared again.

Opscenter is the system of record of a declared incident: its acknowledgement, resolution and priority
come from its own actions, so ``incident_frame`` gives it the states an ITSM would.
"""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from dashboard.command import actions
from dashboard.db.tables import declared_incidents, incident_actions
from datasources.base import empty_frame, utc_column

SOURCE = "opscenter"  # the source name of declared incidents, in frames and actions
PREFIX = "OC-"
MAX_TITLE = 200
MAX_NAME = 128
RETENTION_DAYS = 90  # resolved declared incidents older than this leave the frame (history keeps them)


class AlreadyDeclared(Exception):
    """The alert already has an open declared incident; ``incident_id`` names it."""

    def __init__(self, incident_id: str):
        super().__init__(incident_id)
        self.incident_id = incident_id


def incident_id(row_id: int) -> str:
    return f"{PREFIX}{row_id}"


def row_id(incident: str) -> int:
    """The table id of a declared incident id ``OC-<n>``; ValueError for any other id."""
    number = incident.removeprefix(PREFIX)
    if not incident.startswith(PREFIX) or not number.isdigit():
        raise ValueError(f"{incident!r} is not an incident declared in opscenter")
    return int(number)


def checked(fields: dict) -> dict:
    """The declaration's own fields as stored; ValueError when one is missing or too long."""
    title = actions.text(fields.get("title"), MAX_TITLE)
    if not title:
        raise ValueError("a declared incident needs a title")
    priority = fields.get("priority")
    if priority not in (1, 2, 3, 4, 5):
        raise ValueError("priority must be 1 to 5")
    return {
        "title": title,
        "service": actions.text(fields.get("service"), MAX_NAME) or None,
        "priority": priority,
        "summary": actions.text(fields.get("summary"), actions.MAX_TEXT) or None,
    }


def from_alert(alert: pd.Series | dict) -> dict:
    """The fields of an incident declared from ``alert`` (a row of the ``alerts`` frame)."""
    severity_priority = {"critical": 2, "warning": 3, "info": 4}
    return {
        "title": str(alert["name"])[:MAX_TITLE],
        "service": alert.get("service") or None,
        "priority": severity_priority.get(alert.get("severity"), 3),
        "summary": alert.get("summary") or None,
        "alert_source": alert["source"],
        "alert_id": str(alert["alert_id"]),
        "alert_name": str(alert["name"]),
        "alert_url": alert.get("url") or None,
    }


def open_for_alert(connection: sa.Connection, alert_source: str, alert_id: str) -> str | None:
    """The open declared incident of an alert (not resolved in opscenter), if any."""
    table, taken = declared_incidents, incident_actions
    declared = connection.execute(
        sa.select(table.c.id).where(table.c.alert_source == alert_source, table.c.alert_id == alert_id)
    ).scalars()
    candidates = [incident_id(found) for found in declared]
    resolved = connection.execute(
        sa.select(taken.c.incident_id).where(
            taken.c.source == SOURCE, taken.c.action == "resolve", taken.c.incident_id.in_(candidates)
        )
    ).scalars()
    return next((c for c in reversed(candidates) if c not in set(resolved)), None)


def declare(connection: sa.Connection, actor: str, fields: dict, at) -> str:
    """Declare an incident on ``connection`` with its ``declare`` action; return its id. ``fields``: title,
    service, priority, summary and, declared from an alert, those ``from_alert`` gives. AlreadyDeclared when
    the alert has an open declared incident; ValueError when a field is not acceptable."""
    row = checked(fields)
    alert = {k: fields.get(k) or None for k in ("alert_source", "alert_id", "alert_name", "alert_url")}
    if alert["alert_id"]:
        existing = open_for_alert(connection, alert["alert_source"], alert["alert_id"])
        if existing:
            raise AlreadyDeclared(existing)
    new_id = connection.execute(
        sa.insert(declared_incidents).returning(declared_incidents.c.id),
        {**row, **alert, "declared_by": actor, "opened_at": at},
    ).scalar_one()
    declared = incident_id(new_id)
    actions.record(connection, SOURCE, declared, actions.DECLARE, actor, {}, at)
    return declared


def get(engine: sa.Engine, incident: str) -> dict | None:
    """One declared incident's row, or None."""
    with engine.connect() as connection:
        found = connection.execute(sa.select(declared_incidents).where(declared_incidents.c.id == row_id(incident)))
        row = found.first()
    return None if row is None else dict(row._mapping)


def linked(engine: sa.Engine, incident: str, ticket_source: str, ticket_id: str, ticket_url: str | None) -> None:
    """Record the ITSM ticket opened for a declared incident."""
    with engine.begin() as connection:
        connection.execute(
            sa.update(declared_incidents)
            .where(declared_incidents.c.id == row_id(incident))
            .values(ticket_source=ticket_source, ticket_id=ticket_id, ticket_url=ticket_url)
        )


def tickets(engine: sa.Engine) -> set[tuple[str, str]]:
    """(source, incident id) of every ITSM ticket opened for a declared incident, as recorded by ``linked``:
    known here as soon as the ticket is, before opscenter's own source is polled again."""
    query = sa.select(declared_incidents.c.ticket_source, declared_incidents.c.ticket_id).where(
        declared_incidents.c.ticket_id.is_not(None)
    )
    with engine.connect() as connection:
        return {(source, ticket) for source, ticket in connection.execute(query)}


def _read(engine: sa.Engine, now: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The declared incidents in the frame's reach and their actions."""
    cutoff = now - pd.Timedelta(days=RETENTION_DAYS)
    taken = incident_actions
    with engine.connect() as connection:
        declared = pd.DataFrame(connection.execute(sa.select(declared_incidents)).mappings().all(), dtype=object)
        done = connection.execute(
            sa.select(taken.c.incident_id, taken.c.action, taken.c.at, taken.c.detail)
            .where(taken.c.source == SOURCE, taken.c.action.in_(("acknowledge", "resolve", "priority")))
            .order_by(taken.c.at, taken.c.id)
        )
        done = pd.DataFrame(done.fetchall(), columns=["incident_id", "action", "at", "detail"], dtype=object)
    done["at"] = utc_column(done["at"])
    if declared.empty:
        return declared, done
    declared["opened_at"] = utc_column(declared["opened_at"])
    declared["incident_id"] = PREFIX + declared["id"].astype(str)
    resolved = done[done["action"] == "resolve"].groupby("incident_id")["at"].min()
    resolved_at = _by_id(declared["incident_id"], resolved)
    return declared[resolved_at.isna() | (resolved_at >= cutoff)], done


def _by_id(ids: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` (indexed by incident id) for each of ``ids``, aligned with them."""
    return pd.Series(values.reindex(ids.to_numpy()).to_numpy(), index=ids.index, dtype=values.dtype)


def incident_frame(engine: sa.Engine, now: pd.Timestamp) -> pd.DataFrame:
    """The ``incidents`` frame of the declared incidents (source ``opscenter``): acknowledged and resolved by
    their first such action, at the priority last set; linked to their ticket, or else to their alert."""
    declared, done = _read(engine, now)
    if declared.empty:
        return empty_frame("incidents")
    ids = declared["incident_id"]

    def first(action: str) -> pd.Series:
        return _by_id(ids, done[done["action"] == action].groupby("incident_id")["at"].min())

    reprioritised = done[done["action"] == "priority"].groupby("incident_id")["detail"].last()
    priority = _by_id(ids, reprioritised.map(lambda d: json.loads(d)["priority"]).astype(object))
    acknowledged_at, resolved_at = first("acknowledge"), first("resolve")
    state = pd.Series("new", index=declared.index).mask(acknowledged_at.notna(), "in_progress")
    frame = pd.DataFrame(
        {
            "incident_id": ids,
            "title": declared["title"],
            "priority": priority.fillna(declared["priority"]).astype(int),
            "state": state.mask(resolved_at.notna(), "resolved"),
            "service": declared["service"],
            "opened_at": declared["opened_at"],
            "acknowledged_at": utc_column(acknowledged_at),
            "resolved_at": utc_column(resolved_at),
            "assignment_group": None,
            "change_id": None,
            "runbook_url": None,
            "source": SOURCE,
            "url": declared["ticket_url"].where(declared["ticket_url"].notna(), None),
            "x_alert_id": declared["alert_id"],
            "x_alert_name": declared["alert_name"],
            "x_alert_url": declared["alert_url"],
            "x_ticket_source": declared["ticket_source"],
            "x_ticket": declared["ticket_id"],
            "x_summary": declared["summary"],
        }
    )
    return frame.reset_index(drop=True)
