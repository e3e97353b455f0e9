"""The incident timeline figure: lanes, the suspect change, metrics on one axis in display time."""

import pandas as pd

from dashboard.analytics import incidents as stats
from dashboard.analytics import logrates
from dashboard.figures.incidents import timeline_figure
from datasources.demo import DemoSource, episodes
from layouts.pages.incident import labels

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC")


def test_demo_p2_timeline_flags_its_change():
    frames = DemoSource(name="demo").fetch(NOW.to_pydatetime())
    incident = frames["incidents"].query("priority == 2 and change_id.notna()").iloc[-1]
    found = stats.recent_changes(incident, frames["changes"])
    start, end = stats.incident_window(incident, found, NOW)
    metrics = stats.around(frames["service_metrics"], "ts", start, end, incident["service"])
    alerts = stats.around(frames["alerts"], "starts_at", start, end, incident["service"], "ends_at")
    fig = timeline_figure(
        incident,
        stats.milestones(incident),
        alerts,
        found,
        frames["chaos_runs"].iloc[0:0],
        metrics,
        start,
        end,
        labels("zh"),
        "Asia/Shanghai",
    )
    names = [trace.name for trace in fig.data]
    assert "可疑变更" in names and "p95 ms" in names and "告警" in names
    assert [a.text for a in fig.layout.annotations if a.text.startswith("⚠")] == [f"⚠ {incident['change_id']}"]
    local_open = incident["opened_at"].tz_convert("Asia/Shanghai").tz_localize(None)
    assert pd.Timestamp(fig.layout.xaxis.range[0]) < local_open < pd.Timestamp(fig.layout.xaxis.range[1])
    assert list(fig.layout.yaxis.categoryarray) == ["混沌实验", "变更", "告警", "事件"]


def test_error_log_burst_gets_its_own_panel():
    now = pd.Timestamp("2026-11-18 02:05", tz="UTC")
    frames = DemoSource(name="demo").fetch(now.to_pydatetime())
    change = [e for e in episodes(now - pd.Timedelta(hours=6), now) if e.kind == "failed_change"][-1]
    incident = frames["incidents"].set_index("incident_id").loc[change.incident_id].copy()
    incident["incident_id"] = change.incident_id
    start, end = change.start - pd.Timedelta(minutes=30), change.end + pd.Timedelta(minutes=30)
    burst = logrates.error_series(frames["log_rates"], ["order-gateway"], start, end)
    during = burst[burst["ts"].between(change.start + pd.Timedelta(minutes=10), change.end - pd.Timedelta(minutes=5))]
    assert during["count"].min() > 10 * burst[burst["ts"] < change.start]["count"].max()
    empty = frames["alerts"].iloc[0:0]
    fig = timeline_figure(
        incident,
        stats.milestones(incident),
        empty,
        frames["changes"].iloc[0:0].assign(suspect=pd.Series(dtype=bool)),
        frames["chaos_runs"].iloc[0:0],
        frames["service_metrics"].iloc[0:0],
        start,
        end,
        labels("en"),
        "Asia/Shanghai",
        burst,
    )
    assert [a.text for a in fig.layout.annotations][-1] == labels("en")["logs"]
    assert any(trace.type == "bar" for trace in fig.data)


def test_a_cancelled_incident_stops_at_its_cancel_time():
    """Its "in progress" bar ends where it was cancelled, marked there; it never runs on to the axis's end."""
    frames = DemoSource(name="demo").fetch(NOW.to_pydatetime())
    incident = frames["incidents"].iloc[0].copy()
    cancelled_at = incident["acknowledged_at"] + pd.Timedelta(minutes=30)
    incident["state"], incident["resolved_at"], incident["x_closed_at"] = "cancelled", pd.NaT, cancelled_at
    start, end = stats.incident_window(incident, frames["changes"].iloc[0:0].assign(suspect=False), NOW)
    assert end == cancelled_at + pd.Timedelta(hours=1)
    empty = {name: frames[name].iloc[0:0] for name in ("alerts", "chaos_runs", "service_metrics")}
    fig = timeline_figure(
        incident,
        stats.milestones(incident),
        empty["alerts"],
        frames["changes"].iloc[0:0].assign(suspect=pd.Series(dtype=bool)),
        empty["chaos_runs"],
        empty["service_metrics"],
        start,
        end,
        labels("en"),
        "UTC",
    )
    lane = {
        trace.name: [pd.Timestamp(x) for x in trace.x if x is not None]
        for trace in fig.data
        if trace.y is not None and "Incident" in list(trace.y)
    }
    local_cancel = cancelled_at.tz_localize(None)
    assert max(lane["In progress"]) == local_cancel
    assert lane["Cancelled"] == [local_cancel, local_cancel]
    assert all(x <= local_cancel for xs in lane.values() for x in xs)
