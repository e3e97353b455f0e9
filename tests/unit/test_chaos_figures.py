"""/chaos figure builders: pure, from frames to figures."""

import pandas as pd

from dashboard.analytics import resilience
from dashboard.figures import chaos as chaos_figures

NOW = pd.Timestamp("2026-11-18 02:00", tz="UTC")
CHAINS = pd.DataFrame(
    {"chain": ["trade", "trade"], "chain_name": ["Trading", "Trading"], "step": [1, 2], "service": ["login", "quote"]}
)


def _runs():
    return pd.DataFrame(
        {
            "run_id": ["a", "b", "c"],
            "experiment": ["e1", "e2", "e3"],
            "service": ["quote", "login", "quote"],
            "fault": ["pod-kill", None, "latency"],
            "started_at": [NOW - pd.Timedelta(days=d) for d in (0, 1, 2)],
            "ended_at": [NOW] * 3,
            "status": ["failed", "passed", "not_run"],
            "deviated": [True, False, False],
            "probe_success_ratio": [0.5, 1.0, None],
            "recovery_s": [None, 40.0, None],
            "source": ["s"] * 3,
            "url": [None] * 3,
            "x_reason": ["steady state deviated: probe 'health' not within tolerance", None, None],
        }
    )


def test_timeline_has_a_trace_per_status_on_chain_and_service_rows():
    fig = chaos_figures.runs_timeline(resilience.timeline_rows(CHAINS, _runs()), "Asia/Shanghai", "zh")
    assert [tr.name for tr in fig.data] == ["通过", "未通过", "未执行"]
    failed = fig.data[1]
    assert list(failed.y) == [1] and list(failed.customdata) == ["a"]  # row 1: Trading / quote
    assert list(fig.layout.yaxis.ticktext) == ["<b>Trading</b>   login", "quote"]
    assert "deviated" in failed.hovertext[0] and failed.marker.symbol == "square"
    assert pd.Timestamp(failed.x[0]).strftime("%H:%M") == "10:00"  # display time zone


def test_timeline_separates_chains():
    chains = pd.concat(
        [CHAINS, pd.DataFrame({"chain": ["money"], "chain_name": ["Money"], "step": [1], "service": ["login"]})]
    )
    fig = chaos_figures.runs_timeline(resilience.timeline_rows(chains, _runs()), "UTC")
    assert list(fig.layout.yaxis.ticktext) == ["<b>Trading</b>   login", "quote", "<b>Money</b>   login"]
    assert [shape.y0 for shape in fig.layout.shapes] == [1.5]


def test_timeline_height_is_a_row_per_chain_step_in_rem_and_the_figure_leaves_it_to_the_page():
    rows = resilience.timeline_rows(CHAINS, _runs())
    assert chaos_figures.timeline_height(rows) == "14.5rem"  # two rows: no shorter than the per-day chart
    many = pd.DataFrame({"chain_name": ["Trading"] * 20, "service": [f"s{i}" for i in range(20)]})
    assert chaos_figures.timeline_height(many) == "39rem"  # 4 + 1.75 per row
    assert chaos_figures.runs_timeline(rows, "UTC").layout.height is None


def test_runs_per_day_stacks_statuses():
    fig = chaos_figures.runs_per_day(_runs(), "UTC")
    assert fig.layout.barmode == "stack"
    assert {tr.name: int(sum(tr.y)) for tr in fig.data} == {"passed": 1, "failed": 1, "not run": 1}


def test_empty_runs_draw_empty_figures():
    empty = _runs().iloc[0:0]
    assert chaos_figures.runs_per_day(empty, "UTC").data == ()
    assert chaos_figures.runs_timeline(resilience.timeline_rows(CHAINS, empty), "UTC").data == ()
