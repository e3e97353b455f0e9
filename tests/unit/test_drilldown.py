"""Drill-down computations on hand-made frames: step stats, bottleneck, waterfall, verdict."""

import pandas as pd
import pytest

from dashboard.analytics import drilldown
from datasources.base import empty_frame

T0 = pd.Timestamp("2026-11-18 02:00", tz="UTC")


def ms(n: float) -> pd.Timedelta:
    return pd.Timedelta(milliseconds=n)


def spans(*rows) -> pd.DataFrame:
    """rows: (span_id, parent_id, service, start_ms, duration_ms, instance)."""
    return pd.DataFrame(
        [
            {
                "trace_id": "t" * 32,
                "span_id": s,
                "parent_id": p,
                "service": svc,
                "operation": "op",
                "start": T0 + ms(start),
                "duration_ms": float(d),
                "status": "ok",
                "instance": inst,
            }
            for s, p, svc, start, d, inst in rows
        ]
    )


def metrics(rows) -> pd.DataFrame:
    """rows: (minute, service, requests_per_s, p95_ms, error_ratio)."""
    return pd.DataFrame(
        [
            {
                "ts": T0 + pd.Timedelta(minutes=m),
                "service": s,
                "requests_per_s": r,
                "error_ratio": e,
                "latency_p50_ms": p / 3,
                "latency_p95_ms": p,
                "latency_p99_ms": p * 2,
            }
            for m, s, r, p, e in rows
        ]
    )


STEPS = pd.DataFrame({"chain": "c", "chain_name": "C", "step": [1, 2, 3], "service": ["a", "b", "c"]})


def test_step_stats_weight_by_requests_and_give_shares():
    frame = metrics(
        [
            (0, "a", 10, 10, 0.0),
            (1, "a", 30, 30, 0.0),
            (0, "b", 5, 60, 0.01),
            (1, "b", 5, 60, 0.03),
            (0, "c", 1, 10, 0.0),
            (1, "c", 1, 10, 0.0),
            (9, "a", 100, 999, 0.5),
        ]
    )
    rows = drilldown.within(frame, "ts", T0, T0 + pd.Timedelta(minutes=5))
    stats = drilldown.step_stats(STEPS, rows).set_index("service")
    assert stats.loc["a", "requests_per_s"] == 20
    assert stats.loc["a", "latency_p95_ms"] == pytest.approx((10 * 10 + 30 * 30) / 40)  # weighted, minute 9 outside
    assert stats.loc["b", "error_ratio"] == pytest.approx(0.02)
    assert stats["latency_share"].sum() == pytest.approx(1.0)
    assert stats.loc["b", "latency_share"] == pytest.approx(60 / (25 + 60 + 10))


def test_bottleneck_is_the_largest_latency_share_without_error_breaches():
    stats = pd.DataFrame(
        {
            "step": [1, 2],
            "service": ["a", "b"],
            "latency_p95_ms": [10.0, 30.0],
            "error_ratio": [0.002, 0.0],
            "latency_share": [0.25, 0.75],
            "error_share": [1.0, 0.0],
        }
    )
    found = drilldown.bottleneck(stats, {"a": 0.01, "b": 0.01})
    assert (found.service, found.reason, found.share) == ("b", "latency", 0.75)


def test_bottleneck_follows_errors_when_a_step_breaks_its_error_target():
    stats = pd.DataFrame(
        {
            "step": [1, 2],
            "service": ["a", "b"],
            "latency_p95_ms": [10.0, 30.0],
            "error_ratio": [0.05, 0.0],
            "latency_share": [0.25, 0.75],
            "error_share": [1.0, 0.0],
        }
    )
    found = drilldown.bottleneck(stats, {"a": 0.01, "b": 0.01})
    assert (found.service, found.step, found.reason) == ("a", 1, "errors")


def test_no_bottleneck_without_traffic():
    stats = drilldown.step_stats(STEPS, empty_frame("service_metrics"))
    assert drilldown.bottleneck(stats, {}) is None


def test_self_time_subtracts_the_union_of_children():
    # root 0-100 with children 10-40 and 30-60 (overlapping: union 10-60), grandchild 15-25 of the first
    table = drilldown.trace_table(
        spans(
            ("r", None, "gw", 0, 100, "gw-1"),
            ("x", "r", "x", 10, 30, "x-1"),
            ("y", "r", "y", 30, 30, "y-1"),
            ("g", "x", "g", 15, 10, "g-1"),
        )
    )
    self_ms = dict(zip(table["span_id"], table["self_ms"]))
    assert self_ms == pytest.approx({"r": 50.0, "x": 20.0, "y": 30.0, "g": 10.0})
    assert list(table["span_id"]) == ["r", "x", "g", "y"]  # depth first, by start
    assert list(table["depth"]) == [0, 1, 2, 1]


