"""Each chain's in-session SLO events per UTC hour in the history database.

The derived step writes the hours its polled window holds (``upsert``) and reads the budget's window back
(``read``), so a restarted poller still counts the days it saw before. Of two views of one hour the fuller
one (more events) is kept: the window's first hour, seen only in part, never lowers what a fuller poll
stored, and any number of pollers writing the same hour agree. The backfill from a source's history marks
the local days it read whole (``mark_read``, ``days_read``) so that it reads a day once. Hours and marks
older than ``RETENTION_DAYS`` are pruned (``prune``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.db.tables import slo_days_read, slo_hours
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


def mark_read(engine: sa.Engine, source: str, day: datetime) -> None:
    """Record that the hours of the local day starting at ``day`` were read whole from ``source``'s history."""
    record = {"source": source, "day": pd.Timestamp(day).to_pydatetime(), "read_at": datetime.now(UTC)}
    statement = _INSERTS[engine.dialect.name](slo_days_read).on_conflict_do_nothing()
    with engine.begin() as connection:
        connection.execute(statement, [record])


def days_read(engine: sa.Engine, source: str, since: datetime) -> set[pd.Timestamp]:
    """The days (their UTC start) from ``since`` on whose hours were read whole from ``source``'s history."""
    table = slo_days_read.c
    query = sa.select(table.day).where(table.source == source, table.day >= pd.Timestamp(since).to_pydatetime())
    with engine.connect() as connection:
        return {pd.Timestamp(day) for day in connection.execute(query).scalars()}


def prune(engine: sa.Engine, before: datetime) -> int:
    """Delete the hours, and the marks of days read, before ``before``; return how many hours went."""
    cut = pd.Timestamp(before).to_pydatetime()
    with engine.begin() as connection:
        connection.execute(sa.delete(slo_days_read).where(slo_days_read.c.day < cut))
        return connection.execute(sa.delete(slo_hours).where(slo_hours.c.hour < cut)).rowcount
