"""An incident's pre-plan as a checklist: the steps ticked and unticked (``preplan_steps``) and its state.

A tick or an untick is written with ``record`` inside ``auth.audited("incident.preplan_step", ...)``, so
the audit row and the tick share one transaction. The first tick pins the incident's pre-plan and version:
later ticks, and the page, keep to them even when the library has moved on.

A step is due when the steps before it and itself have had their expected minutes, counted from the
incident's opening; an open step past that is overdue, a step ticked after it was late.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from dashboard.command.preplans import Library, Preplan
from dashboard.db import incident_rows
from dashboard.db.tables import preplan_steps
from datasources.base import utc_column

COLUMNS = ["source", "incident_id", "preplan_id", "version", "step", "done", "actor", "at"]
USE_COLUMNS = ["preplan_id", "version", "source", "incident_id", "at"]
STATE_COLUMNS = ["step", "due_at", "done", "actor", "at", "overdue", "late"]


def record(
    connection: sa.Connection,
    source: str,
    incident_id: str,
    plan: Preplan,
    step: int,
    done: bool,
    actor: str,
    at: datetime,
) -> None:
    """Append one tick (``done``) or untick of ``plan``'s ``step`` (1-based) on ``connection``; ValueError for a
    step the plan does not have."""
    if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= len(plan.steps):
        raise ValueError(f"{plan.id} v{plan.version} has steps 1 to {len(plan.steps)}")
    row = dict(zip(COLUMNS, (source, incident_id, plan.id, plan.version, step, bool(done), actor, at), strict=True))
    connection.execute(sa.insert(preplan_steps), row)


def _read(engine: sa.Engine, *where) -> pd.DataFrame:
    return incident_rows.read(engine, preplan_steps, COLUMNS, *where).astype(
        {"version": "int64", "step": "int64", "done": "bool"}
    )


def for_incident(engine: sa.Engine, source: str, incident_id: str) -> pd.DataFrame:
    """The ticks and unticks on one incident, oldest first."""
    return _read(engine, preplan_steps.c.source == source, preplan_steps.c.incident_id == incident_id)


def since(engine: sa.Engine, start: datetime) -> pd.DataFrame:
    """Every tick and untick from ``start`` on, oldest first (the maturity evidence reads them)."""
    return _read(engine, preplan_steps.c.at >= start)


def last_uses(engine: sa.Engine) -> pd.DataFrame:
    """Each pre-plan's latest tick or untick: preplan_id, version, source, incident_id, at (one small grouped read)."""
    newest = (
        sa.select(preplan_steps.c.preplan_id, sa.func.max(preplan_steps.c.at).label("at"))
        .group_by(preplan_steps.c.preplan_id)
        .subquery()
    )
    query = (
        sa.select(*(preplan_steps.c[c] for c in USE_COLUMNS))
        .join(newest, sa.and_(preplan_steps.c.preplan_id == newest.c.preplan_id, preplan_steps.c.at == newest.c.at))
        .order_by(preplan_steps.c.id)
    )
    with engine.connect() as connection:
        frame = pd.DataFrame(connection.execute(query).fetchall(), columns=USE_COLUMNS, dtype=object)
    frame["at"] = utc_column(frame["at"])
    return frame.drop_duplicates("preplan_id", keep="last").reset_index(drop=True)


def plan_of(library: Library, ticks: pd.DataFrame, incident: pd.Series) -> tuple[str, int] | None:
    """The (id, version) an incident works on: the one its first tick pinned, else the library's choice."""
    if len(ticks):
        first = ticks.iloc[0]
        return first["preplan_id"], int(first["version"])
    plan = library.for_incident(incident.get("service"), incident.get("runbook_url"), incident.get("opened_at"))
    return None if plan is None else plan.key


def latest(ticks: pd.DataFrame) -> pd.DataFrame:
    """The last tick or untick of each step, per incident (``ticks`` of one pre-plan version each)."""
    return ticks.drop_duplicates(["source", "incident_id", "step"], keep="last")


def state(plan: Preplan, ticks: pd.DataFrame, opened_at: pd.Timestamp, now: pd.Timestamp) -> pd.DataFrame:
    """One row per step: when it is due, whether it is done, by whom and when, overdue, late."""
    minutes = pd.Series([s.minutes for s in plan.steps]).cumsum()
    due = pd.to_timedelta(minutes, unit="min") + (opened_at if pd.notna(opened_at) else pd.NaT)
    last = latest(ticks[(ticks["preplan_id"] == plan.id) & (ticks["version"] == plan.version)]).set_index("step")
    steps = pd.RangeIndex(1, len(plan.steps) + 1)
    done = last["done"].reindex(steps, fill_value=False).astype(bool).to_numpy()
    at = utc_column(last["at"].reindex(steps)).to_numpy()
    frame = pd.DataFrame(
        {
            "step": steps,
            "due_at": utc_column(pd.Series(due.to_numpy())),
            "done": done,
            "actor": pd.Series(
                [a if d else None for a, d in zip(last["actor"].reindex(steps), done, strict=True)], dtype=object
            ),
            "at": utc_column(pd.Series(at)).where(done),
        }
    )
    frame["overdue"] = ~frame["done"] & (frame["due_at"] < now).fillna(False)
    frame["late"] = frame["done"] & (frame["at"] > frame["due_at"]).fillna(False)
    return frame[STATE_COLUMNS]
