"""The incident report for the regulator, in Chinese or English, as Markdown and as PDF (``incident_pdf``).

Both are made from one list of sections (``sections``): the summary, the grade proposed and confirmed with
their reasons, the reports due with their submissions, the affected service and chains, the change before the
incident, and the timeline from the incident's own record and the actions, grade decisions and submissions
recorded in opscenter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from dashboard.analytics.incidents import change_started, milestones
from dashboard.command.actions import did
from dashboard.command.grading import Proposal
from dashboard.command.submissions import ReportStatus
from dashboard.i18n import t

TIME = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Facts:
    """What the report says of one incident."""

    center: str
    incident: pd.Series
    proposal: Proposal
    decisions: pd.DataFrame  # grade_decisions.for_incident
    actions: pd.DataFrame  # actions.for_incident
    reports: list[ReportStatus]  # submissions.statuses at ``generated``
    submissions: pd.DataFrame  # submissions.for_incident
    change: pd.Series | None  # the suspect change before the incident
    tier: int | None
    generated: pd.Timestamp
    tz: str


@dataclass(frozen=True)
class Section:
    """A heading and either lines of text or a table (``rows`` after a ``head`` row)."""

    title: str
    lines: tuple[str, ...] = ()
    head: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    widths: tuple[float, ...] = ()  # shares of the page's width per column (default: by the column count)


def _at(value, tz: str) -> str:
    return "–" if value is None or pd.isna(value) else pd.Timestamp(value).tz_convert(tz).strftime(f"{TIME} %Z")


def grade_name(grade: str, lang: str) -> str:
    """A grade's name; in English with the regulator's Chinese term beside it."""
    return t(f"grading.grade.{grade}", lang) + ("" if lang == "zh" else f" ({t(f'grading.grade.{grade}', 'zh')})")


def _reference(row: pd.Series, lang: str) -> str:
    return t("grading.reference", lang, reference=row["reference"]) if row["reference"] else ""


def submitted(row: pd.Series, at: str, lang: str) -> str:
    """A submission (a row of ``submissions.for_incident``) in words: "marked submitted 12-04 10:20 by alice
    (ref. CSRC-118)"."""
    return t("grading.submitted", lang, at=at, actor=row["actor"]) + _reference(row, lang)


def reason_texts(proposal: Proposal, lang: str) -> list[str]:
    """The proposal's reasons in words."""
    words = []
    for kind, values in proposal.reasons:
        if kind in ("rule", "rule_chains"):
            values = {**values, "grade": grade_name(values["grade"], lang)}
        if kind == "session":
            values = {**values, "market": t(f"grading.market.{values['market']}", lang)}
        words.append(t(f"grading.reason.{kind}", lang, **values))
    return words


def _grade_lines(facts: Facts, lang: str) -> tuple[str, ...]:
    proposal = facts.proposal
    lines = [t("grading.proposed", lang, grade=grade_name(proposal.grade, lang))]
    lines += [f"· {text}" for text in reason_texts(proposal, lang)]
    if len(facts.decisions):
        latest = facts.decisions.iloc[-1]
        lines.append(
            t(
                "grading.confirmed_by",
                lang,
                grade=grade_name(latest["grade"], lang),
                actor=latest["actor"],
                at=_at(latest["at"], facts.tz),
                reason=latest["reason"],
            )
        )
    else:
        lines.append(t("grading.unconfirmed", lang))
    return tuple(lines)


def _submitted_event(row: pd.Series, lang: str) -> str:
    report = t(f"grading.report.{row['report']}", lang)
    return t("grading.timeline_submitted", lang, report=report, reference=_reference(row, lang))


def _due_row(report: ReportStatus, facts: Facts, lang: str) -> tuple[str, str, str]:
    if report.due is None:
        due = t("grading.after_recovery", lang)
    else:
        due = t("report.not_due", lang) if pd.isna(report.due) else _at(report.due, facts.tz)
    if report.status == "submitted":
        status = submitted(report.submission, _at(report.submission["at"], facts.tz), lang)
    else:
        status = t(f"report.status_{report.status}", lang)
    return (t(f"grading.report.{report.report}", lang), due, status)


