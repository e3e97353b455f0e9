"""The incident report's content in English and Chinese: Markdown text, and PDF text read back with poppler."""

import json

import pandas as pd
import pytest

from dashboard.analytics import incidents
from dashboard.command import grading, incident_pdf, incident_report, submissions
from tests import poppler

SH = "Asia/Shanghai"


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=SH).tz_convert("UTC")


@pytest.fixture
def facts() -> incident_report.Facts:
    table = grading.load()
    incident = pd.Series(
        {
            "incident_id": "INC42",
            "title": "Orders rejected | gateway",
            "priority": 1,
            "state": "resolved",
            "service": "order-gateway",
            "opened_at": stamp("2026-12-04 09:40"),
            "acknowledged_at": stamp("2026-12-04 09:43"),
            "resolved_at": stamp("2026-12-04 10:25"),
            "source": "rt",
        }
    )
    minutes = grading.minutes_in_session(incident["opened_at"], incident["resolved_at"], grading.calendar.MARKETS["cn"])
    proposal = grading.propose(table, "order-gateway", 1, minutes, ("equity-trading", "margin"))
    actions = pd.DataFrame(
        {
            "at": [stamp("2026-12-04 09:45")],
            "actor": ["alice"],
            "action": ["note"],
            "detail": [json.loads('{"text": "Failover to site B", "public": true}')],
        }
    )
    decisions = pd.DataFrame(
        {
            "grade": ["major"],
            "proposed": ["major"],
            "session_minutes": [minutes],
            "reason": ["Trading interrupted 45 minutes"],
            "actor": ["alice"],
            "at": [stamp("2026-12-04 10:30")],
        }
    )
    changes = pd.DataFrame(
        {
            "change_id": ["CHG7"],
            "title": ["Gateway 4.2"],
            "service": ["order-gateway"],
            "actual_start": [pd.NaT],  # never started as recorded: the report gives the planned start
            "planned_start": [stamp("2026-12-04 08:00")],
            "outcome": ["failed"],
        }
    )
    change = incidents.recent_changes(incident, changes).iloc[0]
    due = grading.due(table, "major", incident["opened_at"], incident["resolved_at"], grading.calendar.MARKETS["cn"])
    submitted = pd.DataFrame(
        {"report": ["initial"], "reference": ["CSRC-118"], "actor": ["bob"], "at": [stamp("2026-12-04 10:05")]}
    )
    generated = stamp("2026-12-04 11:00")
    return incident_report.Facts(
        center="Ops",
        incident=incident,
        proposal=proposal,
        decisions=decisions,
        actions=actions,
        reports=submissions.statuses(due, submitted, incident["resolved_at"], generated, table.record_window_days),
        submissions=submitted,
        change=change,
        tier=1,
        generated=generated,
        tz=SH,
    )


def test_the_markdown_report_in_english(facts):
    text = incident_report.markdown(facts, "en")
    assert text.startswith("# Incident report INC42\n")
    assert "| Incident | INC42 · Orders rejected \\| gateway |" in text  # a pipe in a cell is escaped
    assert "| Duration in trading session | 45 min |" in text
    assert "Proposed grade: Major (重大)" in text
    assert "- 45 min while the A-share market was in session" in text
    assert "- meets the Major (重大) rule: tier 1, at least 30 min in session" in text
    assert "Confirmed: Major (重大), by alice at 2026-12-04 10:30 CST: Trading interrupted 45 minutes" in text
    assert (
        "| Initial report | 2026-12-04 10:10 CST | marked submitted 2026-12-04 10:05 CST by bob (ref. CSRC-118) |"
        in text
    )
    assert "| Summary report | 2026-12-12 00:00 CST | not yet due |" in text
    assert "Business chains: equity-trading, margin" in text
    assert "CHG7 · Gateway 4.2" in text and "started 2026-12-04 08:00 CST, outcome: failed" in text
    timeline = text.split("## Timeline")[1]
    order = ["09:40 CST | – | New", "09:43 CST | – | In progress", "09:45 CST | alice | status update: Failover"]
    positions = [timeline.index(row) for row in order]
    assert positions == sorted(positions)
    assert "10:30 CST | alice | grade set to Major (重大): Trading interrupted 45 minutes" in timeline
    assert "10:05 CST | bob | Initial report marked submitted (ref. CSRC-118)" in timeline


def test_the_markdown_report_in_chinese(facts):
    text = incident_report.markdown(facts, "zh")
    assert text.startswith("# 网络安全事件报告 INC42\n")
    assert "建议定级：重大" in text
    assert "| 交易时段内持续时间 | 45 分钟 |" in text
    assert "确认定级：重大，alice 于 2026-12-04 10:30 CST：Trading interrupted 45 minutes" in text
    assert "| 初步报告 | 2026-12-04 10:10 CST | bob 于 2026-12-04 10:05 CST 标记为已报送（编号 CSRC-118） |" in text
    assert "| 总结报告 | 2026-12-12 00:00 CST | 尚未到期 |" in text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            [
                "Incident report INC42",
                "Proposed grade: Major (重大)",
                "Duration in trading session 45 min",
                "marked submitted 2026-12-04 10:05 CST by bob (ref. CSRC-118)",
            ],
        ),
        (
            "zh",
            [
                "网络安全事件报告 INC42",
                "建议定级：重大",
                "交易时段内持续时间 45 分钟",
                "业务链：equity-trading, margin",
                "标记为已报送（编号 CSRC-118）",
            ],
        ),
    ],
)
def test_the_pdf_report_reads_back(facts, lang, expected):
    pdf = incident_pdf.pdf(facts, lang)
    words = poppler.words(pdf)
    for text in expected:
        assert " ".join(text.split()) in words
    assert "STSong-Light" in " ".join(poppler.fonts(pdf))
    assert pdf == incident_pdf.pdf(facts, lang)  # invariant: the same facts, the same bytes


def test_an_unconfirmed_grade_without_a_change_says_so(facts):
    bare = incident_report.Facts(
        **{**facts.__dict__, "decisions": facts.decisions.iloc[0:0], "change": None, "actions": facts.actions.iloc[0:0]}
    )
    text = incident_report.markdown(bare, "en")
    assert "Not yet confirmed by the duty manager." in text
    assert "No changes on this service in that time" in text


def test_reports_with_nothing_recorded_say_so_and_a_grade_without_reports_says_none_are_due(facts):
    overdue = [submissions.ReportStatus("initial", facts.incident["opened_at"], "overdue")]
    old = [submissions.ReportStatus("summary", facts.incident["resolved_at"], "unrecorded")]
    for reports, expected in ((overdue, "| overdue, no submission recorded |"), (old, "| no submission recorded |")):
        text = incident_report.markdown(incident_report.Facts(**{**facts.__dict__, "reports": reports}), "en")
        assert expected in text
    text = incident_report.markdown(incident_report.Facts(**{**facts.__dict__, "reports": []}), "en")
    assert "No report is due for this grade." in text and "| Report |" not in text
