"""Incident statistics: MTTA/MTTR by priority, change rates, suspect changes, the incident window."""

import pandas as pd
import pytest

from dashboard.analytics import incidents as stats
from datasources import itsm

NOW = pd.Timestamp("2026-11-18 04:00", tz="UTC")
MAPPINGS = itsm.Mappings()


def incidents(*rows):
    records = [
        {
            "incident_id": f"INC{i}",
            "title": "t",
            "priority": p,
            "state": s,
            "service": "order-gateway",
            "opened_at": o,
            "acknowledged_at": a,
            "resolved_at": r,
            "change_id": c,
        }
        for i, (p, s, o, a, r, c) in enumerate(rows)
    ]
    return itsm.incident_frame(records, MAPPINGS, "itsm")


def changes(*rows):
    records = [
        {
            "change_id": cid,
            "title": "c",
            "service": svc,
            "type": "normal",
            "state": "closed",
            "actual_start": start,
            "actual_end": end,
            "outcome": outcome,
        }
        for cid, svc, start, end, outcome in rows
    ]
    return itsm.change_frame(records, itsm.Mappings(), "itsm")


INCIDENTS = incidents(
    (2, "resolved", "2026-11-17 10:00", "2026-11-17 10:10", "2026-11-17 11:00", "CHG1"),
    (2, "closed", "2026-11-10 10:00", "2026-11-10 10:30", "2026-11-10 13:00", None),
    (2, "in_progress", "2026-11-18 03:00", "2026-11-18 03:20", None, None),
    (2, "new", "2026-11-18 03:50", None, None, None),
    (2, "cancelled", "2026-11-16 00:00", "2026-11-16 00:01", None, None),
    (3, "closed", "2026-09-01 00:00", "2026-09-01 01:00", "2026-09-01 05:00", None),
)


def test_mtta_and_mttr_leave_out_and_count_the_unfinished():
    row = stats.response_times(INCIDENTS, NOW, 30).set_index("priority").loc[2]
    assert row.incidents == 4  # the cancelled one is left out
    assert row.mtta_min == pytest.approx((10 + 30 + 20) / 3) and row.unacknowledged == 1
    assert row.mttr_min == pytest.approx((60 + 180) / 2) and row.unresolved == 2


def test_windows_select_by_opening_time():
    p3 = {d: stats.response_times(INCIDENTS, NOW, d).set_index("priority").loc[3] for d in (30, 90)}
    assert p3[30].incidents == 0 and pd.isna(p3[30].mtta_min)
    assert p3[90].incidents == 1 and p3[90].mttr_min == 300


def test_active_are_sorted_by_priority_then_age():
    active = stats.active(INCIDENTS, NOW)
    assert list(active["incident_id"]) == ["INC2", "INC3"] and list(active["age_min"]) == [60, 10]


def test_change_rates():
    frame = changes(
        ("CHG1", "order-gateway", "2026-11-17 09:00", "2026-11-17 09:30", "failed"),
        ("CHG2", "ledger", "2026-11-15 09:00", "2026-11-15 09:30", "success"),
        ("CHG3", "ledger", "2026-11-15 09:00", None, "unknown"),
    )
    rates = stats.change_rates(frame, INCIDENTS, NOW, 30)
    assert (rates["changes"], rates["successful"], rates["success_rate"]) == (2, 1, 0.5)
    assert (rates["incidents"], rates["change_induced"], rates["change_induced_rate"]) == (4, 1, 0.25)
    empty = stats.change_rates(frame.iloc[0:0], INCIDENTS.iloc[0:0], NOW, 30)
    assert empty["success_rate"] is None and empty["change_induced_rate"] is None


def test_suspect_is_the_named_change_else_the_latest_failed_else_the_latest():
    frame = changes(
        ("CHG1", "order-gateway", "2026-11-17 09:00", "2026-11-17 09:30", "success"),
        ("CHG2", "order-gateway", "2026-11-17 08:00", "2026-11-17 08:30", "failed"),
        ("CHG3", "order-gateway", "2026-11-15 08:00", "2026-11-15 08:30", "failed"),
        ("CHG4", "ledger", "2026-11-17 09:00", "2026-11-17 09:30", "failed"),
    )
    named = INCIDENTS.iloc[0]
    found = stats.recent_changes(named, frame)
    assert list(found["change_id"]) == ["CHG1", "CHG2"]  # same service, 24 h before, newest first
    assert list(found.loc[found["suspect"], "change_id"]) == ["CHG1"]
    unnamed = named.copy()
    unnamed["change_id"] = None
    found = stats.recent_changes(unnamed, frame)
    assert list(found.loc[found["suspect"], "change_id"]) == ["CHG2"]
    found = stats.recent_changes(unnamed, frame[frame["change_id"] == "CHG1"])
    assert list(found.loc[found["suspect"], "change_id"]) == ["CHG1"]
    other = unnamed.copy()
    other["service"] = "clearing"
    assert stats.recent_changes(other, frame).empty  # no change before it: no rows, not one empty row per change


