"""History on SQLite and the real PostgreSQL: migrations, upserts, status log and reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dashboard.db.history import History
from dashboard.db.tables import metadata
from datasources.base import validate

HEAD_REVISION = "0015"  # the newest migration: the one place to change when another is added
T0 = pd.Timestamp("2024-03-01T08:00:00", tz="UTC")


def ts(*values) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True))


def incidents(n: int = 2, state: str = "new", resolved_at=None) -> pd.DataFrame:
    ids = [f"INC{i:06d}" for i in range(n)]
    return validate(
        "incidents",
        pd.DataFrame(
            {
                "incident_id": ids,
                "title": [f"Order gateway errors {i}" for i in range(n)],
                "priority": np.arange(n, dtype="int64") % 5 + 1,
                "state": [state] * n,
                "service": ["order-gateway"] * n,
                "opened_at": T0 + pd.to_timedelta(np.arange(n), unit="h"),
                "acknowledged_at": ts(*[None] * n),
                "resolved_at": ts(*[resolved_at] * n),
                "assignment_group": [None] * n,
                "change_id": ["CHG0001" if i == 0 else None for i in range(n)],
                "runbook_url": [None] * n,
                "source": ["servicenow"] * n,
                "url": [f"https://itsm.example/{i}" for i in ids],
            }
        ),
    )


def changes(state: str = "scheduled", actual_start=None) -> pd.DataFrame:
    return validate(
        "changes",
        pd.DataFrame(
            {
                "change_id": ["CHG0001", "CHG0002"],
                "title": ["Upgrade matching engine", "Rotate certificates"],
                "service": ["matching-engine", None],
                "type": ["normal", "standard"],
                "state": [state, "new"],
                "planned_start": ts("2024-03-01T10:00Z", None),
                "planned_end": ts("2024-03-01T12:00Z", None),
                "actual_start": ts(actual_start, "2024-03-03T09:00Z"),
                "actual_end": ts(None, None),
                "outcome": ["unknown", "unknown"],
                "source": ["servicenow", "servicenow"],
                "url": [None, None],
            }
        ),
    )


def chaos_runs(status: str = "running") -> pd.DataFrame:
    return validate(
        "chaos_runs",
        pd.DataFrame(
            {
                "run_id": ["run-1", "run-2"],
                "experiment": ["kill-pod", "latency"],
                "service": ["order-gateway", None],
                "fault": [None, "network-delay"],
                "started_at": ts("2024-03-01T08:00Z", "2024-03-02T08:00Z"),
                "ended_at": ts(None, "2024-03-02T08:05Z"),
                "status": [status, "failed"],
                "deviated": np.array([False, True]),
                "probe_success_ratio": [np.nan, 0.5],
                "recovery_s": [np.nan, 42.0],
                "source": ["litmus", "litmus"],
                "url": [None, None],
            }
        ),
    )


def source_status(at: str, ok: bool) -> pd.DataFrame:
    return validate(
        "source_status",
        pd.DataFrame(
            {
                "source": ["prometheus", "servicenow"],
                "kind": ["prometheus", "servicenow"],
                "last_attempt": ts(at, at),
                "last_success": ts(at if ok else None, at),
                "ok": np.array([ok, True]),
                "error": [None if ok else "timeout", None],
                "rows": np.array([10, 0], dtype="int64"),
                "duration_ms": [12.5, np.nan],
            }
        ),
    )


def assert_same(frame: str, read: pd.DataFrame, written: pd.DataFrame) -> None:
    """``read`` is contract-valid and its contract columns equal ``written`` (timestamps in UTC)."""
    read = validate(frame, read)
    for column in [c for c in written.columns if not c.startswith("x_")]:
        left, right = read[column].reset_index(drop=True), written[column].reset_index(drop=True)
        if isinstance(right.dtype, pd.DatetimeTZDtype):
            assert str(left.dtype.tz) == "UTC", column
            left, right = left.astype("datetime64[ns, UTC]"), right.astype("datetime64[ns, UTC]")
        elif not pd.api.types.is_numeric_dtype(right):
            left, right = (s.astype(object).where(s.notna(), None) for s in (left, right))
        pd.testing.assert_series_equal(left, right, check_dtype=False, check_names=False, obj=column)


def test_migrate_is_idempotent_and_matches_metadata(history):
    history.migrate()
    with history.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert context.get_current_revision() == HEAD_REVISION
        assert compare_metadata(context, metadata) == []


def test_upsert_incidents_updates_in_place(history):
    first = incidents()
    assert history.upsert("incidents", first) == 2
    before = history.read("incidents")
    assert_same("incidents", before, first)

    resolved = incidents(state="resolved", resolved_at="2024-03-01T09:30:00Z")
    assert history.upsert("incidents", resolved) == 2
    after = history.read("incidents")
    assert len(after) == 2
    assert_same("incidents", after, resolved)
    assert after["resolved_at"].eq(pd.Timestamp("2024-03-01T09:30:00Z")).all()
    pd.testing.assert_series_equal(after["x_first_seen_at"], before["x_first_seen_at"])
    assert (after["x_updated_at"] >= before["x_updated_at"]).all()

    later = history.read("incidents", since=T0 + pd.Timedelta(minutes=30))
    assert later["incident_id"].tolist() == ["INC000001"]


def test_upsert_changes(history):
    started = changes(state="implement", actual_start="2024-03-01T10:05Z")
    history.upsert("changes", changes())
    history.upsert("changes", started)
    stored = history.read("changes")
    assert len(stored) == 2
    assert_same("changes", stored.sort_values("change_id"), started)
    later = history.read("changes", since=pd.Timestamp("2024-03-02", tz="UTC"))
    assert later["change_id"].tolist() == ["CHG0002"]
    # CHG0001 was planned before the cut-off but started after it.
    assert len(history.read("changes", since=pd.Timestamp("2024-03-01T10:01Z").to_pydatetime())) == 2


def test_upsert_chaos_runs(history):
    history.upsert("chaos_runs", chaos_runs())
    history.upsert("chaos_runs", chaos_runs(status="passed"))
    stored = history.read("chaos_runs")
    assert_same("chaos_runs", stored, chaos_runs(status="passed"))
    assert stored["deviated"].dtype == bool
    assert stored["probe_success_ratio"].isna().tolist() == [True, False]
    later = history.read("chaos_runs", since=pd.Timestamp("2024-03-02", tz="UTC"))
    assert later["run_id"].tolist() == ["run-2"]


def test_record_status_appends(history):
    polls = [source_status("2024-03-01T08:00Z", ok=True), source_status("2024-03-01T08:01Z", ok=False)]
    for poll in polls:
        history.record_status(poll)
    stored = history.read("source_status")
    assert len(stored) == 4
    assert_same("source_status", stored, pd.concat(polls))
    recent = history.read("source_status", since=pd.Timestamp("2024-03-01T08:00:30Z"))
    assert recent["error"].tolist() == ["timeout", None]


def test_extra_columns_ignored_and_unknown_frame_rejected(history):
    frame = incidents().assign(x_raw=["a", "b"], x_score=[1.0, 2.0])
    assert history.upsert("incidents", frame) == 2
    assert not any(c in history.read("incidents").columns for c in ("x_raw", "x_score"))
    with pytest.raises(ValueError):
        history.upsert("alerts", frame)
    with pytest.raises(ValueError):
        history.upsert("source_status", source_status("2024-03-01T08:00Z", True))


def test_empty_frames(history):
    assert history.upsert("incidents", incidents(n=0)) == 0
    history.record_status(source_status("2024-03-01T08:00Z", True).iloc[:0])
    stored = history.read("incidents")
    assert stored.empty
    validate("incidents", stored)


def test_large_upsert(history):
    big = incidents(n=10_000)
    assert history.upsert("incidents", big) == 10_000
    assert history.upsert("incidents", incidents(n=10_000, state="closed")) == 10_000
    stored = history.read("incidents")
    assert len(stored) == 10_000
    assert stored["state"].eq("closed").all()


def test_repeated_key_in_a_batch_keeps_the_last_row(history):
    frame = pd.concat([incidents(), incidents(state="closed")], ignore_index=True)
    assert history.upsert("incidents", frame) == 2
    assert history.read("incidents")["state"].tolist() == ["closed", "closed"]


def test_default_url_creates_the_folder(tmp_path, monkeypatch):
    import dashboard.db.history as module

    monkeypatch.setattr(module, "DEFAULT_SQLITE", tmp_path / "opscenter" / "history.sqlite3")
    assert module.default_url() == f"sqlite:///{tmp_path / 'opscenter' / 'history.sqlite3'}"
    assert (tmp_path / "opscenter").is_dir()
    store = History()
    store.migrate()
    assert store.read("incidents").empty
    store.close()


def test_maturity_records_are_append_only(history):
    import sqlalchemy as sa

    from dashboard.db.tables import maturity_assessments, maturity_evidence
    from dashboard.maturity import assessments
    from dashboard.maturity.evidence import Evaluation

    at = T0.to_pydatetime()
    assessments.record_evidence(history.engine, [Evaluation("MON-01", "trace_coverage", "q", 0.5, False, "d" * 64)], at)
    with history.engine.begin() as connection:
        assessments.append(connection, "MON-01", "pass", "li.wei", "seen", ["https://x"], "fail", at)
    assert assessments.history(history.engine)["evidence_links"].iloc[0] == ["https://x"]
    assert (
        assessments.latest_evidence(history.engine)["passed"].iloc[0] is False
        or not assessments.latest_evidence(history.engine)["passed"].iloc[0]
    )
    for table in (maturity_evidence, maturity_assessments):
        for statement in (sa.update(table).values(item_id="X"), sa.delete(table)):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with history.engine.begin() as connection:
                    connection.execute(statement)


def _migrate_to(history, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from dashboard.db.history import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with history.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_migration_0005_adds_findings_and_keeps_older_evaluations(history):
    """Rows written before 0005 read back with no findings; downgrading drops the column and keeps the rows."""
    import sqlalchemy as sa

    from dashboard.db.tables import maturity_evidence
    from dashboard.maturity import assessments
    from dashboard.maturity.evidence import Evaluation
    from dashboard.maturity.findings import finding

    _migrate_to(history, "0004")
    columns = lambda: {c["name"] for c in sa.inspect(history.engine).get_columns("maturity_evidence")}  # noqa: E731
    assert "findings" not in columns()
    older = {
        "item_id": "MON-06",
        "evaluated_at": T0.to_pydatetime(),
        "rule": "trace_coverage",
        "query": "q",
        "value": 0.5,
        "passed": False,
        "digest": "d" * 64,
    }
    with history.engine.begin() as connection:
        connection.execute(sa.insert(maturity_evidence).values(**older))
    history.migrate()
    assert "findings" in columns()
    found = (finding("p95", "order-gateway", 812, 500, "ms", ">"),)
    assessments.record_evidence(
        history.engine,
        [Evaluation("UX-02", "latency_max", "q", 0.5, False, "e" * 64, found)],
        (T0 + pd.Timedelta(hours=1)).to_pydatetime(),
    )
    read = assessments.evidence(history.engine).set_index("item_id")["findings"]
    assert read["MON-06"] == [] and read["UX-02"] == list(found)

    _migrate_to(history, "0004")
    assert "findings" not in columns()
    with history.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(sa.table("maturity_evidence"))).scalar() == 2
    history.migrate()
    assert assessments.evidence(history.engine)["findings"].tolist() == [[], []]
