"""SQL: incidents and changes from tables or views of any SQLAlchemy database.

Each frame names a table (``schema.table`` allowed), the column holding each
contract column (by default the contract's own name; ``null`` leaves a column
unread) and optionally an ``updated_column``: then each poll reads only rows
updated since the last one (a bound parameter; store UTC or use a time-zone
aware column). Identifiers are quoted by SQLAlchemy, values are bound, never
spliced into the SQL.

Options: ``url`` (SQLAlchemy URL, password as ``${ENV}``), ``incidents`` and/or
``changes``: ``{table, columns: {contract column: source column}, updated_column}``,
the ``*_map`` mappings, ``runbook_url``, ``retention_days``, ``overlap_s``.
"""
from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

import pandas as pd
import sqlalchemy as sa

from datasources import itsm
from datasources.base import CONTRACTS, SourceError, parser
from datasources.registry import register

FRAMES = {"incidents": itsm.incident_frame, "changes": itsm.change_frame}
RAW_COLUMNS = {
    name: tuple(c.name for c in CONTRACTS[name] if c.name != "source") for name in FRAMES
}
EXTRA_COLUMNS = {"incidents": ("runbook_steps",), "changes": ()}


def column_map(frame: str, configured: dict[str, Any] | None) -> dict[str, str]:
    """Contract column -> source column: the contract's names, overridden by the config (null drops)."""
    configured = configured or {}
    unknown = set(configured) - set(RAW_COLUMNS[frame]) - set(EXTRA_COLUMNS[frame])
    if unknown:
        raise SourceError(f"{frame}.columns: unknown contract column(s) {', '.join(sorted(unknown))}")
    merged = {**{c: c for c in RAW_COLUMNS[frame]}, **configured}
    return {key: str(column) for key, column in merged.items() if column}


def select(frame: str, spec: dict[str, Any], since: datetime | None) -> sa.Select:
    """The SELECT of one frame: mapped columns labelled with contract names, updated since ``since``."""
    schema, _, table_name = str(spec["table"]).rpartition(".")
    columns = column_map(frame, spec.get("columns"))
    updated = spec.get("updated_column")
    needed = set(columns.values()) | ({updated} if updated else set())
    table = sa.table(table_name, *(sa.column(c) for c in sorted(needed)), schema=schema or None)
    query = sa.select(*(table.c[source].label(key) for key, source in columns.items()))
    if updated and since is not None:
        query = query.where(table.c[updated] >= sa.bindparam("since", since, type_=sa.DateTime(timezone=True)))
    return query


@parser()
def parse_rows(frame: str, rows: list[dict[str, Any]], mappings: itsm.Mappings, source: str) -> pd.DataFrame:
    """A contract frame from result rows keyed by contract column."""
    return FRAMES[frame](rows, mappings, source)


@register
class SqlSource(itsm.ItsmSource):
    """Incidents and changes read from a database."""

    kind = "sql"

    @classmethod
    def offers(cls, options: dict[str, Any]) -> frozenset[str]:
        """The frames given a table: incidents and/or changes."""
        return frozenset(frame for frame in FRAMES if options.get(frame))

    @cached_property
    def engine(self) -> sa.Engine:
        try:
            return sa.create_engine(str(self.options["url"]), pool_pre_ping=True)
        except (KeyError, sa.exc.ArgumentError) as exc:
            raise SourceError(f"{self.name}: url must be a SQLAlchemy database URL ({exc})") from None

    def _read(self, frame: str, spec: dict[str, Any], since: datetime) -> list[dict[str, Any]]:
        query = select(frame, spec, since)
        try:
            with self.engine.connect() as connection:
                return [dict(row) for row in connection.execute(query).mappings()]
        except sa.exc.SQLAlchemyError as exc:
            where = self.engine.url.render_as_string(hide_password=True)
            cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise SourceError(f"{self.name}: reading {frame} from {spec['table']} at {where}: {cause}") from None

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        specs = {frame: self.options[frame] for frame in FRAMES if self.options.get(frame)}
        if not specs:
            raise SourceError(f"{self.name}: configure 'incidents' and/or 'changes' with a table")
        since = self.incremental.since(now)
        frames = {frame: parse_rows(frame, self._read(frame, spec, since), self.mappings, self.name)
                  for frame, spec in specs.items()}
        return self.incremental.merge(now, frames)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
