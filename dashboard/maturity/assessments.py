"""Maturity records in the history database: evidence evaluations and assessments.

Both tables only grow (triggers refuse updates and deletes): an item's assessment is its
latest row, its evidence history every evaluation. A person's assessment is written with
``append`` inside ``auth.audited("assessment.write", ...)``, so the audit log row (who, when,
before, after) and the assessment share one transaction.
"""

from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from dashboard.db.tables import maturity_assessments, maturity_evidence
from dashboard.maturity import findings
from datasources.base import utc_column

STATUSES = ("not_started", "in_progress", "pass", "fail", "na", "waived")
ASSESSMENT_COLUMNS = ["item_id", "at", "assessor", "status", "justification", "evidence_links", "proposed"]
EVIDENCE_COLUMNS = ["item_id", "evaluated_at", "rule", "query", "value", "passed", "digest", "findings"]


def record_evidence(engine: sa.Engine, evaluations, at: datetime) -> int:
    """Append evaluations (``evidence.Evaluation``) made at ``at``; return how many."""
    rows = [
        {
            "item_id": e.item_id,
            "evaluated_at": at,
            "rule": e.rule,
            "query": e.query,
            "value": e.value,
            "passed": e.passed,
            "digest": e.digest,
            "findings": findings.dumps(e.findings),
        }
        for e in evaluations
    ]
    if rows:
        with engine.begin() as connection:
            connection.execute(sa.insert(maturity_evidence), rows)
    return len(rows)


def _read(engine: sa.Engine, query: sa.Select, columns: list[str], time_column: str) -> pd.DataFrame:
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).fetchall(), columns=columns, dtype=object)
    frame[time_column] = utc_column(frame[time_column])
    return frame


def _evidence(engine: sa.Engine, query: sa.Select) -> pd.DataFrame:
    """Evaluations as a frame: ``value`` as floats, ``findings`` as lists (empty where none were kept)."""
    frame = _read(engine, query, EVIDENCE_COLUMNS, "evaluated_at").astype({"value": "float64"})
    frame["findings"] = frame["findings"].map(findings.loads).astype(object)
    return frame


def evidence(engine: sa.Engine, item_id: str | None = None) -> pd.DataFrame:
    """Every evaluation (of one item when given), oldest first."""
    table = maturity_evidence
    query = sa.select(*(table.c[c] for c in EVIDENCE_COLUMNS)).order_by(table.c.evaluated_at, table.c.id)
    if item_id is not None:
        query = query.where(table.c.item_id == item_id)
    return _evidence(engine, query)


def latest_evidence(engine: sa.Engine) -> pd.DataFrame:
    """Each item's newest evaluation."""
    table = maturity_evidence
    newest = sa.select(sa.func.max(table.c.id)).group_by(table.c.item_id)
    query = sa.select(*(table.c[c] for c in EVIDENCE_COLUMNS)).where(table.c.id.in_(newest))
    return _evidence(engine, query)


def history(engine: sa.Engine) -> pd.DataFrame:
    """Every assessment ever made, oldest first; ``evidence_links`` as lists."""
    table = maturity_assessments
    query = sa.select(*(table.c[c] for c in ASSESSMENT_COLUMNS)).order_by(table.c.at, table.c.id)
    frame = _read(engine, query, ASSESSMENT_COLUMNS, "at")
    frame["evidence_links"] = frame["evidence_links"].map(json.loads)
    return frame


def append(
    connection: sa.Connection,
    item_id: str,
    status: str,
    assessor: str,
    justification: str,
    evidence_links: list[str],
    proposed: str | None,
    at: datetime,
) -> dict:
    """Append one assessment on ``connection``; return it as a dict. Refuses an unknown status or no justification."""
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    if not assessor.strip() or not justification.strip():
        raise ValueError("an assessment needs a named assessor and a justification")
    row = {
        "item_id": item_id,
        "at": at,
        "assessor": assessor.strip(),
        "status": status,
        "justification": justification.strip(),
        "evidence_links": json.dumps(list(evidence_links)),
        "proposed": proposed,
    }
    connection.execute(sa.insert(maturity_assessments), row)
    return row
