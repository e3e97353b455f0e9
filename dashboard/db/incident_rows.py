"""Read the rows a history table keeps about incidents (actions, ticks, grades, submissions, notifications)."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from datasources.base import utc_column


def read(engine: sa.Engine, table: sa.Table, columns: list[str], *where, order=("at",), times=("at",)) -> pd.DataFrame:
    """``columns`` of ``table``'s rows matching ``where``, ordered by ``order`` then id, ``times`` in UTC."""
    query = sa.select(*(table.c[c] for c in columns)).where(*where)
    query = query.order_by(*(table.c[c] for c in order), table.c.id)
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).fetchall(), columns=columns, dtype=object)
    for column in times:
        frame[column] = utc_column(frame[column])
    return frame


def of_incident(
    engine: sa.Engine, table: sa.Table, columns: list[str], source: str, incident_id: str, **options
) -> pd.DataFrame:
    """``read`` of the rows about one incident, oldest first unless ``order`` says otherwise."""
    return read(engine, table, columns, table.c.source == source, table.c.incident_id == incident_id, **options)
