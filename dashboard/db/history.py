"""History: incidents, changes, chaos runs and source status kept beyond the sources' retention.

The same database keeps the access records (``dashboard.security.access`` and ``.sessions``) and the
maturity records (``dashboard.maturity.assessments``); every table is declared in
``dashboard.db.tables``.

Each poll upserts the incident, change and chaos-run frames (keyed by source and
id) and appends the source-status frame. SQLite by default, PostgreSQL by URL;
the schema is managed by the Alembic environment in ``dashboard/db/migrations``.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.db.tables import (
    UTCDateTime,
    changes,
    chaos_runs,
    incidents,
    source_status_history,
)
from datasources.base import CONTRACTS, empty_frame, utc_column, validate

_DATA_HOME = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
DEFAULT_SQLITE = _DATA_HOME / "opscenter" / "history.sqlite3"
MIGRATIONS = Path(__file__).with_name("migrations")


_UPSERTED = {"incidents": incidents, "changes": changes, "chaos_runs": chaos_runs}
_TABLES = {**_UPSERTED, "source_status": source_status_history}
_SINCE = {
    "incidents": ("opened_at",),
    "changes": ("planned_start", "actual_start"),
    "chaos_runs": ("started_at",),
    "source_status": ("last_attempt",),
}
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def default_url() -> str:
    """The SQLite file under the XDG data folder, creating the folder."""
    DEFAULT_SQLITE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE}"


def _records(df: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows as dicts of plain Python values; NaN, NaT, None and pd.NA all become None."""
    values = []
    for name in columns:
        series = df[name]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            series = pd.Series(series.dt.to_pydatetime(), index=series.index, dtype=object)
        values.append([None if pd.isna(v) else v for v in series.astype(object)])
    return [dict(zip(columns, row)) for row in zip(*values)]


def _frame(frame: str, table: sa.Table, result: sa.CursorResult) -> pd.DataFrame:
    """A result as a frame with the contract's dtypes; bookkeeping columns come back as ``x_``."""
    df = pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
    dtypes = empty_frame(frame).dtypes
    for name in df.columns:
        if isinstance(table.c[name].type, UTCDateTime):
            df[name] = utc_column(df[name])
        else:
            df[name] = df[name].astype(dtypes[name])
    return df.rename(columns={"first_seen_at": "x_first_seen_at", "updated_at": "x_updated_at"})


class History:
    """The history database: upsert entity frames, append source status, read them back."""

    def __init__(self, url: str | None = None):
        engine = sa.create_engine(url or default_url(), pool_pre_ping=True)
        if engine.dialect.name not in _INSERTS:
            engine.dispose()
            raise ValueError(f"history supports sqlite and postgresql, not {engine.dialect.name}")
        self.engine = engine

    def migrate(self) -> None:
        """Upgrade the schema to the latest migration (a no-op when already there)."""
        from alembic import command  # only migrating needs Alembic: a web worker never loads it
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def upsert(self, frame: str, df: pd.DataFrame) -> int:
        """Insert or update the rows of an incidents, changes or chaos_runs frame; return the row count.

        Rows are keyed by (source, id); a repeated key within ``df`` keeps its last row.
        ``first_seen_at`` is set on insert only, ``updated_at`` on every write.
        """
        if frame not in _UPSERTED:
            raise ValueError(f"cannot upsert frame {frame!r}; expected one of {', '.join(_UPSERTED)}")
        table = _UPSERTED[frame]
        keys = [c.name for c in table.primary_key]
        columns = [c.name for c in CONTRACTS[frame]]
        df = validate(frame, df).drop_duplicates(keys, keep="last")
        records = _records(df, columns)
        if not records:
            return 0
        now = datetime.now(UTC)
        for record in records:
            record["first_seen_at"] = record["updated_at"] = now
        insert = _INSERTS[self.engine.dialect.name](table)
        updated = [c for c in columns if c not in keys] + ["updated_at"]
        statement = insert.on_conflict_do_update(index_elements=keys, set_={c: insert.excluded[c] for c in updated})
        if self.engine.dialect.insert_returning:
            # With RETURNING, SQLAlchemy sends the batch as a few multi-row VALUES statements.
            statement = statement.returning(*table.primary_key)
        with self.engine.begin() as connection:
            connection.execute(statement, records)
        return len(records)

    def record_status(self, status: pd.DataFrame) -> None:
        """Append the rows of a source_status frame."""
        records = _records(validate("source_status", status), [c.name for c in CONTRACTS["source_status"]])
        if records:
            with self.engine.begin() as connection:
                connection.execute(sa.insert(source_status_history), records)

    def read(self, frame: str, since: datetime | None = None) -> pd.DataFrame:
        """Return a stored frame, optionally only rows whose time column is at or after ``since``.

        Time columns: incidents ``opened_at``, changes ``planned_start`` or ``actual_start``,
        chaos_runs ``started_at``, source_status ``last_attempt``; a naive ``since`` is UTC.
        Entity frames also carry ``x_first_seen_at`` and ``x_updated_at``.
        """
        if frame not in _TABLES:
            raise ValueError(f"cannot read frame {frame!r}; expected one of {', '.join(_TABLES)}")
        table = _TABLES[frame]
        shown = [c for c in table.c if c.name != "id"]
        order = [sa.nulls_last(table.c[name]) for name in _SINCE[frame]]
        query = sa.select(*shown).order_by(*order, *table.primary_key)
        if since is not None:
            since = pd.Timestamp(since).to_pydatetime()
            query = query.where(sa.or_(*(table.c[name] >= since for name in _SINCE[frame])))
        with self.engine.connect() as connection:
            return _frame(frame, table, connection.execute(query))

    def close(self) -> None:
        """Dispose the engine and its pooled connections."""
        self.engine.dispose()
