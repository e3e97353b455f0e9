"""Pure figure builders of /chaos: chaos runs over time per chain and service, and per day."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import STATUS_COLOURS
from dashboard.i18n import t

RUN_STATUSES = ("passed", "failed", "aborted", "not_run", "running")
RUN_COLOURS = {
    "passed": STATUS_COLOURS["ok"],
    "failed": STATUS_COLOURS["crit"],
    "aborted": STATUS_COLOURS["warn"],
    "not_run": STATUS_COLOURS["nodata"],
    "running": "#5b9cf5",
}
RUN_SYMBOLS = {
    "passed": "circle",
    "failed": "square",
    "aborted": "triangle-up",
    "not_run": "circle-open",
    "running": "diamond",
}
TEXT, MUTED, GRID = "#e6edf3", "#8b98a5", "#26313d"
ROW_REM, FRAME_REM, PER_DAY_REM = 1.75, 4.0, 14.5  # a timeline row; its axis and legend; the per-day chart


def _dark(fig: go.Figure) -> go.Figure:
    fig.update_layout(
        template="plotly_dark",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        font={"color": TEXT},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        hoverlabel={"align": "left"},
    )
    fig.update_xaxes(gridcolor=GRID, zeroline=False)
    fig.update_yaxes(gridcolor=GRID, zeroline=False)
    return fig


def _hover(rows: pd.DataFrame, lang: str) -> list[str]:
    def pct(v):
        return "–" if pd.isna(v) else f"{v:.0%}"

    def seconds(v):
        return "–" if pd.isna(v) else f"{v:.0f} s"

    reasons = rows["x_reason"] if "x_reason" in rows else pd.Series(None, index=rows.index)
    return [
        f"<b>{r.experiment}</b><br>{r.service} · {r.fault or '–'}<br>{t('chaos.status.' + r.status, lang)}"
        f"<br>{t('chaos.probes', lang)} {pct(r.probe_success_ratio)}"
        f" · {t('chaos.recovery', lang)} {seconds(r.recovery_s)}"
        + (f"<br>{reason[:120]}" if isinstance(reason, str) else "")
        for r, reason in zip(rows.itertuples(), reasons)
    ]


def timeline_height(rows: pd.DataFrame) -> str:
    """The runs timeline's CSS height: a row per (chain, service) plus its axis and legend, at least
    the per-day chart's, in rem so that it grows with the type on a larger screen."""
    count = len(set(zip(rows["chain_name"], rows["service"])))
    return f"{max(PER_DAY_REM, FRAME_REM + ROW_REM * count):g}rem"


def runs_timeline(rows: pd.DataFrame, tz: str, lang: str = "en") -> go.Figure:
    """Each run a marker at its start, on its (business chain, service) row; colour and shape by status.

    ``rows`` comes from ``resilience.timeline_rows``; their order is the rows' order, top down.
    A chain's name labels its first row and a line separates it from the chain above.
    """
    categories = list(dict.fromkeys(zip(rows["chain_name"], rows["service"])))
    position = {category: i for i, category in enumerate(categories)}
    fig = go.Figure()
    for status in RUN_STATUSES:
        part = rows[rows["status"] == status]
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part["started_at"].dt.tz_convert(tz),
                y=[position[c] for c in zip(part["chain_name"], part["service"])],
                mode="markers",
                name=t(f"chaos.status.{status}", lang),
                marker={
                    "color": RUN_COLOURS[status],
                    "symbol": RUN_SYMBOLS[status],
                    "size": 12,
                    "line": {"width": 2, "color": RUN_COLOURS[status]},
                },
                hovertext=_hover(part, lang),
                hoverinfo="text",
                customdata=part["run_id"],
            )
        )
    labels, previous = [], None
    for i, (chain, service) in enumerate(categories):
        first = chain != previous
        labels.append(f"<b>{chain}</b>   {service}" if first else service)
        if first and i:
            fig.add_hline(y=i - 0.5, line={"color": MUTED, "width": 1})
        previous = chain
    fig = _dark(fig)
    fig.update_yaxes(
        tickmode="array",
        tickvals=list(range(len(categories))),
        ticktext=labels,
        showgrid=False,
        range=[len(categories) - 0.5, -0.5],
    )
    return fig


def runs_per_day(runs: pd.DataFrame, tz: str, lang: str = "en") -> go.Figure:
    """Runs per day stacked by status (display time zone)."""
    day = runs["started_at"].dt.tz_convert(tz).dt.floor("D").dt.tz_localize(None)
    counts = pd.crosstab(day, runs["status"]) if len(runs) else pd.DataFrame()
    fig = go.Figure()
    for status in RUN_STATUSES:
        if status in counts:
            fig.add_trace(
                go.Bar(
                    x=counts.index,
                    y=counts[status],
                    name=t(f"chaos.status.{status}", lang),
                    marker_color=RUN_COLOURS[status],
                )
            )
    fig = _dark(fig)
    fig.update_layout(barmode="stack", bargap=0.25)
    fig.update_yaxes(dtick=1, rangemode="tozero")
    return fig
