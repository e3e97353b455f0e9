"""Daily utilisation peaks in the history database, per source, local day and instance.

The derived step writes them (``upsert``) and /capacity reads them back (``read``), so the peak day and
the 30-day trend outlive the poller and the source's own retention. A day's stored peak only ever rises:
a write keeps the higher of the stored and the new CPU and memory peak, so a later, partial view of a
day (a poll's window, a coarser history) never lowers what a fuller one found. ``complete`` marks a day
read whole from the source's history; it stays set once set. Rows older than ``RETENTION_DAYS`` are
pruned (``prune``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.db.tables import utilisation_peaks
from datasources.base import empty_frame, utc_column, validate

RETENTION_DAYS = 400  # a year and a month: a year-on-year look at the busiest days
PEAK_COLUMNS = ["day", "service", "instance", "cpu_ratio", "memory_ratio", "memory_limit_bytes"]
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def _higher(column: str, insert) -> sa.ColumnElement:
    """The higher of the stored and the new value; a missing value never replaces a known one."""
    stored, new = utilisation_peaks.c[column], insert.excluded[column]
    return sa.case((sa.or_(stored.is_(None), new > stored), new), else_=stored)


def _plain(value):
    return None if pd.isna(value) else value


def upsert(
    engine: sa.Engine,
    source: str,
    peaks: pd.DataFrame,
    sites: pd.Series | None = None,
    complete: bool = False,
) -> int:
    """Insert or raise the ``utilisation_peaks`` rows of ``source``; return the row count.

    ``sites`` maps instance to site (an unplaced instance keeps the site stored before, if any);
    ``complete``: the days in ``peaks`` were read whole. A repeated (day, instance) keeps its last row.
    """
    peaks = validate("utilisation_peaks", peaks).drop_duplicates(["day", "instance"], keep="last")
    if peaks.empty:
        return 0
    now = datetime.now(UTC)
    site = peaks["instance"].map(sites) if sites is not None else pd.Series(None, index=peaks.index)
    records = [
        {
            "source": source,
            "day": day.to_pydatetime(),
            "service": service,
            "instance": instance,
            "site": _plain(where),
            "cpu_ratio": _plain(cpu),
            "memory_ratio": _plain(memory),
            "memory_limit_bytes": _plain(limit),
            "complete": complete,
            "updated_at": now,
        }
        for day, service, instance, cpu, memory, limit, where in zip(
            *(peaks[c] for c in PEAK_COLUMNS), site.astype(object), strict=True
        )
    ]
    insert = _INSERTS[engine.dialect.name](utilisation_peaks)
    table = utilisation_peaks.c
    statement = insert.on_conflict_do_update(
        index_elements=[c.name for c in utilisation_peaks.primary_key],
        set_={
            "service": insert.excluded.service,
            "site": sa.func.coalesce(insert.excluded.site, table.site),
            "cpu_ratio": _higher("cpu_ratio", insert),
            "memory_ratio": _higher("memory_ratio", insert),
            "memory_limit_bytes": sa.func.coalesce(insert.excluded.memory_limit_bytes, table.memory_limit_bytes),
            "complete": sa.or_(table.complete, insert.excluded.complete),
            "updated_at": insert.excluded.updated_at,
        },
    )
    with engine.begin() as connection:
        connection.execute(statement, records)
    return len(records)


def complete_days(engine: sa.Engine, source: str, since: datetime) -> set[pd.Timestamp]:
    """The days (their UTC start) from ``since`` on that ``source`` has read whole."""
    table = utilisation_peaks.c
    query = (
        sa.select(table.day)
        .where(table.source == source, table.complete, table.day >= pd.Timestamp(since).to_pydatetime())
        .distinct()
    )
    with engine.connect() as connection:
        return {pd.Timestamp(day) for day in connection.execute(query).scalars()}


def read(engine: sa.Engine, since: datetime) -> pd.DataFrame:
    """Every source's peaks from ``since`` on: the ``utilisation_peaks`` frame with ``x_source``, ``x_site``
    (None: not placed) and ``x_complete``, oldest day first."""
    table = utilisation_peaks.c
    query = (
        sa.select(*(table[c] for c in PEAK_COLUMNS), table.source, table.site, table.complete)
        .where(table.day >= pd.Timestamp(since).to_pydatetime())
        .order_by(table.day, table.source, table.instance)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).fetchall()
    frame = pd.DataFrame(rows, columns=[*PEAK_COLUMNS, "x_source", "x_site", "x_complete"], dtype=object)
    if frame.empty:
        return empty_frame("utilisation_peaks").assign(x_source=[], x_site=[], x_complete=[])
    frame["day"] = utc_column(frame["day"])
    for column in ("cpu_ratio", "memory_ratio", "memory_limit_bytes"):
        frame[column] = frame[column].astype(float)
    frame["x_complete"] = frame["x_complete"].astype(bool)
    return frame


def prune(engine: sa.Engine, before: datetime) -> int:
    """Delete the peaks of days before ``before``; return how many rows went."""
    statement = sa.delete(utilisation_peaks).where(utilisation_peaks.c.day < pd.Timestamp(before).to_pydatetime())
    with engine.begin() as connection:
        return connection.execute(statement).rowcount
