"""The wall's pure builders: formats, the tile model and the event lists."""

import pandas as pd

from dashboard import formats
from dashboard.analytics import rollup, wallview

T0 = pd.Timestamp("2026-11-18 02:00", tz="UTC")


def test_formats():
    assert (
        formats.fmt_rate(1234.0),
        formats.fmt_rate(12.4),
        formats.fmt_rate(4.25),
        formats.fmt_rate(float("nan")),
    ) == ("1.2k/s", "12/s", "4.2/s", "–")
    assert (formats.fmt_ms(1500.0), formats.fmt_ms(812.3), formats.fmt_ms(8.44)) == ("1.50 s", "812 ms", "8.4 ms")
    assert (formats.fmt_pct(0.01234), formats.fmt_pct(0.01234, 1), formats.fmt_pct(None)) == ("1.23%", "1.2%", "–")
    assert wallview.duration_parts(pd.Timedelta(minutes=45)) == ("min", 45)
    assert wallview.duration_parts(pd.Timedelta(hours=3)) == ("h", 3)
    assert wallview.duration_parts(pd.Timedelta(days=2)) == ("d", 2)
    assert wallview.age_parts(T0 - pd.Timedelta(minutes=1505), T0) == {"d": 1, "h": 1, "m": 5, "total_m": 1505}
    assert wallview.preplan_name("https://runbooks.example.internal/order-gateway/") == "order-gateway"
    assert wallview.preplan_name(None) is None


def _evaluated():
    return pd.DataFrame(
        {
            "service": ["a", "b", "c"],
            "status": ["ok", "crit", "warn"],
            "requests_per_s": [10.0, 2000.0, 5.0],
            "latency_p95_ms": [12.0, 900.0, 40.0],
            "error_ratio": [0.0, 0.05, 0.001],
        }
    )


def test_structure_keeps_step_order_and_known_services():
    chains = pd.DataFrame(
        {
            "chain": ["x", "x", "x", "y"],
            "chain_name": ["X"] * 3 + ["Y"],
            "step": [2, 1, 3, 1],
            "service": ["b", "a", "ghost", "c"],
        }
    )
    layout = wallview.structure(chains, pd.DataFrame({"service": ["a", "b", "c"]}))
    assert layout == [
        {"chain": "x", "name": "X", "services": ["a", "b"]},
        {"chain": "y", "name": "Y", "services": ["c"]},
    ]
    assert wallview.tile_order(layout) == ["a", "b", "c"]


def test_tile_rows_show_the_breaking_metric_large_and_say_why():
    rolled = pd.DataFrame(
        {
            "service": ["a", "b"],
            "status": ["ok", "crit"],
            "metric": ["latency", "errors"],
            "reasons": [[], [rollup.Reason("crit", "errors", (("value", "5.0%"),))]],
        }
    )
    figures = wallview.tile_figures(_evaluated(), rolled, ["b", "a", "ghost"], ["2.5", "", ""])
    assert figures["logs"].tolist() == ["2.5", "", ""]
    rows = wallview.tile_rows(figures, {"b": ["errors 5.0%"]})
    assert rows == [
        ["crit", "5.00%", "errors", "2.0k/s", "900 ms", ["errors 5.0%"]],
        ["ok", "12 ms", "latency", "10/s", "0.00%", []],
        ["nodata", "–", "latency", "–", "–", []],
    ]


def test_names_in_the_page_language_where_the_frames_carry_them():
    services = pd.DataFrame(
        {"service": ["a", "b"], "display_name": ["Alpha", "Beta"], "x_display_name_zh": ["甲", None]}
    )
    assert wallview.display_names(services, "zh") == {"a": "甲", "b": "Beta"}
    assert wallview.display_names(services, "en") == {"a": "Alpha", "b": "Beta"}
    chains = pd.DataFrame(
        {"chain": ["x"], "chain_name": ["X"], "step": [1], "service": ["a"], "x_chain_name_zh": ["链"]}
    )
    assert wallview.structure(chains, services, "zh")[0]["name"] == "链"
    assert wallview.structure(chains.drop(columns="x_chain_name_zh"), services, "zh")[0]["name"] == "X"


