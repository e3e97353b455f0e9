"""Pure figure builders for the incident pages: frames in, ``go.Figure`` out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.analytics.incidents import FINISHED_STATES
from dashboard.figures import STATUS_COLOURS

STATE_COLOURS = {
    "new": STATUS_COLOURS["crit"],
    "in_progress": STATUS_COLOURS["warn"],
    "resolved": STATUS_COLOURS["ok"],
    "closed": STATUS_COLOURS["ok"],
    "cancelled": "#8b98a5",
}
LANE_COLOURS = {"alerts": "#ff8a65", "changes": "#64b5f6", "suspect": "#ff5c5c", "chaos": "#ba68c8"}
FONT = dict(color="#e6edf3", family="Inter, Noto Sans CJK SC, system-ui, sans-serif")


def _local(value, tz: str):
    return pd.Timestamp(value).tz_convert(tz).tz_localize(None)


def _segments(rows: list[tuple], lane: str, tz: str) -> tuple[list, list, list]:
    """x, y and hover text of many bars in one trace, separated by gaps."""
    xs, ys, texts = [], [], []
    for start, end, text in rows:
        xs += [_local(start, tz), _local(end, tz), None]
        ys += [lane, lane, None]
        texts += [text, text, None]
    return xs, ys, texts


def _lane(fig: go.Figure, rows: list[tuple], lane: str, colour: str, tz: str, name: str) -> None:
    if rows:
        xs, ys, texts = _segments(rows, lane, tz)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                text=texts,
                mode="lines+markers",
                name=name,
                hoverinfo="text",
                line=dict(color=colour, width=14),
                marker=dict(size=6, color=colour),
            ),
            row=1,
            col=1,
        )


def timeline_figure(
    incident: pd.Series,
    states: list[tuple[str, pd.Timestamp]],
    alerts: pd.DataFrame,
    changes: pd.DataFrame,
    chaos_runs: pd.DataFrame,
    metrics: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    labels: dict[str, str],
    tz: str,
    log_errors: pd.DataFrame | None = None,
    actions: list[tuple[pd.Timestamp, str]] | None = None,
) -> go.Figure:
    """The incident, its alerts, changes (the suspect in red), chaos runs, p95 and errors on one time axis.

    ``states`` are the incident's (state, time) milestones: each runs to the next, the last to ``end`` while the
    incident is open; how it ended (resolved, closed, cancelled) is a point, so an ended incident stops there.
    ``labels`` name the lanes,
    panels and states in the page's language; times are drawn in ``tz``. With ``log_errors``
    (ts, count), a fourth panel shows the error log lines per minute (label ``logs``). ``actions``, (time, text)
    of what was done in opscenter, are diamonds on the incident's lane (label ``actions``).
    """
    logs = log_errors is not None and len(log_errors) > 0
    titles = (labels["events"], labels["latency"], labels["errors"], *([labels["logs"]] if logs else []))
    fig = make_subplots(
        rows=len(titles),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        row_heights=[0.34, 0.22, 0.22, 0.22] if logs else [0.4, 0.3, 0.3],
        subplot_titles=titles,
    )
    lanes = [labels["chaos"], labels["changes"], labels["alerts"], labels["incident"]]
    for (state, at), nxt in zip(states, [*states[1:], None]):
        until = nxt[1] if nxt else (at if state in FINISHED_STATES else end)
        _lane(
            fig,
            [(at, until, f"{incident['incident_id']} {labels[state]} {_local(at, tz):%H:%M}")],
            labels["incident"],
            STATE_COLOURS[state],
            tz,
            labels[state],
        )
    _lane(
        fig,
        [
            (a.starts_at, a.ends_at if pd.notna(a.ends_at) else end, f"{a.name} ({a.severity}) {a.summary or ''}")
            for a in alerts.itertuples()
        ],
        labels["alerts"],
        LANE_COLOURS["alerts"],
        tz,
        labels["alerts"],
    )
    for suspect, colour in ((False, LANE_COLOURS["changes"]), (True, LANE_COLOURS["suspect"])):
        chosen = changes[changes["suspect"] == suspect] if len(changes) else changes
        rows = []
        for c in chosen.itertuples():
            began = c.actual_start if pd.notna(c.actual_start) else c.planned_start
            finished = c.actual_end if pd.notna(c.actual_end) else (c.planned_end if pd.notna(c.planned_end) else began)
            rows.append((began, finished, f"{'⚠ ' if suspect else ''}{c.change_id} {c.title} · {c.outcome}"))
        _lane(fig, rows, labels["changes"], colour, tz, labels["suspect"] if suspect else labels["changes"])
        for began, _, _ in rows if suspect else []:
            fig.add_annotation(
                x=_local(began, tz),
                y=labels["changes"],
                text=f"⚠ {chosen['change_id'].iloc[0]}",
                showarrow=False,
                yshift=14,
                xanchor="left",
                font=dict(color=colour),
                row=1,
                col=1,
            )
    _lane(
        fig,
        [
            (r.started_at, r.ended_at if pd.notna(r.ended_at) else end, f"{r.experiment} · {r.status}")
            for r in chaos_runs.itertuples()
        ],
        labels["chaos"],
        LANE_COLOURS["chaos"],
        tz,
        labels["chaos"],
    )
    if actions:
        fig.add_trace(
            go.Scatter(
                x=[_local(at, tz) for at, _ in actions],
                y=[labels["incident"]] * len(actions),
                text=[text for _, text in actions],
                mode="markers",
                name=labels["actions"],
                hoverinfo="text",
                marker=dict(symbol="diamond", size=14, color="#e6edf3", line=dict(color="#0d1117", width=2)),
            ),
            row=1,
            col=1,
        )
    ts = [_local(v, tz) for v in metrics["ts"]]
    fig.add_trace(
        go.Scatter(x=ts, y=metrics["latency_p95_ms"], name="p95 ms", mode="lines", line=dict(color="#64b5f6", width=2)),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=ts,
            y=metrics["error_ratio"] * 100,
            name=labels["errors"],
            mode="lines",
            line=dict(color=STATUS_COLOURS["crit"], width=2),
        ),
        row=3,
        col=1,
    )
    if logs:
        fig.add_trace(
            go.Bar(
                x=[_local(v, tz) for v in log_errors["ts"]],
                y=log_errors["count"],
                name=labels["logs"],
                marker=dict(color=STATUS_COLOURS["crit"]),
            ),
            row=4,
            col=1,
        )
        fig.update_yaxes(rangemode="tozero", gridcolor="#26313d", row=4, col=1)
    opened = _local(incident["opened_at"], tz)
    for row in range(1, len(titles) + 1):
        fig.add_vline(x=opened, line=dict(color=STATUS_COLOURS["crit"], dash="dot", width=1), row=row, col=1)
    fig.update_yaxes(
        categoryorder="array", categoryarray=lanes, type="category", range=[-0.5, len(lanes) - 0.5], row=1, col=1
    )
    fig.update_yaxes(rangemode="tozero", gridcolor="#26313d", row=2, col=1)
    fig.update_yaxes(rangemode="tozero", gridcolor="#26313d", ticksuffix="%", row=3, col=1)
    fig.update_xaxes(
        type="date", range=[_local(start, tz), _local(end, tz)], gridcolor="#26313d"
    )  # dates even without data
    fig.update_layout(
        template="plotly_dark",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font=FONT,
        margin=dict(l=10, r=10, t=30, b=10),
        hovermode="closest",
        legend=dict(orientation="h", y=-0.08),
        uirevision=incident["incident_id"],
    )
    return fig
