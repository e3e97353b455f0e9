"""Pure figure builder of /slo: each chain's error budget burning down over the budget's window."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import STATUS_COLOURS
from dashboard.i18n import t

TEXT, MUTED, GRID = "#e6edf3", "#8b98a5", "#26313d"
LINES = ("#56b4e9", "#e69f00", "#cc79a7", "#009e73", "#f0e442", "#0072b2", "#d55e00")  # Okabe-Ito
MARKERS = ("circle", "square", "diamond", "triangle-up", "x", "star", "hexagon")  # a line told apart without colour
SAME_LINE = 0.01  # lines at most 1% of the budget apart on every day draw as one: closer than a line is wide


def _lines(days: pd.DataFrame, targets: dict[str, float]) -> list[tuple[pd.Series, list[str]]]:
    """Each distinct burn-down (the budget left by day) with the chains, in ``targets``' order, that draw it: a
    chain joins the first line on the same days never more than ``SAME_LINE`` from its own."""
    lines: list[tuple[pd.Series, list[str]]] = []
    for chain, target in targets.items():
        rows = days[days["chain"] == chain].sort_values("day")
        budget = (1 - target) * rows["total"].sum()
        if rows.empty or budget <= 0:
            continue
        left = pd.Series((1 - rows["bad"].cumsum() / budget).to_numpy(), index=pd.DatetimeIndex(rows["day"]))
        same = (c for line, c in lines if line.index.equals(left.index) and (line - left).abs().max() <= SAME_LINE)
        shared = next(same, None)
        if shared is None:
            lines.append((left, [chain]))
        else:
            shared.append(chain)
    return lines


def burn_down(days: pd.DataFrame, targets: dict[str, float], names: dict[str, str], lang: str = "en") -> go.Figure:
    """A line per chain in ``targets`` (chain -> its target): the share of the window's budget left at the end
    of each day, ``1 - cumulative bad / ((1 - target) * the window's events)``, from ``days`` (``slo_days`` of
    one objective); a line at 0, where the budget is spent. Chains whose lines coincide (all at 100% left, say)
    share one line (the first one's) named after all of them, so none hides behind another; hovering a day lists
    every line."""
    fig = go.Figure()
    lines = _lines(days, targets)
    for drawn, (left, chains) in enumerate(lines):
        name = t("list.sep", lang).join(names.get(chain, chain) for chain in chains)
        fig.add_trace(
            go.Scatter(
                x=left.index,
                y=left.to_numpy(),
                name=name,
                mode="lines+markers",
                line={"color": LINES[drawn % len(LINES)], "width": 3},
                marker={"size": 7, "symbol": MARKERS[drawn % len(MARKERS)]},
                hovertemplate=f"{name}: %{{y:.0%}}<extra></extra>",
            )
        )
    if not lines:
        fig.add_annotation(
            text=t("slo.chart_empty", lang), showarrow=False, x=0, xref="paper", xanchor="left", font={"color": MUTED}
        )
    fig.add_hline(y=0, line={"color": STATUS_COLOURS["crit"], "width": 2, "dash": "dot"})
    fig.update_layout(
        template="plotly_dark",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"color": TEXT, "size": 14},
        margin={"l": 60, "r": 20, "t": 10, "b": 40},
        legend={"orientation": "h", "y": -0.15},
        xaxis={"gridcolor": GRID, "visible": bool(lines)},
        yaxis={"gridcolor": GRID, "tickformat": ".0%", "title": t("slo.left", lang), "visible": bool(lines)},
        hovermode="x unified",
        xaxis_hoverformat="%Y-%m-%d",
    )
    return fig
