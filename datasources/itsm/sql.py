"""SQL: incidents and changes, and business figures, from tables or views of any SQLAlchemy database.

Each frame names a table (``schema.table`` allowed), the column holding each
contract column (by default the contract's own name; ``null`` leaves a column
unread) and optionally an ``updated_column``: then each poll reads only rows
updated since the last one (a bound parameter; store UTC or use a time-zone
aware column). Identifiers are quoted by SQLAlchemy, values are bound, never
spliced into the SQL.

``business_metrics`` is read whole over the last ``window_m`` minutes (by its ``ts`` column) at
each poll, not merged: rows whose metric is not one of ``BUSINESS_METRICS``, or that lack a
required column, are dropped with a warning.

Options: ``SqlOptions``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated, Any, ClassVar

import pandas as pd
import sqlalchemy as sa
from pydantic import AfterValidator, Field, field_validator, model_validator

from datasources import itsm
from datasources.base import BUSINESS_DIMENSIONS, BUSINESS_METRICS, CONTRACTS, SourceError, parser, utc_column
from datasources.options import Strict
from datasources.registry import register

log = logging.getLogger(__name__)
FRAMES = {"incidents": itsm.incident_frame, "changes": itsm.change_frame}
RAW_COLUMNS = {
    name: tuple(c.name for c in CONTRACTS[name] if c.name != "source") for name in (*FRAMES, "business_metrics")
}
EXTRA_COLUMNS = {"incidents": ("runbook_steps",), "changes": (), "business_metrics": ()}
BUSINESS_REQUIRED = ("ts", "chain", "service", "metric", "value")


def column_map(frame: str, configured: dict[str, Any] | None) -> dict[str, str]:
    """Contract column -> source column: the contract's names, overridden by the config (null drops)."""
    merged = {**{c: c for c in RAW_COLUMNS[frame]}, **(configured or {})}
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


def select_business(spec: dict[str, Any], since: datetime) -> sa.Select:
    """The SELECT of the business figures: mapped columns labelled with contract names, from ``since`` on."""
    query = select("business_metrics", spec, None)
    ts = query.selected_columns["ts"].element
    return query.where(ts >= sa.bindparam("since", since, type_=sa.DateTime(timezone=True))).order_by(ts)


@parser()
def business_rows(rows: list[dict[str, Any]], source: str) -> pd.DataFrame:
    """The ``business_metrics`` frame from result rows keyed by contract column; bad rows dropped, logged."""
    columns = [c.name for c in CONTRACTS["business_metrics"]]
    frame = pd.DataFrame(rows, columns=columns)
    frame["ts"] = utc_column(frame["ts"])
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    good = frame[list(BUSINESS_REQUIRED)].notna().all(axis=1) & frame["metric"].isin(BUSINESS_METRICS)
    good &= frame["value"] >= 0
    if not good.all():
        log.warning("%s: %d business_metrics row(s) rejected (unknown metric or missing value)", source, (~good).sum())
    frame = frame[good].reset_index(drop=True)
    for column in ("chain", "service", "metric", *BUSINESS_DIMENSIONS):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
        frame[column] = frame[column].map(lambda v: v if v is None else str(v))
    return frame


@parser()
def parse_rows(frame: str, rows: list[dict[str, Any]], mappings: itsm.Mappings, source: str) -> pd.DataFrame:
    """A contract frame from result rows keyed by contract column."""
    return FRAMES[frame](rows, mappings, source)


class TableOptions(Strict):
    """Where one frame's rows are read."""

    frame: ClassVar[str] = ""
    table: str = Field(description="Table or view, `schema.table` allowed.")
    columns: dict[str, str | None] = Field(
        default_factory=dict,
        description=("Contract column -> source column (default: the contract's own name; null leaves it unread)."),
    )
    updated_column: str | None = Field(
        None, description=("Column holding the update time: each poll then reads only rows updated since the last.")
    )

    @field_validator("columns")
    @classmethod
    def _contract_columns(cls, columns: dict[str, str | None]) -> dict[str, str | None]:
        unknown = sorted(set(columns) - set(RAW_COLUMNS[cls.frame]) - set(EXTRA_COLUMNS[cls.frame]))
        if unknown:
            raise ValueError(f"unknown contract column(s) {', '.join(unknown)}")
        return columns