def test_critical_path_walks_back_from_the_end():
    # a and b run in parallel; b ends last, so it is critical; c runs before both and is critical too;
    # a overlaps b and is not; the orphan's parent is missing, so it is a root off the main path
    table = drilldown.trace_table(
        spans(
            ("r", None, "gw", 0, 100, None),
            ("c", "r", "c", 0, 20, None),
            ("a", "r", "a", 25, 40, None),
            ("b", "r", "b", 30, 60, None),
            ("b1", "b", "b1", 35, 50, None),
            ("o", "missing", "o", 0, 5, None),
        )
    )
    critical = set(table.loc[table["critical"], "span_id"])
    assert critical == {"r", "b", "b1", "c"}


def test_what_made_it_slow_names_the_span_and_its_saturated_instance():
    table = drilldown.trace_table(spans(("r", None, "gw", 0, 200, "gw-1"), ("s", "r", "risk", 10, 180, "risk-2")))
    resources = pd.DataFrame(
        {
            "ts": [T0 - pd.Timedelta(minutes=1), T0, T0 + pd.Timedelta(minutes=1), T0, T0 + pd.Timedelta(minutes=1)],
            "service": ["risk"] * 3 + ["gw"] * 2,
            "instance": ["risk-2"] * 3 + ["gw-1"] * 2,
            "cpu_ratio": [0.99, 0.4, 0.93, 0.2, 0.2],
            "memory_ratio": [0.3, 0.3, 0.4, 0.3, 0.3],
            "memory_bytes": 1.0,
            "net_rx_bps": 1.0,
            "net_tx_bps": 1.0,
        }
    )
    verdict = drilldown.what_made_it_slow(table, resources)
    assert (verdict.service, verdict.instance, verdict.self_ms) == ("risk", "risk-2", 180.0)
    assert verdict.share == pytest.approx(0.9)
    assert verdict.cpu_peak == 0.93  # the sample before the span (0.99) does not count
    assert verdict.saturated is True


@pytest.mark.parametrize(
    "cpu, memory, expected", [(0.84, 0.5, False), (0.85, 0.5, True), (0.2, 0.9, True), (None, None, None)]
)
def test_saturation_thresholds(cpu, memory, expected):
    verdict = drilldown.Verdict("s", "svc", "op", "i-1", 1.0, 1.0, cpu, memory)
    assert verdict.saturated is expected


def test_verdict_without_resource_rows_is_unknown():
    table = drilldown.trace_table(spans(("r", None, "gw", 0, 10, "gw-1")))
    empty = pd.DataFrame(columns=["ts", "instance", "cpu_ratio", "memory_ratio"])
    assert drilldown.what_made_it_slow(table, empty).saturated is None


def test_slow_and_failed_calls_one_row_per_trace_slowest_first():
    calls = pd.DataFrame(
        {
            "trace_id": ["a", "b", "c", "d", "a"],
            "service": ["s", "s", "s", "s", "x"],
            "operation": "op",
            "start": [T0 + pd.Timedelta(minutes=i) for i in range(5)],
            "duration_ms": [5.0, 50.0, 1.0, 20.0, 999.0],
            "status": ["ok", "ok", "error", "ok", "ok"],
            "instance": "s-1",
        }
    )
    picked = drilldown.slow_and_failed_calls(calls[calls["service"] == "s"], limit=2)
    assert list(picked["trace_id"]) == ["b", "d", "c"]
    failed_first = drilldown.slow_and_failed_calls(calls[calls["service"] == "s"], limit=2, failed_first=True)
    assert list(failed_first["trace_id"]) == ["c", "b", "d"]


def test_a_failed_call_without_a_start_is_not_the_latest_failed():
    calls = pd.DataFrame(
        {
            "trace_id": ["a", "b", "c"],
            "service": "s",
            "operation": "op",
            "start": [T0, pd.NaT, T0 + pd.Timedelta(minutes=1)],
            "duration_ms": [50.0, 1.0, 2.0],
            "status": ["ok", "error", "error"],
            "instance": "s-1",
        }
    )
    assert list(drilldown.slow_and_failed_calls(calls, limit=1)["trace_id"]) == ["a", "c"]


def test_service_events_overlap_the_window_and_open_ones_end_at_its_end():
    end = T0 + pd.Timedelta(hours=1)
    alerts = pd.DataFrame(
        {
            "alert_id": ["A1", "A2"],
            "name": ["HighLatency", "Old"],
            "service": ["s", "s"],
            "starts_at": [T0 + pd.Timedelta(minutes=5), T0 - pd.Timedelta(hours=3)],
            "ends_at": [pd.NaT, T0 - pd.Timedelta(hours=2)],
            "summary": ["slow", "old"],
            "url": ["u", "u"],
        }
    )
    empty = {"incidents": empty_frame("incidents")} | {
        name: pd.DataFrame(columns=cols)
        for name, cols in {
            "changes": [
                "change_id",
                "service",
                "actual_start",
                "planned_start",
                "actual_end",
                "planned_end",
                "outcome",
                "title",
                "url",
            ],
            "chaos_runs": [
                "run_id",
                "service",
                "started_at",
                "ended_at",
                "fault",
                "status",
                "experiment",
                "deviated",
                "url",
            ],
        }.items()
    }
    events = drilldown.service_events("s", T0, end, alerts, empty["incidents"], empty["changes"], empty["chaos_runs"])
    assert list(events["ident"]) == ["A1"] and events["end"].iloc[0] == end


