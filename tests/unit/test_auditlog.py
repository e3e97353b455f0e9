"""The audit log's filter, pages and CSV export, on a migrated history database of each dialect."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dashboard.db.tables import audit_log
from dashboard.security import auditlog, policy
from dashboard.security.access import AccessStore
from dashboard.security.auditlog import AuditFilter
from dashboard.security.urlinput import UrlInputError

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOSTILE = [
    "<script>alert(1)</script>",
    "' OR '1'='1",
    "alice'; DELETE FROM audit_log; --",
    "../../etc/passwd",
    "a\x00b",
    "x" * 300,
    "%",
    "alice\r\nbob",
]


def row(at: datetime, actor="alice", action="assessment.write", allowed=True, target="C1", detail=None) -> dict:
    return {
        "at": at,
        "actor": actor,
        "roles": "manager",
        "address": "127.0.0.1",
        "action": action,
        "target": target,
        "allowed": allowed,
        "detail": detail,
    }


@pytest.fixture
def engine(database_url):
    """A history database (SQLite, then PostgreSQL) whose audit log holds 30 rows, one a minute up to NOW:
    alice, bob and a display alternating, every third an export, every fifth refused."""
    access = AccessStore(database_url)
    access.migrate()
    actors = ("alice", "bob", "display:lobby-wall")
    rows = [
        row(
            NOW - timedelta(minutes=29 - i),
            actor=actors[i % 3],
            action="audit.export" if i % 3 == 2 else "assessment.write",
            allowed=i % 5 != 0,
            target=f"T{i}",
        )
        for i in range(30)
    ]
    with access.engine.begin() as connection:
        connection.execute(sa.insert(audit_log), rows)
    yield access.engine
    access.close()


def targets(frame) -> list[str]:
    return list(frame["target"])


def test_no_filter_pages_every_row_newest_first(engine):
    found = AuditFilter.parse(None, None, None, None)
    assert auditlog.count(engine, found) == 30
    first, last = auditlog.page(engine, found, 1, size=12), auditlog.page(engine, found, 3, size=12)
    assert targets(first) == [f"T{i}" for i in range(29, 17, -1)]
    assert targets(last) == [f"T{i}" for i in range(5, -1, -1)]
    assert auditlog.page(engine, found, 4, size=12).empty


def test_filter_by_actor_action_and_time(engine):
    assert targets(auditlog.page(engine, AuditFilter.parse("bob", None, None, None))) == [
        f"T{i}" for i in range(28, -1, -3)
    ]
    exports = AuditFilter.parse(None, "audit.export", None, None)
    assert set(auditlog.page(engine, exports)["action"]) == {"audit.export"} and auditlog.count(engine, exports) == 10
    recent = AuditFilter.parse(None, None, "now-10m", "now-5m", now=NOW)  # start <= at < end
    assert targets(auditlog.page(engine, recent)) == [f"T{i}" for i in range(23, 18, -1)]
    iso = AuditFilter.parse("display:lobby-wall", "audit.export", "2026-03-02T11:50:00Z", None, now=NOW)
    assert targets(auditlog.page(engine, iso)) == ["T29", "T26", "T23", "T20"]
    assert auditlog.count(engine, AuditFilter.parse("nobody", None, None, None)) == 0


def test_the_actions_to_choose_from_are_every_audited_write_and_read():
    assert auditlog.actions() == sorted({*policy.WRITERS, "audit.read"})
    assert {"assessment.write", "audit.export", "incident.acknowledge", "token.create"} <= set(auditlog.actions())


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["actor", "action", "from", "to"])
def test_a_hostile_filter_value_is_refused_before_any_query(field, value):
    values = {"actor": None, "action": None, "from": None, "to": None, field: value}
    with pytest.raises(UrlInputError) as refused:
        AuditFilter.parse(values["actor"], values["action"], values["from"], values["to"])
    assert value not in str(refused.value) or len(value) <= 40  # quoted, at most 40 characters


@pytest.mark.parametrize(
    "values", [(["alice"], None, None, None), (None, {"$ne": 1}, None, None), (None, None, 5, None)]
)
def test_a_value_that_is_not_text_is_refused(values):
    with pytest.raises(UrlInputError):
        AuditFilter.parse(*values)


def test_a_range_must_run_forwards():
    with pytest.raises(UrlInputError, match="before"):
        AuditFilter.parse(None, None, "now", "now-1h", now=NOW)


def test_a_valid_name_that_looks_like_sql_matches_nothing_and_changes_nothing(engine):
    found = AuditFilter.parse("alice--", "a.b", None, None)
    assert auditlog.count(engine, found) == 0
    assert auditlog.count(engine, AuditFilter()) == 30


def test_the_query_asks_for_the_same_filter_again():
    found = AuditFilter.parse("bob", "audit.export", "now-7d", None, now=NOW)
    assert found.query() == "actor=bob&action=audit.export&from=now-7d"
    assert AuditFilter().query(page="2") == "page=2"


def read_csv(engine, found, **kwargs) -> list[dict]:
    text = "".join(auditlog.csv_chunks(engine, found, **kwargs))
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_the_csv_holds_every_matching_row_across_chunks(engine, monkeypatch):
    monkeypatch.setattr(auditlog, "CHUNK", 4)
    rows = read_csv(engine, AuditFilter.parse(None, "audit.export", None, None))
    assert [r["target"] for r in rows] == [f"T{i}" for i in range(29, 0, -3)]
    assert list(rows[0]) == list(auditlog.COLUMNS)
    assert rows[0]["at"] == "2026-03-02T12:00:00.000000Z" and rows[0]["allowed"] == "True"
    assert rows[0]["actor"] == "display:lobby-wall"


def test_the_csv_stops_at_its_cap(engine, monkeypatch):
    monkeypatch.setattr(auditlog, "CHUNK", 4)
    rows = read_csv(engine, AuditFilter(), cap=10)
    assert [r["target"] for r in rows] == [f"T{i}" for i in range(29, 19, -1)]


def test_the_csv_neutralises_spreadsheet_formulas(engine):
    with engine.begin() as connection:
        connection.execute(
            sa.insert(audit_log), row(NOW, actor="=HYPERLINK(1)", target="@SUM(A1)", detail='{"a": "-1"}')
        )
    first = read_csv(engine, AuditFilter(), cap=1)[0]
    assert (first["actor"], first["target"], first["detail"]) == ("'=HYPERLINK(1)", "'@SUM(A1)", '{"a": "-1"}')
