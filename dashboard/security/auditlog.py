"""Reading the audit log for auditors: a filter from URL values, a page of rows, the CSV export.

``AuditFilter.parse(actor, action, from, to)`` checks each value with ``urlinput`` (so a value from
a crafted address or callback is refused before it reaches a query) and the filter becomes bound
parameters of one SELECT: nothing the caller sends is ever part of the SQL text. Rows come newest
first, in the order the log was appended (``id``). ``csv_chunks`` streams the rows matching a filter,
reading ``CHUNK`` rows per query by id (the log is append-only, so a row seen is never changed and
rows appended meanwhile never slip into the export), and stops after ``EXPORT_CAP`` rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import pandas as pd
import sqlalchemy as sa

from dashboard.db.tables import audit_log
from dashboard.security import policy, urlinput

PAGE_SIZE = 200
EXPORT_CAP = 100_000
CHUNK = 1_000
COLUMNS = ("id", "at", "actor", "roles", "address", "action", "target", "allowed", "detail")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet reads a cell starting so as a formula


@dataclass(frozen=True)
class AuditFilter:
    """Which rows: an exact actor and action, and an open time range (``start`` <= at < ``end``)."""

    actor: str | None = None
    action: str | None = None
    raw_from: str | None = None
    raw_to: str | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None

    @classmethod
    def parse(
        cls,
        actor: str | None,
        action: str | None,
        raw_from: str | None,
        raw_to: str | None,
        now: datetime | None = None,
    ) -> AuditFilter:
        """The filter these URL values ask for; raise ``urlinput.UrlInputError`` for a value outside its kind."""
        start, end = urlinput.instant("from", raw_from, now), urlinput.instant("to", raw_to, now)
        if start is not None and end is not None and start >= end:
            raise urlinput.UrlInputError("from must be before to")
        return cls(
            urlinput.clean("actor", actor),
            urlinput.clean("action", action),
            raw_from or None,
            raw_to or None,
            start,
            end,
        )

    def query(self, **extra: str) -> str:
        """The query string that asks for this filter again (relative times stay relative)."""
        values = {"actor": self.actor, "action": self.action, "from": self.raw_from, "to": self.raw_to, **extra}
        return urlencode({key: value for key, value in values.items() if value})

    def where(self) -> list[sa.ColumnElement[bool]]:
        conditions = []
        if self.actor:
            conditions.append(audit_log.c.actor == self.actor)
        if self.action:
            conditions.append(audit_log.c.action == self.action)
        if self.start is not None:
            conditions.append(audit_log.c.at >= self.start.to_pydatetime())
        if self.end is not None:
            conditions.append(audit_log.c.at < self.end.to_pydatetime())
        return conditions


def count(engine: sa.Engine, found: AuditFilter) -> int:
    """How many rows match ``found``."""
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(audit_log).where(*found.where())).scalar_one()


def page(engine: sa.Engine, found: AuditFilter, number: int = 1, size: int = PAGE_SIZE) -> pd.DataFrame:
    """Page ``number`` (from 1) of the rows matching ``found``, newest first, ``size`` rows at most."""
    query = (
        sa.select(*(audit_log.c[name] for name in COLUMNS))
        .where(*found.where())
        .order_by(audit_log.c.id.desc())
        .offset((max(number, 1) - 1) * size)
        .limit(size)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return pd.DataFrame([row._asdict() for row in rows], columns=list(COLUMNS))


def actions() -> list[str]:
    """Every action the application audits (the writes and the audited reads the policy names), for the page's
    choice; known without reading the log, which may be long."""
    return sorted({*policy.WRITERS, *policy.AUDITED_READS.values()})


def _cell(value) -> str:
    """A CSV cell: times in ISO 8601 UTC, and text a spreadsheet would run as a formula quoted with ``'``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _line(values) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()


def csv_chunks(engine: sa.Engine, found: AuditFilter, cap: int = EXPORT_CAP) -> Iterator[str]:
    """The rows matching ``found`` as CSV text, header first, newest first, at most ``cap`` rows,
    read ``CHUNK`` rows per query so a long export holds no connection between chunks."""
    yield "\ufeff" + _line(COLUMNS)
    sent, below = 0, None
    while sent < cap:
        query = sa.select(*(audit_log.c[name] for name in COLUMNS)).where(*found.where())
        if below is not None:
            query = query.where(audit_log.c.id < below)
        query = query.order_by(audit_log.c.id.desc()).limit(min(CHUNK, cap - sent))
        with engine.connect() as connection:
            rows = connection.execute(query).all()
        if not rows:
            return
        yield "".join(_line(_cell(value) for value in row) for row in rows)
        sent, below = sent + len(rows), rows[-1].id
