"""The incident timeline figure: lanes, the suspect change, metrics on one axis in display time."""
import pandas as pd

from dashboard import incident_stats as stats
from dashboard.incident_figures import timeline_figure
from datasources.demo import DemoSource
from layouts.incident import labels

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC")


def test_demo_p2_timeline_flags_its_change():
    frames = DemoSource(name="demo").fetch(NOW.to_pydatetime())
    incident = frames["incidents"].query("priority == 2 and change_id.notna()").iloc[-1]
    found = stats.recent_changes(incident, frames["changes"])
    start, end = stats.incident_window(incident, found, NOW)
    metrics = stats.around(frames["service_metrics"], "ts", start, end, incident["service"])
    alerts = stats.around(frames["alerts"], "starts_at", start, end, incident["service"], "ends_at")
    fig = timeline_figure(incident, stats.milestones(incident), alerts, found, frames["chaos_runs"].iloc[0:0],
                          metrics, start, end, labels("zh"), "Asia/Shanghai")
    names = [trace.name for trace in fig.data]
    assert "可疑变更" in names and "p95 ms" in names and "告警" in names
    assert [a.text for a in fig.layout.annotations if a.text.startswith("⚠")] == [f"⚠ {incident['change_id']}"]
    local_open = incident["opened_at"].tz_convert("Asia/Shanghai").tz_localize(None)
    assert pd.Timestamp(fig.layout.xaxis.range[0]) < local_open < pd.Timestamp(fig.layout.xaxis.range[1])
    assert list(fig.layout.yaxis.categoryarray) == ["混沌实验", "变更", "告警", "事件"]
