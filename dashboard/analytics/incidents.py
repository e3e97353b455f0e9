"""Incident and change statistics for the duty manager: pure functions of frames.

MTTA is the mean time from opened to first acknowledgement, MTTR the mean time
from opened to resolved, per priority, over incidents opened in the window.
Unacknowledged (or unresolved) incidents are left out of the mean and counted
separately; cancelled incidents are left out altogether. The change success
rate is successful changes over changes with a known outcome that ended in the
window; the change-induced incident rate is the share of the window's
incidents that name a change. An acknowledgement made in opscenter counts
when it is earlier than the source's (``with_acknowledgements``).
"""

from __future__ import annotations

import pandas as pd

ACTIVE_STATES = ("new", "in_progress", "on_hold")
FINISHED_STATES = ("resolved", "closed", "cancelled")
PRIORITIES = (1, 2, 3, 4, 5)
SUSPECT_HOURS = 24
BAD_OUTCOMES = ("failed", "rolled_back")


def active(incidents: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Active incidents, most urgent first, with their age in minutes."""
    frame = incidents[incidents["state"].isin(ACTIVE_STATES)].sort_values(["priority", "opened_at"], kind="stable")
    return frame.assign(age_min=((now - frame["opened_at"]).dt.total_seconds() // 60).astype("int64"))


def _opened_in(incidents: pd.DataFrame, now: pd.Timestamp, days: int) -> pd.DataFrame:
    start = now - pd.Timedelta(days=days)
    return incidents[(incidents["opened_at"] >= start) & (incidents["opened_at"] <= now)]


def response_times(incidents: pd.DataFrame, now: pd.Timestamp, days: int) -> pd.DataFrame:
    """Per priority: incidents opened in the last ``days``, MTTA and MTTR in minutes, and what was left out."""
    window = _opened_in(incidents, now, days)
    window = window[window["state"] != "cancelled"]
    rows = []
    for priority in PRIORITIES:
        group = window[window["priority"] == priority]
        to_ack = (group["acknowledged_at"] - group["opened_at"]).dt.total_seconds().dropna() / 60
        to_resolve = (group["resolved_at"] - group["opened_at"]).dt.total_seconds().dropna() / 60
        rows.append(
            {
                "priority": priority,
                "incidents": len(group),
                "mtta_min": to_ack.mean() if len(to_ack) else float("nan"),
                "unacknowledged": len(group) - len(to_ack),
                "mttr_min": to_resolve.mean() if len(to_resolve) else float("nan"),
                "unresolved": len(group) - len(to_resolve),
            }
        )
    return pd.DataFrame(rows)


def _change_time(changes: pd.DataFrame) -> pd.Series:
    """When a change happened: its actual start, else its planned start."""
    return changes["actual_start"].combine_first(changes["planned_start"])


def change_started(change: pd.Series) -> pd.Timestamp:
    """When one change happened: its actual start, else its planned start."""
    return change["actual_start"] if pd.notna(change["actual_start"]) else change["planned_start"]


def change_rates(changes: pd.DataFrame, incidents: pd.DataFrame, now: pd.Timestamp, days: int) -> dict:
    """Change success rate and change-induced incident rate over the last ``days`` (None without data)."""
    start = now - pd.Timedelta(days=days)
    ended = changes["actual_end"].fillna(_change_time(changes))
    judged = changes[(ended >= start) & (ended <= now) & (changes["outcome"] != "unknown")]
    opened = _opened_in(incidents, now, days)
    opened = opened[opened["state"] != "cancelled"]
    induced = int(opened["change_id"].notna().sum())
    return {
        "days": days,
        "changes": len(judged),
        "successful": int((judged["outcome"] == "success").sum()),
        "success_rate": (judged["outcome"] == "success").mean() if len(judged) else None,
        "incidents": len(opened),
        "change_induced": induced,
        "change_induced_rate": induced / len(opened) if len(opened) else None,
    }


def recent_changes(incident: pd.Series, changes: pd.DataFrame, hours: int = SUSPECT_HOURS) -> pd.DataFrame:
    """Changes on the incident's service that started in the ``hours`` before it opened, newest first.

    ``suspect`` flags one: the change the incident names, else the latest failed or
    rolled-back one, else the latest one.
    """
    when = _change_time(changes)
    opened = incident["opened_at"]
    named = changes["change_id"] == incident.get("change_id")
    on_service = (
        (changes["service"] == incident["service"]) & (when >= opened - pd.Timedelta(hours=hours)) & (when <= opened)
    )
    found = changes.assign(at=when)[on_service | named].sort_values("at", ascending=False, kind="stable")
    found = found.assign(suspect=False)
    if len(found):
        candidates = [
            found["change_id"] == incident.get("change_id"),
            found["outcome"].isin(BAD_OUTCOMES),
            pd.Series(True, index=found.index),
        ]
        pick = next(c for c in candidates if c.any())
        found.loc[pick.idxmax(), "suspect"] = True
    return found.drop(columns="at")


def end_times(incidents: pd.DataFrame) -> pd.Series:
    """When each incident ended: its resolution; for a finished one (resolved, closed, cancelled) without one,
    its close time (``x_closed_at``, when the source gives it), else the last time it is known to have changed
    (acknowledged, else opened). NaT while it is open: an ended incident never runs on to "now"."""

    def stamps(column: str) -> pd.Series:
        return pd.to_datetime(incidents[column], utc=True).dt.as_unit("ns")

    finished = incidents["state"].isin(FINISHED_STATES)
    end = stamps("resolved_at")
    for column in ("x_closed_at", "acknowledged_at", "opened_at"):
        if column in incidents:
            end = end.fillna(stamps(column).where(finished))
    return end


def end_time(incident: pd.Series) -> pd.Timestamp:
    """``end_times`` of one incident."""
    return end_times(pd.DataFrame([incident])).iloc[0]


def about_errors(incident: pd.Series, metrics: pd.DataFrame, error_target: float, now: pd.Timestamp) -> bool:
    """Whether the incident's service failed calls above its ``error_target`` in some minute while the incident
    was open (``metrics``: that service's rows)."""
    ended = end_time(incident)
    during = metrics[(metrics["ts"] >= incident["opened_at"]) & (metrics["ts"] <= (now if pd.isna(ended) else ended))]
    return bool((during["error_ratio"] > error_target).any())


def milestones(incident: pd.Series) -> list[tuple[str, pd.Timestamp]]:
    """The incident's state changes as (state, time): opened, acknowledged, and how it ended (resolved, or
    closed or cancelled without a resolution)."""
    ended = (
        "resolved"
        if pd.notna(incident["resolved_at"]) or incident["state"] not in FINISHED_STATES
        else incident["state"]
    )
    steps = [("new", incident["opened_at"]), ("in_progress", incident["acknowledged_at"]), (ended, end_time(incident))]
    return [(state, at) for state, at in steps if pd.notna(at)]


def around(
    frame: pd.DataFrame,
    column: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    service: str | None = None,
    end_column: str | None = None,
) -> pd.DataFrame:
    """Rows of ``frame`` on ``service`` overlapping [start, end] (by ``column`` .. ``end_column``)."""
    rows = frame if service is None else frame[frame["service"] == service]
    begins = rows[column]
    ends = rows[end_column].fillna(end) if end_column else begins
    return rows[(begins <= end) & (ends >= start)]


def incident_window(incident: pd.Series, changes: pd.DataFrame, now: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The time axis of an incident: from an hour before it opened (or before its suspect change) to an hour after."""
    start = incident["opened_at"] - pd.Timedelta(hours=1)
    suspect = changes[changes["suspect"]] if "suspect" in changes else changes.iloc[0:0]
    if len(suspect):
        start = min(start, _change_time(suspect).iloc[0] - pd.Timedelta(minutes=30))
    finished = end_time(incident)
    return start, min(now, (now if pd.isna(finished) else finished) + pd.Timedelta(hours=1))


def without_ticket_copies(incidents: pd.DataFrame) -> pd.DataFrame:
    """``incidents`` without the ITSM's copy of a ticket opened for an incident declared in opscenter (the
    declared incident names it in ``x_ticket_source`` and ``x_ticket``)."""
    if "x_ticket" not in incidents.columns or incidents["x_ticket"].isna().all():
        return incidents
    linked = incidents.loc[incidents["x_ticket"].notna(), ["x_ticket_source", "x_ticket"]]
    copies = pd.MultiIndex.from_frame(linked.set_axis(["source", "incident_id"], axis=1))
    keys = pd.MultiIndex.from_frame(incidents[["source", "incident_id"]])
    return incidents[~keys.isin(copies)]


def with_acknowledgements(incidents: pd.DataFrame, acknowledgements: pd.DataFrame) -> pd.DataFrame:
    """``incidents`` acknowledged at the earlier of the source's time and opscenter's (``acknowledgements``:
    source, incident_id, acknowledged_at, as ``dashboard.command.actions.acknowledgements`` reads them)."""
    if acknowledgements.empty or incidents.empty:
        return incidents
    ours = acknowledgements.set_index(["source", "incident_id"])["acknowledged_at"]
    ours = ours.reindex(pd.MultiIndex.from_frame(incidents[["source", "incident_id"]])).set_axis(incidents.index)
    theirs = pd.to_datetime(incidents["acknowledged_at"], utc=True)  # an all-empty column may have lost its zone
    ours = pd.to_datetime(ours, utc=True)
    earlier = ours.notna() & (theirs.isna() | (ours < theirs))
    return incidents.assign(acknowledged_at=theirs.mask(earlier, ours))
