"""The /capacity chart: riskiest service on top, a bar trace per risk, the ceiling drawn where the settings put it."""

import pandas as pd

from dashboard.figures.capacity import chart_height, peaks_chart

TABLE = pd.DataFrame(
    {
        "service": ["hot", "exposed", "calm", "blind"],
        "busiest": ["hot-1", "exposed-2", "calm-1", None],
        "cpu_peak": [0.9, 0.5, 0.2, float("nan")],
        "site_loss_cpu": [1.2, 0.8, 0.3, float("nan")],
        "lost_site": ["a", "b", None, None],
        "instances": [3, 3, 2, 2],
        "sites": [3, 3, 1, 1],
    }
)


def test_riskiest_on_top_and_a_trace_per_risk():
    fig = peaks_chart(TABLE, ceiling=0.7, lang="en")
    assert list(fig.layout.yaxis.categoryarray) == ["calm", "exposed", "hot"]  # drawn bottom up: hot on top
    bars = {trace.name: list(trace.y) for trace in fig.data if trace.type == "bar"}
    assert bars == {
        "Peak over the ceiling": ["hot"],
        "Peak, over after a site loss": ["exposed"],
        "Peak, holds a site loss": ["calm"],
    }
    losses = next(trace for trace in fig.data if trace.type == "scatter")
    assert list(losses.x) == [1.2, 0.8, 0.3] and "after losing a: 120%" in losses.hovertext[0]
    line = next(shape for shape in fig.layout.shapes if shape.type == "line")
    assert line.x0 == line.x1 == 0.7
    assert fig.layout.xaxis.range[1] > 1.2  # the worst site loss fits


def test_the_chart_grows_with_the_services_and_speaks_chinese():
    assert chart_height(TABLE) == "9.8rem" and chart_height(TABLE.iloc[0:0]) == "6.6rem"  # blind has no row
    empty = peaks_chart(TABLE.iloc[0:0], ceiling=0.7)  # no peaks yet: no axes, a line that says so
    assert not empty.data and not empty.layout.xaxis.visible
    assert empty.layout.annotations[0].text == "No peaks to chart yet."
    fig = peaks_chart(TABLE, ceiling=0.7, lang="zh")
    assert {trace.name for trace in fig.data} >= {"峰值已超上限", "失去一个站点后"}
