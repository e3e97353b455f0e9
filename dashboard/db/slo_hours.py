"""Each chain's in-session SLO events per UTC hour in the history database.

The derived step writes the hours its polled window holds (``upsert``) and reads the budget's window back
(``read``), so a restarted poller still counts the days it saw before. Of two views of one hour the fuller
one (more events) is kept: the window's first hour, seen only in part, never lowers what a fuller poll
stored, and any number of pollers writing the same hour agree. Hours older than ``RETENTION_DAYS`` are
pruned (``prune``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.db.tables import slo_hours
from datasources.base import utc_column

RETENTION_DAYS = 400
COLUMNS = ["chain", "objective", "hour", "total", "bad"]
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def upsert(engine: sa.Engine, hours: pd.DataFrame) -> int:
    """Insert each (chain, objective, hour) of ``hours``, or replace the stored one when this view holds at
    least as many events; return the row count."""
    if hours.empty:
        return 0
    now = datetime.now(UTC)
    records = [
        {"chain": c, "objective": o, "hour": pd.Timestamp(h).to_pydatetime(), "total": t, "bad": b, "updated_at": now}
        for c, o, h, t, b in zip(*(hours[column].tolist() for column in COLUMNS), strict=True)
    ]
    insert = _INSERTS[engine.dialect.name](slo_hours)
    fuller = insert.excluded.total >= slo_hours.c.total
    statement = insert.on_conflict_do_update(
        index_elements=[c.name for c in slo_hours.primary_key],
        set_={
            "total": sa.case((fuller, insert.excluded.total), else_=slo_hours.c.total),
            "bad": sa.case((fuller, insert.excluded.bad), else_=slo_hours.c.bad),
            "updated_at": insert.excluded.updated_at,
        },
    )
    with engine.begin() as connection:
        connection.execute(statement, records)
    return len(records)


def read(engine: sa.Engine, since: datetime) -> pd.DataFrame:
    """Every chain's hours from ``since`` on, oldest first: ``COLUMNS``."""
    table = slo_hours.c
    query = (
        sa.select(*(table[c] for c in COLUMNS))
        .where(table.hour >= pd.Timestamp(since).to_pydatetime())
        .order_by(table.chain, table.objective, table.hour)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).fetchall()
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["hour"] = utc_column(frame["hour"]) if len(frame) else pd.Series(dtype="datetime64[ns, UTC]")
    return frame.astype({"total": float, "bad": float})


def prune(engine: sa.Engine, before: datetime) -> int:
    """Delete the hours before ``before``; return how many rows went."""
    statement = sa.delete(slo_hours).where(slo_hours.c.hour < pd.Timestamp(before).to_pydatetime())
    with engine.begin() as connection:
        return connection.execute(statement).rowcount
