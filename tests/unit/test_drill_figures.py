"""Drill-down figure builders: the traces, shapes and marks each figure promises."""

import pandas as pd
import plotly.graph_objects as go

from dashboard.analytics import drilldown
from dashboard.figures import STATUS_COLOURS
from dashboard.figures import drill as drill_figures

T0 = pd.Timestamp("2026-11-18 02:00", tz="UTC")
TZ = "Asia/Shanghai"
MINUTES = [T0 + pd.Timedelta(minutes=i) for i in range(5)]


def service_metrics(service="s"):
    return pd.DataFrame(
        {
            "ts": MINUTES,
            "service": service,
            "requests_per_s": 10.0,
            "error_ratio": 0.01,
            "latency_p50_ms": 5.0,
            "latency_p95_ms": 9.0,
            "latency_p99_ms": 20.0,
        }
    )


def resources(instances=("s-1", "s-2")):
    return pd.DataFrame(
        [
            {
                "ts": ts,
                "service": "s",
                "instance": i,
                "cpu_ratio": 0.5,
                "memory_ratio": 0.4,
                "memory_bytes": 1.0,
                "net_rx_bps": 10.0,
                "net_tx_bps": 20.0,
            }
            for ts in MINUTES
            for i in instances
        ]
    )


def test_times_are_drawn_in_the_display_zone():
    assert drill_figures.local(T0, TZ) == pd.Timestamp("2026-11-18 10:00")


def test_chain_latency_draws_every_step_and_thickens_the_bottleneck():
    frame = pd.concat([service_metrics("a"), service_metrics("b")])
    stats = pd.DataFrame({"step": [1, 2], "service": ["a", "b"]})
    figure = go.Figure(drill_figures.chain_latency(frame, stats, {"a": "A", "b": "B"}, "b", TZ))
    assert [t.name for t in figure.data] == ["1. A", "2. B"]
    assert figure.data[1].line.width > figure.data[0].line.width
    assert figure.data[1].line.color == STATUS_COLOURS["crit"]


def test_service_timeline_has_three_panels_and_shades_each_event():
    events = pd.DataFrame(
        {
            "kind": ["alert", "change"],
            "ident": ["A1", "C1"],
            "label": ["HighLatency", "C1 failed"],
            "start": [MINUTES[1], MINUTES[2]],
            "end": [MINUTES[3], MINUTES[3]],
            "detail": ["", ""],
            "url": ["u", "u"],
        }
    )
    figure = go.Figure(drill_figures.service_timeline(service_metrics(), events, TZ))
    assert {t.yaxis or "y" for t in figure.data} == {"y", "y2", "y3"}
    rects = [s for s in figure.layout.shapes if s.type == "rect"]
    assert [r.fillcolor for r in rects] == [drill_figures.EVENT_COLOURS["alert"], drill_figures.EVENT_COLOURS["change"]]
    assert {"HighLatency", "C1 failed"} <= {a.text for a in figure.layout.annotations}


def test_service_instances_draw_each_instance_and_its_calls():
    calls = pd.DataFrame(
        {
            "trace_id": ["t1", "t2"],
            "start": MINUTES[:2],
            "duration_ms": [5.0, 90.0],
            "status": ["ok", "error"],
            "instance": ["s-2", "s-2"],
        }
    )
    figure = go.Figure(drill_figures.service_instances(resources(), calls, TZ))
    lines = [t for t in figure.data if t.mode == "lines"]
    assert sorted({t.name for t in lines}) == ["s-1", "s-2"] and len(lines) == 4
    markers = [t for t in figure.data if t.mode == "markers"]
    assert list(markers[0].marker.symbol) == ["circle", "x"]
    assert any(s.y0 == drilldown.SATURATED_CPU for s in figure.layout.shapes)


def test_waterfall_marks_the_critical_path_and_the_slowest_span():
    spans = pd.DataFrame(
        {
            "trace_id": "t",
            "span_id": ["r", "a", "b"],
            "parent_id": [None, "r", "r"],
            "service": ["gw", "a", "a"],
            "operation": ["op", "x", "x"],
            "start": [T0, T0 + pd.Timedelta(milliseconds=1), T0 + pd.Timedelta(milliseconds=2)],
            "duration_ms": [100.0, 10.0, 90.0],
            "status": ["ok", "error", "ok"],
            "instance": ["gw-1", "a-1", "a-2"],
        }
    )
    table = drilldown.trace_table(spans)
    figure = go.Figure(drill_figures.waterfall(table, "b"))
    bar = figure.data[0]
    assert list(bar.base) == list(table["offset_ms"]) and list(bar.y) == [0, 1, 2]  # same labels stay apart
    assert bar.marker.color[1] == STATUS_COLOURS["crit"]  # the failed span
    outlined = [c != "rgba(0,0,0,0)" for c in bar.marker.line.color]
    assert outlined == list(table["critical"]) == [True, False, True]
    assert figure.layout.annotations[0].y == 2


def test_trace_resources_shade_the_call_and_highlight_the_instance():
    start, end = MINUTES[2], MINUTES[2] + pd.Timedelta(milliseconds=300)
    figure = go.Figure(drill_figures.trace_resources(resources(), start, end, "s-2", TZ))
    assert len(figure.data) == 6  # two instances x CPU, memory, network
    hot = [t for t in figure.data if t.name == "s-2"]
    assert all(t.line.color == STATUS_COLOURS["crit"] for t in hot)
    shaded = [s for s in figure.layout.shapes if s.type == "rect"]
    assert shaded[0].x0 == drill_figures.local(start, TZ) and shaded[0].x1 == drill_figures.local(end, TZ)


def test_time_axes_hold_to_the_window_whatever_began_before_it():
    """A P4 opened three weeks before the window is shaded from the window's start; no axis stretches to it."""
    window = (MINUTES[0], MINUTES[-1])
    events = pd.DataFrame(
        {
            "kind": ["incident"],
            "ident": ["INC1"],
            "label": ["P4 INC1"],
            "start": [MINUTES[0] - pd.Timedelta(days=21)],
            "end": [MINUTES[2]],
            "detail": [""],
            "url": ["u"],
        }
    )
    shown = [drill_figures.local(w, TZ) for w in window]
    timeline = go.Figure(drill_figures.service_timeline(service_metrics(), events, TZ, window=window))
    instances = go.Figure(
        drill_figures.service_instances(
            resources(),
            resources().iloc[0:0].assign(trace_id=[], start=[], duration_ms=[], status=[]),
            TZ,
            window=window,
        )
    )
    chain = go.Figure(
        drill_figures.chain_latency(
            service_metrics("a"), pd.DataFrame({"step": [1], "service": ["a"]}), {}, None, TZ, window=window
        )
    )
    for figure in (timeline, instances, chain):
        axes = [figure.layout[name] for name in figure.layout if name.startswith("xaxis")]
        assert axes and all([pd.Timestamp(x) for x in axis.range] == shown for axis in axes)
    rect = next(s for s in timeline.layout.shapes if s.type == "rect")
    assert pd.Timestamp(rect.x0) == shown[0] and pd.Timestamp(rect.x1) == drill_figures.local(MINUTES[2], TZ)