class BusinessTable(TableOptions):
    """Where the business figures are read: a row per (ts, chain, service, metric, dimensions)."""

    frame = "business_metrics"
    window_m: float = Field(60, gt=0, description="Minutes of figures each poll reads, by the `ts` column.")

    @field_validator("columns")
    @classmethod
    def _required_read(cls, columns: dict[str, str | None]) -> dict[str, str | None]:
        unread = [c for c in BUSINESS_REQUIRED if c in columns and not columns[c]]
        if unread:
            raise ValueError(f"required column(s) {', '.join(unread)} must be read")
        return columns


class IncidentTable(TableOptions):
    """Where the incidents are read."""

    frame = "incidents"


class ChangeTable(TableOptions):
    """Where the changes are read."""

    frame = "changes"


def _database_url(url: str) -> str:
    try:
        sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        raise ValueError("must be a SQLAlchemy database URL such as postgresql+psycopg2://user@host/db") from None
    return url


class SqlOptions(itsm.ItsmOptions):
    """Incidents and changes from tables or views of any database SQLAlchemy reaches."""

    url: Annotated[str, AfterValidator(_database_url)] = Field(
        description=("SQLAlchemy database URL; write its password as `${ENV_NAME}`.")
    )
    incidents: IncidentTable | None = Field(None, description="Where the incidents are read (keys below).")
    changes: ChangeTable | None = Field(None, description="Where the changes are read (keys below).")
    business_metrics: BusinessTable | None = Field(
        None, description="Where the business figures are read (keys below; `updated_column` is not used)."
    )

    @model_validator(mode="after")
    def _some_table(self) -> SqlOptions:
        if self.incidents is None and self.changes is None and self.business_metrics is None:
            raise ValueError("configure 'incidents', 'changes' and/or 'business_metrics' with a table")
        return self


@register
class SqlSource(itsm.ItsmSource):
    """Incidents and changes read from a database."""

    kind = "sql"
    options_model = SqlOptions

    @classmethod
    def offers(cls, options: dict[str, Any]) -> frozenset[str]:
        """The frames given a table: incidents, changes and/or business_metrics."""
        return frozenset(frame for frame in (*FRAMES, "business_metrics") if options.get(frame))

    @cached_property
    def engine(self) -> sa.Engine:
        try:
            return sa.create_engine(self.config.url, pool_pre_ping=True)
        except (ImportError, sa.exc.ArgumentError) as exc:
            raise SourceError(f"{self.name}: cannot use the database URL ({exc})") from None

    def _read(self, frame: str, spec: TableOptions, since: datetime) -> list[dict[str, Any]]:
        if frame == "business_metrics":
            query = select_business(spec.model_dump(), since)
        else:
            query = select(frame, spec.model_dump(), since)
        try:
            with self.engine.connect() as connection:
                return [dict(row) for row in connection.execute(query).mappings()]
        except sa.exc.SQLAlchemyError as exc:
            where = self.engine.url.render_as_string(hide_password=True)
            cause = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise SourceError(f"{self.name}: reading {frame} from {spec.table} at {where}: {cause}") from None

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        specs = {frame: getattr(self.config, frame) for frame in FRAMES if getattr(self.config, frame)}
        since = self.incremental.since(now)
        frames = {
            frame: parse_rows(frame, self._read(frame, spec, since), self.mappings, self.name)
            for frame, spec in specs.items()
        }
        merged = self.incremental.merge(now, frames) if frames else {}
        figures = self.config.business_metrics
        if figures is not None:
            since = now - timedelta(minutes=figures.window_m)
            merged["business_metrics"] = business_rows(self._read("business_metrics", figures, since), self.name)
        return merged

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
