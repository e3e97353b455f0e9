"""``incident_report_submissions``: the reports due to the regulator marked as submitted, and what each report
due says at a moment.

A submission is written with ``record`` inside ``auth.audited("incident.submit_report", ...)``, so its audit
row and the submission share one transaction. The table is append-only: a later record of the same report
(a correction, a resubmission) is the one shown; every record is on the incident report's timeline.

``statuses`` gives each report due its status, the one rule behind the panel and the report:

- ``submitted``: a submission is recorded (whenever it was due, and even if the grade in force no longer
  makes it due);
- ``waiting``: due after a recovery that has not come;
- ``due``: not yet due, counting down;
- ``overdue``: past due with no submission recorded, counting on, red;
- ``unrecorded``: past due with no submission recorded, the incident having ended more than the table's
  ``record_window_days`` ago: said as "no submission recorded", muted, with no live count (an old incident
  was likely reported outside opscenter; the screen does not claim either way).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from dashboard.command.grading import REPORTS, Deadline
from dashboard.db import incident_rows
from dashboard.db.tables import incident_report_submissions

MAX_REFERENCE = 200
COLUMNS = ["report", "reference", "actor", "at"]


@dataclass(frozen=True)
class ReportStatus:
    """One report: when it is due (None: after recovery; NaT: not due under the grade in force), its status and
    the submission shown (a row of ``for_incident``), if any."""

    report: str
    due: pd.Timestamp | None
    status: str
    submission: pd.Series | None = None


def record(
    connection: sa.Connection, source: str, incident_id: str, report: str, reference: str, actor: str, at: datetime
) -> None:
    """Append one submission of ``report`` with an optional ``reference``; ValueError when it is not valid."""
    reference = (reference or "").strip()
    if report not in REPORTS:
        raise ValueError(f"a report is one of {', '.join(REPORTS)}")
    if len(reference) > MAX_REFERENCE:
        raise ValueError(f"a reference has at most {MAX_REFERENCE} characters")
    connection.execute(
        sa.insert(incident_report_submissions),
        {
            "source": source,
            "incident_id": incident_id,
            "report": report,
            "reference": reference or None,
            "actor": actor,
            "at": at,
        },
    )


def for_incident(engine: sa.Engine, source: str, incident_id: str) -> pd.DataFrame:
    """The submissions recorded for one incident, oldest first."""
    return incident_rows.of_incident(engine, incident_report_submissions, COLUMNS, source, incident_id)


def statuses(
    due: list[tuple[Deadline, pd.Timestamp | None]],
    submitted: pd.DataFrame,
    ended: pd.Timestamp | None,
    now: pd.Timestamp,
    window_days: int,
) -> list[ReportStatus]:
    """Each report due (``grading.due``) and each report with a submission recorded, in the order of
    ``REPORTS``, with its status at ``now``."""
    latest = {row["report"]: row for _, row in submitted.iterrows()}  # oldest first: the last one wins
    when = {deadline.report: at for deadline, at in due}
    settled = ended is not None and not pd.isna(ended) and now - ended > pd.Timedelta(days=window_days)
    out = []
    for report in REPORTS:
        if report in latest:
            out.append(ReportStatus(report, when.get(report, pd.NaT), "submitted", latest[report]))
        elif report in when:
            at = when[report]
            status = "waiting" if at is None else "due" if at > now else "unrecorded" if settled else "overdue"
            out.append(ReportStatus(report, at, status))
    return out
