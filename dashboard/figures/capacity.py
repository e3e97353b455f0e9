"""Pure figure builder of /capacity: each service's peak and site-loss CPU against the headroom line."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import STATUS_COLOURS
from dashboard.i18n import t

TEXT, MUTED, GRID = "#e6edf3", "#8b98a5", "#26313d"
ROW_REM, FRAME_REM = 1.6, 5.0  # a service's row; the axis, legend and margins


def chart_height(table: pd.DataFrame) -> str:
    """The chart's CSS height: a row per service with a CPU peak plus the frame, in rem so that it grows with
    the type."""
    return f"{FRAME_REM + ROW_REM * max(int(table['cpu_peak'].notna().sum()), 1):g}rem"


def _status(peak: float, site_loss: float, ceiling: float) -> str:
    """crit when the peak itself is over the ceiling, warn when only a site loss would push it over."""
    return "crit" if peak > ceiling else "warn" if site_loss > ceiling else "ok"


def _no_peaks(lang: str) -> go.Figure:
    """No axes to read nothing off: a muted line saying the chart waits for a trading day's peaks."""
    fig = go.Figure()
    fig.add_annotation(
        text=t("capacity.chart_empty", lang), showarrow=False, x=0, xref="paper", xanchor="left", font={"color": MUTED}
    )
    fig.update_layout(
        template="plotly_dark",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 10, "r": 20, "t": 10, "b": 10},
        xaxis={"visible": False},
        yaxis={"visible": False},
    )
    return fig


def peaks_chart(table: pd.DataFrame, ceiling: float, lang: str = "en") -> go.Figure:
    """A bar per service (the busiest instance's CPU peak, a trace per risk: over the ceiling at the peak, over
    it after a site loss, holding a site loss), a diamond at its site-loss CPU
    and a line at ``ceiling`` (1 - headroom target); ``table`` from ``capacity.services``, riskiest first
    and drawn at the top."""
    rows = table[table["cpu_peak"].notna()]
    if rows.empty:
        return _no_peaks(lang)
    services = rows["service"].tolist()
    statuses = [_status(p, s, ceiling) for p, s in zip(rows["cpu_peak"], rows["site_loss_cpu"])]
    hover = [
        t(
            "capacity.hover",
            lang,
            service=r.service,
            busiest=r.busiest,
            peak=f"{r.cpu_peak:.0%}",
            loss=f"{r.site_loss_cpu:.0%}",
            site=r.lost_site or "–",
            n=r.instances,
            sites=r.sites,
        )
        for r in rows.itertuples(index=False)
    ]
    fig = go.Figure()
    for status in ("crit", "warn", "ok"):
        chosen = [i for i, s in enumerate(statuses) if s == status]
        if chosen:
            fig.add_trace(
                go.Bar(
                    x=rows["cpu_peak"].iloc[chosen],
                    y=[services[i] for i in chosen],
                    orientation="h",
                    name=t(f"capacity.chart_{status}", lang),
                    marker={"color": STATUS_COLOURS[status]},
                    hovertext=[hover[i] for i in chosen],
                    hoverinfo="text",
                )
            )
    fig.add_trace(
        go.Scatter(
            x=rows["site_loss_cpu"],
            y=services,
            mode="markers",
            name=t("capacity.chart_site_loss", lang),
            marker={"symbol": "diamond", "size": 12, "color": TEXT, "line": {"width": 2, "color": "#0d1117"}},
            hovertext=hover,
            hoverinfo="text",
        )
    )
    fig.add_vline(
        x=ceiling,
        line={"color": STATUS_COLOURS["crit"], "width": 2, "dash": "dash"},
        annotation={
            "text": t("capacity.chart_ceiling", lang, ceiling=f"{ceiling:.0%}"),
            "font": {"color": STATUS_COLOURS["crit"]},
            "yanchor": "bottom",
        },
        annotation_position="top",
    )
    top = max(1.0, float(rows["site_loss_cpu"].max()) if len(rows) else 1.0)
    fig.update_layout(
        template="plotly_dark",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin={"l": 10, "r": 20, "t": 40, "b": 10},
        font={"color": TEXT},
        bargap=0.35,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
        hoverlabel={"align": "left"},
        showlegend=True,
        barmode="overlay",
    )
    fig.update_xaxes(range=[0, top * 1.05], tickformat=".0%", gridcolor=GRID, zeroline=False)
    fig.update_yaxes(
        categoryorder="array", categoryarray=services[::-1], autorange=True, gridcolor=GRID, automargin=True
    )
    return fig