def test_spark_points_send_the_hour_then_only_what_is_new():
    stamps = [T0 + pd.Timedelta(minutes=m) for m in range(0, 70, 10)]
    metrics = pd.DataFrame(
        {"ts": stamps * 2, "service": ["a"] * 7 + ["b"] * 7, "latency_p95_ms": [float(i) for i in range(14)]}
    )
    spark = wallview.spark_frame(metrics, ["b", "x", "a", "b"])  # x has no sample; b has two tiles
    full = wallview.spark_points(spark, None)
    assert full["reset"] and len(full["t"]) == 6  # the first point is an hour old
    assert full["v"][0] == [8.0, None, 1.0, 8.0]
    newest = wallview.spark_points(spark, full["t"][-2])
    assert not newest["reset"] and newest["t"] == full["t"][-1:] and newest["v"] == [[13.0, None, 6.0, 13.0]]
    assert wallview.spark_points(spark, 0)["reset"]  # the browser's points are too old to extend


def test_spark_frame_averages_a_timestamps_samples_to_three_digits():
    metrics = pd.DataFrame({"ts": [T0] * 3, "service": ["a", "a", "b"], "latency_p95_ms": [1.0, 2.2345, float("nan")]})
    spark = wallview.spark_frame(metrics, ["a", "b"])
    assert spark["points"].tolist() == ["[1.62,null]"]
    assert wallview.spark_points(wallview.spark_frame(metrics.iloc[:0], ["a"]), None) == {
        "reset": True,
        "t": [],
        "v": [],
    }


def test_spark_points_compare_whole_milliseconds_as_sent():
    stamps = [T0 + pd.Timedelta(minutes=m, microseconds=400) for m in range(3)]  # a source's float seconds
    metrics = pd.DataFrame({"ts": stamps, "service": "a", "latency_p95_ms": [1.0, 2.0, 3.0]})
    spark = wallview.spark_frame(metrics, ["a"])
    full = wallview.spark_points(spark, None)
    assert wallview.spark_points(spark, full["t"][-1]) == {"reset": False, "t": [], "v": []}
    after_first = wallview.spark_points(spark, full["t"][0])
    assert not after_first["reset"] and after_first["t"] == full["t"][1:]


def _incidents():
    return pd.DataFrame(
        {
            "incident_id": ["I1", "I2", "I3", "I4", "I5"],
            "priority": [3, 1, 1, 2, 1],
            "state": ["new", "in_progress", "new", "on_hold", "resolved"],
            "opened_at": [T0, T0 - pd.Timedelta(hours=2), T0 - pd.Timedelta(hours=1), T0, T0],
            "acknowledged_at": [pd.NaT, T0, pd.NaT, T0, T0],
        }
    )


def test_incidents_by_priority_and_majors_unacknowledged_first():
    assert list(wallview.active_incidents(_incidents())["incident_id"]) == ["I2", "I3", "I4", "I1"]
    assert list(wallview.major_incidents(_incidents())["incident_id"]) == ["I3", "I2"]
    assert wallview.incident_status(_incidents()) == "crit"
    assert wallview.incident_status(_incidents().query("priority > 1")) == "warn"
    assert wallview.incident_status(_incidents().query("priority > 2")) == "ok"


def test_changes_in_progress_next_change_and_latest_runs():
    changes = pd.DataFrame(
        {
            "change_id": ["C1", "C2", "C3", "C4"],
            "type": ["normal", "emergency", "normal", "standard"],
            "state": ["implement", "implement", "scheduled", "closed"],
            "actual_start": [T0 - pd.Timedelta(minutes=30), T0, pd.NaT, T0 - pd.Timedelta(days=1)],
            "actual_end": [pd.NaT, pd.NaT, pd.NaT, T0],
            "planned_start": [T0, T0, T0 + pd.Timedelta(hours=1), T0],
        }
    )
    assert list(wallview.changes_in_progress(changes)["change_id"]) == ["C2", "C1"]
    assert wallview.next_change(changes, T0)["change_id"] == "C3"
    assert wallview.next_change(changes.iloc[:2], T0) is None
    runs = pd.DataFrame(
        {"run_id": ["R1", "R2", "R3"], "started_at": [T0, T0 + pd.Timedelta(hours=1), T0 - pd.Timedelta(hours=1)]}
    )
    assert list(wallview.latest_chaos_runs(runs, 2)["run_id"]) == ["R2", "R1"]
