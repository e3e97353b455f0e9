"""Report submissions: the table written and read back, and the status of each report due at a moment."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboard.command import grading, submissions
from dashboard.db.history import History

T0 = datetime(2026, 12, 4, 1, 40, tzinfo=UTC)
NOW = pd.Timestamp(T0)
INITIAL = grading.Deadline("initial", "discovery", minutes=30)
SUMMARY = grading.Deadline("summary", "recovery", trading_days=5)
NONE = pd.DataFrame(columns=submissions.COLUMNS)


@pytest.fixture
def history(tmp_path):
    history = History(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    history.migrate()
    yield history
    history.close()


def test_submissions_are_appended_and_read_back_per_incident(history):
    with history.engine.begin() as connection:
        submissions.record(connection, "rt", "INC1", "initial", " CSRC-118 ", "alice", T0)
        submissions.record(connection, "rt", "INC1", "summary", "", "bob", T0 + timedelta(days=3))
        submissions.record(connection, "rt", "INC2", "initial", "", "alice", T0)
    one = submissions.for_incident(history.engine, "rt", "INC1")
    assert one[["report", "reference", "actor"]].values.tolist() == [
        ["initial", "CSRC-118", "alice"],
        ["summary", None, "bob"],  # no reference: none stored, not an empty string
    ]
    assert one["at"].tolist() == [pd.Timestamp(T0), pd.Timestamp(T0 + timedelta(days=3))]
    assert submissions.for_incident(history.engine, "jira", "INC1").empty


@pytest.mark.parametrize(("report", "reference"), [("final", ""), ("", ""), ("initial", "x" * 201)])
def test_a_submission_that_is_not_valid_is_refused(history, report, reference):
    with history.engine.begin() as connection, pytest.raises(ValueError):
        submissions.record(connection, "rt", "INC1", report, reference, "alice", T0)
    assert submissions.for_incident(history.engine, "rt", "INC1").empty


def _row(report: str, minutes: int, reference=None) -> dict:
    return {"report": report, "reference": reference, "actor": "alice", "at": NOW + pd.Timedelta(minutes=minutes)}


def test_each_report_due_has_its_status():
    due = [(INITIAL, NOW - pd.Timedelta(minutes=5)), (SUMMARY, None)]
    found = submissions.statuses(due, NONE, None, NOW, 30)
    assert [(r.report, r.status) for r in found] == [("initial", "overdue"), ("summary", "waiting")]

    due = [(INITIAL, NOW + pd.Timedelta(minutes=5)), (SUMMARY, NOW + pd.Timedelta(days=6))]
    found = submissions.statuses(due, NONE, NOW - pd.Timedelta(hours=1), NOW, 30)
    assert [(r.report, r.status) for r in found] == [("initial", "due"), ("summary", "due")]


def test_the_latest_submission_of_a_report_is_shown_even_when_no_longer_due():
    done = pd.DataFrame([_row("initial", 1, "A-1"), _row("initial", 9, "A-2"), _row("written", 3)])
    found = submissions.statuses([(INITIAL, NOW - pd.Timedelta(minutes=5))], done, None, NOW, 30)
    assert [(r.report, r.status) for r in found] == [("initial", "submitted"), ("written", "submitted")]
    assert found[0].submission["reference"] == "A-2"  # a later record (a correction) is the one shown
    assert pd.isna(found[1].due)  # the grade in force does not make it due


@pytest.mark.parametrize(("ended_days_ago", "status"), [(29, "overdue"), (31, "unrecorded"), (None, "overdue")])
def test_an_old_incident_with_nothing_recorded_says_so_instead_of_counting_on(ended_days_ago, status):
    ended = None if ended_days_ago is None else NOW - pd.Timedelta(days=ended_days_ago)
    due = [(INITIAL, NOW - pd.Timedelta(days=40))]
    assert submissions.statuses(due, NONE, ended, NOW, 30)[0].status == status


def test_a_grade_that_makes_no_report_due_shows_none():
    assert submissions.statuses([], NONE, None, NOW, 30) == []


def test_the_record_window_is_read_from_the_table():
    assert grading.load().record_window_days == 30
    text = grading.DEFAULT_TABLE.read_text().replace("record_window_days: 30", "record_window_days: 0")
    with pytest.raises(grading.ConfigError, match="record_window_days"):
        grading.parse(text)
