"""The /maturity figures: valid Plotly figures, the radar closed and labelled, an empty progress chart bare."""

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import maturity as maturity_figures

DOMAINS = pd.DataFrame(
    {
        "domain_name": ["Monitoring", "Continuity (emergency, risk, crisis)", "业务连续性（应急、风险、危机）"],
        "level": [2, 0, 1],
    }
)


def test_radar_closes_its_polygon_and_breaks_long_names():
    figure = maturity_figures.radar(DOMAINS)
    go.Figure(figure)
    trace = figure["data"][0]
    assert trace["r"] == [2, 0, 1, 2] and trace["theta"][0] == trace["theta"][-1] == "Monitoring"
    assert trace["theta"][1:3] == ["Continuity<br>(emergency, risk, crisis)", "业务连续性<br>（应急、风险、危机）"]
    axis = figure["layout"]["polar"]["radialaxis"]
    assert axis["range"] == [0, 5] and axis["angle"] == axis["tickangle"] == 30  # between the first two spokes


def test_progress_steps_through_the_days_and_says_when_there_is_nothing():
    points = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-03-01", "2026-03-04"], utc=True),
            "level": [1, 2],
            "shown": ["1", "2+"],
            "satisfied": [10, 20],
        }
    )
    figure = maturity_figures.progress(points, "No assessments yet")
    go.Figure(figure)
    assert figure["data"][0]["y"] == [1, 2] and figure["data"][0]["text"] == ["1", "2+"]
    empty = maturity_figures.progress(points.iloc[:0], "No assessments yet")
    go.Figure(empty)
    assert empty["data"] == [] and empty["layout"]["annotations"][0]["text"] == "No assessments yet"
    assert not empty["layout"]["xaxis"]["visible"] and not empty["layout"]["yaxis"]["visible"]


def test_radar_outlines_the_evidence_level_dotted_when_given():
    figure = maturity_figures.radar(DOMAINS.assign(evidence_level=[3, 0, 2]), "evidence suggests")
    go.Figure(figure)
    confirmed, suggested = figure["data"]
    assert confirmed["r"] == [2, 0, 1, 2] and confirmed["fill"] == "toself"
    assert suggested["r"] == [3, 0, 2, 3] and suggested["line"]["dash"] == "dot" and "fill" not in suggested
    assert "evidence suggests L%{r}" in suggested["hovertemplate"]
    assert len(maturity_figures.radar(DOMAINS)["data"]) == 1