def test_milestones_and_window():
    incident = INCIDENTS.iloc[0]
    assert [s for s, _ in stats.milestones(incident)] == ["new", "in_progress", "resolved"]
    frame = changes(("CHG1", "order-gateway", "2026-11-17 09:00", "2026-11-17 09:30", "failed"))
    start, end = stats.incident_window(incident, stats.recent_changes(incident, frame), NOW)
    assert (start, end) == (pd.Timestamp("2026-11-17 08:30", tz="UTC"), pd.Timestamp("2026-11-17 12:00", tz="UTC"))
    open_one = INCIDENTS.iloc[3]
    assert stats.incident_window(open_one, stats.recent_changes(open_one, frame.iloc[0:0]), NOW)[1] == NOW


def test_an_ended_incident_ends_at_its_close_time_else_its_last_change_never_now():
    cancelled = INCIDENTS.iloc[4]
    assert stats.end_time(cancelled) == pd.Timestamp("2026-11-16 00:01", tz="UTC")
    closed_at = INCIDENTS.assign(x_closed_at=pd.Timestamp("2026-11-16 02:00", tz="UTC"))
    assert list(stats.end_times(closed_at)) == [
        pd.Timestamp("2026-11-17 11:00", tz="UTC"),
        pd.Timestamp("2026-11-10 13:00", tz="UTC"),
        pd.NaT,
        pd.NaT,
        pd.Timestamp("2026-11-16 02:00", tz="UTC"),
        pd.Timestamp("2026-09-01 05:00", tz="UTC"),
    ]
    assert stats.milestones(closed_at.iloc[4])[-1] == ("cancelled", pd.Timestamp("2026-11-16 02:00", tz="UTC"))
    assert stats.incident_window(cancelled, INCIDENTS.iloc[0:0].assign(suspect=False), NOW)[1] == pd.Timestamp(
        "2026-11-16 01:01", tz="UTC"
    )


def test_an_incident_is_about_errors_when_its_service_broke_its_error_target_while_it_was_open():
    incident = INCIDENTS.iloc[0]  # open 10:00 to 11:00
    minutes = pd.date_range("2026-11-17 09:00", "2026-11-17 12:00", freq="min", tz="UTC")
    metrics = pd.DataFrame({"ts": minutes, "service": "order-gateway", "error_ratio": 0.001})
    assert not stats.about_errors(incident, metrics, 0.01, NOW)
    before = metrics.assign(error_ratio=metrics["error_ratio"].where(metrics["ts"] >= incident["opened_at"], 0.2))
    assert not stats.about_errors(incident, before, 0.01, NOW)
    during = metrics.assign(error_ratio=metrics["error_ratio"].where(metrics["ts"] != incident["opened_at"], 0.05))
    assert stats.about_errors(incident, during, 0.01, NOW)


def test_an_acknowledgement_in_opscenter_counts_for_mtta_when_it_is_earlier():
    ours = pd.DataFrame(
        {
            "source": ["itsm", "itsm", "itsm", "other"],
            "incident_id": ["INC2", "INC0", "INC3", "INC1"],  # earlier; later; the only one; another source's
            "acknowledged_at": pd.to_datetime(
                ["2026-11-18 03:05", "2026-11-17 10:40", "2026-11-18 03:56", "2026-11-10 10:01"], utc=True
            ),
        }
    )
    merged = stats.with_acknowledgements(INCIDENTS, ours).set_index("incident_id")["acknowledged_at"]
    assert merged["INC2"] == pd.Timestamp("2026-11-18 03:05", tz="UTC")
    assert merged["INC0"] == pd.Timestamp("2026-11-17 10:10", tz="UTC")
    assert merged["INC3"] == pd.Timestamp("2026-11-18 03:56", tz="UTC")
    assert merged["INC1"] == pd.Timestamp("2026-11-10 10:30", tz="UTC")
    row = stats.response_times(stats.with_acknowledgements(INCIDENTS, ours), NOW, 30).set_index("priority").loc[2]
    assert row.mtta_min == pytest.approx((10 + 30 + 5 + 6) / 4) and row.unacknowledged == 0
    assert stats.with_acknowledgements(INCIDENTS, ours.iloc[0:0]) is INCIDENTS
    unacknowledged = INCIDENTS.set_index("incident_id").loc["INC3"]
    one = pd.DataFrame([unacknowledged.rename(None)]).assign(incident_id="INC3")  # a lone NaT: no tz left
    assert stats.with_acknowledgements(one, ours).iloc[0]["acknowledged_at"] == pd.Timestamp(
        "2026-11-18 03:56", tz="UTC"
    )


def test_an_acknowledgement_in_opscenter_merges_into_a_column_that_lost_its_zone():
    """A column with no acknowledgement at all may come back zone-less from a concatenation of sources."""
    unacknowledged = INCIDENTS.assign(acknowledged_at=pd.Series([pd.NaT] * len(INCIDENTS), dtype="datetime64[ns]"))
    ours = pd.DataFrame(
        {"source": ["itsm"], "incident_id": ["INC2"], "acknowledged_at": pd.to_datetime(["2026-11-18 03:05"], utc=True)}
    )
    merged = stats.with_acknowledgements(unacknowledged, ours).set_index("incident_id")["acknowledged_at"]
    assert merged["INC2"] == pd.Timestamp("2026-11-18 03:05", tz="UTC") and merged.drop("INC2").isna().all()