def _timeline(facts: Facts, lang: str) -> tuple[tuple[str, ...], ...]:
    events = [(at, "", t(f"incidents.state_{state}", lang)) for state, at in milestones(facts.incident)]
    events += [(row.at, row.actor, did(row.action, row.detail, lang)) for row in facts.actions.itertuples()]
    events += [
        (row.at, row.actor, t("grading.timeline", lang, grade=grade_name(row.grade, lang), reason=row.reason))
        for row in facts.decisions.itertuples()
    ]
    events += [(row["at"], row["actor"], _submitted_event(row, lang)) for _, row in facts.submissions.iterrows()]
    events.sort(key=lambda event: pd.Timestamp(event[0]))
    return tuple((_at(at, facts.tz), actor or "–", what) for at, actor, what in events)


def sections(facts: Facts, lang: str) -> list[Section]:
    """The report's sections in ``lang``."""
    incident, proposal = facts.incident, facts.proposal
    summary = (
        (t("report.incident", lang), f"{incident['incident_id']} · {incident['title']}"),
        (t("report.priority", lang), f"P{incident['priority']}"),
        (t("report.state", lang), t(f"incidents.state_{incident['state']}", lang)),
        (t("report.source", lang), str(incident["source"])),
        (t("incidents.opened", lang), _at(incident["opened_at"], facts.tz)),
        (t("incidents.resolved", lang), _at(incident["resolved_at"], facts.tz)),
        (t("report.session_minutes", lang), t("report.minutes", lang, minutes=proposal.session_minutes)),
    )
    due = tuple(_due_row(report, facts, lang) for report in facts.reports)
    affected = (
        t("report.service", lang, service=incident["service"] or "–", tier=facts.tier or "–"),
        t("report.chains", lang, chains=", ".join(proposal.chains) or "–"),
    )
    change = facts.change
    change_lines = (
        (
            f"{change['change_id']} · {change['title']}",
            t(
                "report.change",
                lang,
                started=_at(change_started(change), facts.tz),
                outcome=t(f"incidents.outcome_{change['outcome']}", lang),
            ),
        )
        if change is not None
        else (t("incidents.no_changes", lang),)
    )
    return [
        Section(t("report.summary", lang), head=(t("report.field", lang), t("report.value", lang)), rows=summary),
        Section(t("grading.title", lang), lines=_grade_lines(facts, lang)),
        Section(
            t("grading.deadlines", lang),
            lines=() if due else (t("grading.none_due", lang),),
            head=(t("report.report", lang), t("report.due", lang), t("report.status", lang)) if due else (),
            rows=due,
            widths=(0.2, 0.3, 0.5),
        ),
        Section(t("report.affected", lang), lines=affected),
        Section(t("report.change_before", lang), lines=change_lines),
        Section(
            t("report.timeline", lang),
            head=(t("report.when", lang), t("report.who", lang), t("report.what", lang)),
            rows=_timeline(facts, lang),
        ),
    ]


def title(facts: Facts, lang: str) -> str:
    return t("report.title", lang, incident_id=facts.incident["incident_id"])


def generated_line(facts: Facts, lang: str) -> str:
    """Where and when the report was made, under its title."""
    return t("report.generated", lang, center=facts.center, at=_at(facts.generated, facts.tz))


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(facts: Facts, lang: str = "en") -> str:
    """The report as Markdown."""
    out = [
        f"# {title(facts, lang)}",
        "",
        generated_line(facts, lang),
    ]
    for section in sections(facts, lang):
        out += ["", f"## {section.title}", ""]
        for line in section.lines:  # bullets together, every other line a paragraph of its own
            out += [f"- {line.removeprefix('· ')}"] if line.startswith("· ") else ["", line, ""]
        if section.head:
            out.append("| " + " | ".join(section.head) + " |")
            out.append("|" + "---|" * len(section.head))
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in section.rows]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip() + "\n"