def test_an_ended_incident_ends_at_its_close_time_not_at_the_window_end():
    """A cancelled P4 from a week before stays open until now on no axis; an open one runs to the window's end."""
    end = T0 + pd.Timedelta(hours=24)
    incidents = pd.DataFrame(
        {
            "incident_id": ["INC-C", "INC-OLD", "INC-OPEN"],
            "title": "t",
            "priority": [4, 4, 2],
            "state": ["cancelled", "cancelled", "in_progress"],
            "service": "s",
            "opened_at": [T0, T0 - pd.Timedelta(days=7), T0 + pd.Timedelta(hours=2)],
            "acknowledged_at": [T0 + pd.Timedelta(minutes=5), T0 - pd.Timedelta(days=7), pd.NaT],
            "resolved_at": pd.NaT,
            "x_closed_at": [T0 + pd.Timedelta(minutes=40), pd.NaT, pd.NaT],
            "url": "u",
        }
    )
    empty = {name: empty_frame(name) for name in ("alerts", "changes", "chaos_runs")}
    events = drilldown.service_events("s", T0, end, empty["alerts"], incidents, empty["changes"], empty["chaos_runs"])
    assert list(events["ident"]) == ["INC-C", "INC-OPEN"]
    assert list(events["end"]) == [T0 + pd.Timedelta(minutes=40), end]


def test_service_events_of_two_services_from_the_same_frames_are_each_their_own():
    end = T0 + pd.Timedelta(hours=1)
    alerts = pd.DataFrame(
        {
            "alert_id": ["A1", "A2", "A3"],
            "name": ["HighLatency", "Errors", "NoService"],
            "service": ["s", "t", None],
            "starts_at": [T0 + pd.Timedelta(minutes=5), T0 + pd.Timedelta(minutes=9), T0],
            "ends_at": [pd.NaT, T0 + pd.Timedelta(minutes=20), pd.NaT],
            "summary": ["slow", None, "x"],
            "url": ["u", "u", "u"],
        }
    )
    empty = {name: empty_frame(name) for name in ("incidents", "changes", "chaos_runs")}
    frames = (alerts, empty["incidents"], empty["changes"], empty["chaos_runs"])
    on_s, on_t = (drilldown.service_events(name, T0, end, *frames) for name in ("s", "t"))
    assert list(on_s["ident"]) == ["A1"] and on_s["end"].iloc[0] == end
    assert list(on_t["ident"]) == ["A2"] and on_t["end"].iloc[0] == T0 + pd.Timedelta(minutes=20)
    assert on_t["detail"].iloc[0] == ""
    assert drilldown.service_events("s", T0, T0 + pd.Timedelta(minutes=2), *frames).empty


def test_a_service_s_events_are_read_from_its_rows_alone(monkeypatch):
    """A page's events cost its service's rows, not the estate's: new frame objects after a poll are indexed
    by service once, and only the requested service's rows are read."""
    end = T0 + pd.Timedelta(hours=1)
    incidents = pd.DataFrame(
        {
            "incident_id": [f"INC-{i}" for i in range(1000)],
            "title": "t",
            "priority": 2,
            "state": "in_progress",
            "service": [f"svc-{i % 100}" for i in range(1000)],
            "opened_at": [T0 + pd.Timedelta(seconds=i) for i in range(1000)],
            "acknowledged_at": pd.NaT,
            "resolved_at": pd.NaT,
            "url": "u",
        }
    )
    empty = {name: empty_frame(name) for name in ("alerts", "changes", "chaos_runs")}
    read, real = [], drilldown.end_times
    monkeypatch.setattr(drilldown, "end_times", lambda rows: read.append(len(rows)) or real(rows))
    frames = (empty["alerts"], incidents, empty["changes"], empty["chaos_runs"])
    events = drilldown.service_events("svc-7", T0, end, *frames)
    assert list(events["ident"]) == [f"INC-{i}" for i in range(7, 1000, 100)] and read == [10]
    assert drilldown.service_events("svc-7", T0, end, *frames).equals(events) and read == [10]  # kept per frames
    assert list(drilldown.service_events("svc-8", T0, end, *frames)["ident"])[:1] == ["INC-8"] and read == [10, 10]
