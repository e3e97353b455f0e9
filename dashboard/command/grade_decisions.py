"""``incident_grades``: the duty manager's confirmation, or change, of an incident's proposed grade.

A decision is written with ``record`` inside ``auth.audited("incident.grade", ...)``, so its audit row and
the decision share one transaction. The table is append-only; the latest decision is the grade in force.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from dashboard.command.grading import GRADES
from dashboard.db import incident_rows
from dashboard.db.tables import incident_grades

MAX_REASON = 2000
COLUMNS = ["grade", "proposed", "session_minutes", "reason", "actor", "at"]


def record(
    connection: sa.Connection,
    source: str,
    incident_id: str,
    decision: dict,
    actor: str,
    at: datetime,
) -> None:
    """Append one decision (grade, proposed, session_minutes, reason); ValueError when it is incomplete."""
    reason = str(decision.get("reason") or "").strip()
    if decision.get("grade") not in GRADES or decision.get("proposed") not in GRADES:
        raise ValueError(f"a grade is one of {', '.join(GRADES)}")
    if not reason or len(reason) > MAX_REASON:
        raise ValueError(f"a decision needs a reason of at most {MAX_REASON} characters")
    connection.execute(
        sa.insert(incident_grades),
        {
            "source": source,
            "incident_id": incident_id,
            "grade": decision["grade"],
            "proposed": decision["proposed"],
            "session_minutes": int(decision["session_minutes"]),
            "reason": reason,
            "actor": actor,
            "at": at,
        },
    )


def for_incident(engine: sa.Engine, source: str, incident_id: str) -> pd.DataFrame:
    """The decisions on one incident, oldest first."""
    return incident_rows.of_incident(engine, incident_grades, COLUMNS, source, incident_id)
