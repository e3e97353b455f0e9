"""SQL on the real PostgreSQL: mapped columns, bound parameters, incremental reads, bad rows dropped."""

import logging
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from datasources.base import SourceError
from datasources.itsm.sql import SqlSource, select

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 18, 4, 0, tzinfo=UTC)
ROWS = [
    {
        "number": "INC-1",
        "summary": "Orders failing",
        "prio": "P2",
        "status": "WIP",
        "ci": "OGW",
        "opened": "2026-11-18 02:57:00+00",
        "acked": "2026-11-18 03:04:00+00",
        "closed": None,
        "team": "Trading Ops",
        "chg": "CHG-1",
        "touched": "2026-11-18 03:04:00+00",
    },
    {
        "number": "INC-2",
        "summary": "Quote latency",
        "prio": "P3",
        "status": "done",
        "ci": "quote-service",
        "opened": "2026-11-17 09:00:00+00",
        "acked": None,
        "closed": "2026-11-17 10:30:00+00",
        "team": None,
        "chg": None,
        "touched": "2026-11-17 10:30:00+00",
    },
    {
        "number": "INC-3",
        "summary": "Bad priority",
        "prio": "soon",
        "status": "WIP",
        "ci": None,
        "opened": "2026-11-18 01:00:00+00",
        "acked": None,
        "closed": None,
        "team": None,
        "chg": None,
        "touched": "2026-11-18 01:00:00+00",
    },
]
OPTIONS = {
    "incidents": {
        "table": "itsm.Incident View",
        "updated_column": "touched",
        "columns": {
            "incident_id": "number",
            "title": "summary",
            "priority": "prio",
            "state": "status",
            "service": "ci",
            "opened_at": "opened",
            "acknowledged_at": "acked",
            "resolved_at": "closed",
            "assignment_group": "team",
            "change_id": "chg",
            "runbook_url": None,
            "url": None,
        },
    },
    "priority_map": {"P2": 2, "P3": 3},
    "state_map": {"WIP": "in_progress", "done": "resolved"},
    "service_map": {"OGW": "order-gateway"},
}


@pytest.fixture
def itsm_db(postgres_url):
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA itsm"))
        conn.execute(
            sa.text(
                'CREATE TABLE itsm."Incident View" (number text primary key, summary text, prio text, status text, '
                "ci text, opened timestamptz, acked timestamptz, closed timestamptz, team text, chg text, "
                "touched timestamptz)"
            )
        )
        conn.execute(
            sa.text(
                'INSERT INTO itsm."Incident View" VALUES (:number, :summary, :prio, :status, :ci, :opened, :acked, '
                ":closed, :team, :chg, :touched)"
            ),
            ROWS,
        )
    yield engine
    engine.dispose()


def test_reads_mapped_columns_and_drops_bad_rows(itsm_db, postgres_url, caplog):
    source = SqlSource(name="itsm-db", options={"url": postgres_url, **OPTIONS})
    with caplog.at_level(logging.WARNING):
        frame = source.fetch(NOW)["incidents"].set_index("incident_id")
    source.close()
    assert list(frame.index) == ["INC-1", "INC-2"]
    assert "itsm-db: incidents record INC-3 rejected: priority 'soon'" in caplog.text
    first = frame.loc["INC-1"]
    assert (first.priority, first.state, first.service, first.change_id) == (2, "in_progress", "order-gateway", "CHG-1")
    assert first.opened_at == pd.Timestamp("2026-11-18 02:57", tz="UTC") and first.url is None
    assert frame.loc["INC-2", "resolved_at"] == pd.Timestamp("2026-11-17 10:30", tz="UTC")


def test_later_polls_read_only_updated_rows(itsm_db, postgres_url):
    source = SqlSource(name="itsm-db", options={"url": postgres_url, "overlap_s": 0, **OPTIONS})
    source.fetch(NOW)
    with itsm_db.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE itsm.\"Incident View\" SET status = 'done', closed = :t, touched = :t WHERE number = 'INC-1'"
            ),
            {"t": NOW + timedelta(seconds=30)},
        )
    query = select("incidents", OPTIONS["incidents"], NOW)
    with itsm_db.connect() as conn:
        assert [r.incident_id for r in conn.execute(query)] == ["INC-1"]
    merged = source.fetch(NOW + timedelta(minutes=1))["incidents"].set_index("incident_id")
    source.close()
    assert merged.loc["INC-1", "state"] == "resolved" and len(merged) == 2


def test_identifiers_are_quoted_and_values_bound(postgres_url):
    spec = {
        "table": 'itsm.incidents"; DROP TABLE x; --',
        "columns": {"title": 'summary" FROM y; --'},
        "updated_column": "touched",
    }
    sql = str(select("incidents", spec, NOW).compile(dialect=sa.create_engine(postgres_url).dialect))
    assert '"incidents""; DROP TABLE x; --"' in sql and '"summary"" FROM y; --"' in sql
    assert "touched >= %(since)s" in sql


def test_a_missing_table_is_a_source_error_without_the_password(postgres_url):
    url = sa.make_url(postgres_url).set(password="hunter2").render_as_string(hide_password=False)
    source = SqlSource(name="itsm-db", options={"url": url, "incidents": {"table": "nowhere"}})
    with pytest.raises(SourceError) as info:
        source.fetch(NOW)
    source.close()
    assert str(info.value).startswith("itsm-db: reading incidents from nowhere at ") and "hunter2" not in str(
        info.value
    )
