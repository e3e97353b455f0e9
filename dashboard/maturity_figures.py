"""The /maturity figures as Plotly figure dicts: the domain radar and the progress chart."""
from __future__ import annotations

import pandas as pd

LAYOUT = {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "font": {"color": "#c9d4e3"},
          "margin": {"l": 40, "r": 40, "t": 30, "b": 40}, "showlegend": False}
ACCENT = "#4da3ff"


def radar(domains: pd.DataFrame) -> dict:
    """Level reached per domain on a 0-5 radar, closed polygon."""
    names = list(domains["domain_name"]) + list(domains["domain_name"][:1])
    levels = [int(v) for v in domains["level"]] + [int(v) for v in domains["level"][:1]]
    trace = {"type": "scatterpolar", "r": levels, "theta": names, "fill": "toself", "line": {"color": ACCENT},
             "hovertemplate": "%{theta}: %{r}<extra></extra>"}
    polar = {"bgcolor": "rgba(0,0,0,0)", "radialaxis": {"range": [0, 5], "dtick": 1, "gridcolor": "#34404f"},
             "angularaxis": {"gridcolor": "#34404f"}}
    return {"data": [trace], "layout": {**LAYOUT, "polar": polar}}


def progress(points: pd.DataFrame, empty_text: str) -> dict:
    """The overall level after each day with assessments, as a step line."""
    layout = {**LAYOUT, "yaxis": {"range": [0, 5.2], "dtick": 1, "gridcolor": "#34404f"},
              "xaxis": {"gridcolor": "#34404f"}}
    if not len(points):
        layout["annotations"] = [{"text": empty_text, "showarrow": False, "xref": "paper", "yref": "paper",
                                  "x": 0.5, "y": 0.5}]
        return {"data": [], "layout": layout}
    trace = {"type": "scatter", "mode": "lines+markers", "line": {"shape": "hv", "color": ACCENT},
             "x": [d.isoformat() for d in points["date"]], "y": [int(v) for v in points["level"]],
             "text": list(points["shown"]), "hovertemplate": "%{x|%Y-%m-%d}: %{text}<extra></extra>"}
    return {"data": [trace], "layout": layout}
