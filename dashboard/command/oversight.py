"""Who commands each open P1/P2 and how long since its last update.

The poller reads ``command_frame`` (the ``incident_command`` frame: per incident acted on in opscenter,
its commander from the latest ``assign`` with the role commander and its latest action's time) in two
small queries per poll; pages join it to their incidents with ``watched``, a pure function, so a viewer
costs no query. An incident nobody acted on counts as updated when it opened.
"""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa

from dashboard.db.tables import incident_actions
from datasources.base import empty_frame, utc_column

WATCHED_PRIORITIES = (1, 2)
STALE_AFTER_MIN = {1: 15, 2: 30}  # the default minutes without an update before a P1/P2 turns amber
REACH_DAYS = 30  # incidents acted on within this many days are in the frame


def command_frame(engine: sa.Engine, now: pd.Timestamp) -> pd.DataFrame:
    """The ``incident_command`` frame of the incidents acted on in the last ``REACH_DAYS``."""
    table, since = incident_actions, now - pd.Timedelta(days=REACH_DAYS)
    key = (table.c.source, table.c.incident_id)
    with engine.connect() as connection:
        latest = connection.execute(
            sa.select(*key, sa.func.max(table.c.at)).where(table.c.at >= since).group_by(*key)
        ).fetchall()
        assigned = connection.execute(
            sa.select(*key, table.c.detail)
            .where(table.c.action == "assign", table.c.at >= since)
            .order_by(table.c.at, table.c.id)
        ).fetchall()
    if not latest:
        return empty_frame("incident_command")
    commanders: dict[tuple[str, str], str] = {}
    for source, incident, detail in assigned:
        detail = json.loads(detail)
        if detail.get("role") == "commander":
            commanders[(source, incident)] = detail["user"]
    frame = pd.DataFrame(latest, columns=["source", "incident_id", "updated_at"], dtype=object)
    frame.insert(2, "commander", [commanders.get((s, i)) for s, i in zip(frame["source"], frame["incident_id"])])
    frame["updated_at"] = utc_column(frame["updated_at"])
    return frame


def commands(incidents: pd.DataFrame, command: pd.DataFrame) -> pd.DataFrame:
    """The P1/P2 among ``incidents`` (active ones, as pages select them) indexed by (source, incident_id), with
    ``priority``, ``commander`` (None: nobody) and ``updated_at`` (the latest action, else the opening)."""
    watch = incidents.loc[incidents["priority"].isin(WATCHED_PRIORITIES), ["source", "incident_id", "priority"]]
    joined = watch.merge(command, on=["source", "incident_id"], how="left")
    opened = incidents.set_index(["source", "incident_id"])["opened_at"]
    joined = joined.set_index(["source", "incident_id"])
    joined["commander"] = joined["commander"].astype(object).where(joined["commander"].notna(), None)
    joined["updated_at"] = utc_column(joined["updated_at"].fillna(opened.reindex(joined.index)))
    return joined[["priority", "commander", "updated_at"]]


def stale_after(stale_after_min: dict[int, float] | None = None) -> dict[int, float]:
    """The minutes without an update before a P1/P2 turns amber: the defaults, overridden by the config's."""
    return {**STALE_AFTER_MIN, **(stale_after_min or {})}


def watched(
    incidents: pd.DataFrame, command: pd.DataFrame, now: pd.Timestamp, stale_after_min: dict[int, float] | None = None
) -> pd.DataFrame:
    """``commands`` of ``incidents``, with ``stale_at`` (when it turns amber) and ``stale``."""
    joined = commands(incidents, command)
    joined["stale_at"] = joined["updated_at"] + pd.to_timedelta(
        joined["priority"].map(stale_after(stale_after_min)), unit="min"
    )
    joined["stale"] = joined["stale_at"] <= now
    return joined[["commander", "updated_at", "stale_at", "stale"]]
