"""The /maturity figures as Plotly figure dicts: the domain radar and the progress chart."""

from __future__ import annotations

import re

import pandas as pd

LAYOUT = {
    "paper_bgcolor": "rgba(0,0,0,0)",
    "plot_bgcolor": "rgba(0,0,0,0)",
    "font": {"color": "#c9d4e3"},
    "margin": {"l": 40, "r": 40, "t": 30, "b": 40},
    "showlegend": False,
}
ACCENT = "#4da3ff"
EVIDENCE = "#f5c451"  # the level the evidence suggests, drawn dotted over the confirmed one


def _label(name: str) -> str:
    """A domain name on two lines when it has a bracketed part: "Continuity<br>(emergency, ...)"."""
    return re.sub(r"\s*([(（])", r"<br>\1", name, count=1)


def radar(domains: pd.DataFrame, evidence_name: str = "evidence") -> dict:
    """Level reached per domain on a 0-5 radar, a closed filled polygon, and, when ``domains`` has an
    ``evidence_level`` column, the level the evidence suggests as a dotted outline (named ``evidence_name``
    in its hover text); room around it for the domain names."""
    names = [_label(n) for n in domains["domain_name"]]
    levels = [int(v) for v in domains["level"]]
    trace = {
        "type": "scatterpolar",
        "r": levels + levels[:1],
        "theta": names + names[:1],
        "fill": "toself",
        "line": {"color": ACCENT},
        "marker": {"size": 6},
        "hovertemplate": "%{theta}: %{r}<extra></extra>",
    }
    traces = [trace]
    if "evidence_level" in domains:
        suggested = [int(v) for v in domains["evidence_level"]]
        traces.append(
            {
                "type": "scatterpolar",
                "r": suggested + suggested[:1],
                "theta": names + names[:1],
                "mode": "lines",
                "line": {"color": EVIDENCE, "dash": "dot", "width": 2.5},
                "hovertemplate": f"%{{theta}}: {evidence_name} L%{{r}}<extra></extra>",
            }
        )
    between = 90 - 180 / max(len(names), 1)  # the level ticks run between the first two domains' spokes
    polar = {
        "bgcolor": "rgba(0,0,0,0)",
        "domain": {"x": [0.2, 0.8], "y": [0.1, 0.9]},
        "radialaxis": {
            "range": [0, 5],
            "dtick": 1,
            "gridcolor": "#34404f",
            "angle": between,
            "tickangle": between,
            "tickfont": {"color": "#8b98a5"},
        },  # level numbers upright
        "angularaxis": {"gridcolor": "#34404f", "direction": "clockwise", "rotation": 90},
    }
    return {"data": traces, "layout": {**LAYOUT, "margin": {"l": 10, "r": 10, "t": 10, "b": 10}, "polar": polar}}


def progress(points: pd.DataFrame, empty_text: str) -> dict:
    """The overall level after each day with assessments, as a step line."""
    layout = {
        **LAYOUT,
        "yaxis": {"range": [0, 5.2], "dtick": 1, "gridcolor": "#34404f"},
        "xaxis": {"type": "date", "gridcolor": "#34404f"},
    }
    if not len(points):
        layout["annotations"] = [
            {
                "text": empty_text,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"color": "#8b98a5"},
            }
        ]
        layout["xaxis"] = layout["yaxis"] = {"visible": False}
        return {"data": [], "layout": layout}
    trace = {
        "type": "scatter",
        "mode": "lines+markers",
        "line": {"shape": "hv", "color": ACCENT},
        "x": [d.isoformat() for d in points["date"]],
        "y": [int(v) for v in points["level"]],
        "text": list(points["shown"]),
        "hovertemplate": "%{x|%Y-%m-%d}: %{text}<extra></extra>",
    }
    return {"data": [trace], "layout": layout}
