"""Pure figure builders of the drill-down pages: frames in, Plotly figure dicts out.

Times are drawn in the display time zone. Stacked panels share one x axis; they are laid
out by axis domains rather than ``make_subplots`` and the dark template is a small one. A
figure is the plain ``{"data": [...], "layout": {...}}`` dict that ``dcc.Graph`` takes:
building and serializing it costs a fraction of a ``go.Figure`` (``go.Figure(figure)``
validates and wraps one when needed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.analytics.drilldown import SATURATED_CPU
from dashboard.figures import STATUS_COLOURS

TEXT, MUTED, GRID, LINE = "#e6edf3", "#8b98a5", "#26313d", "#3a4756"
CRITICAL_PATH = "#f0b429"
EVENT_COLOURS = {
    "alert": STATUS_COLOURS["crit"],
    "incident": STATUS_COLOURS["warn"],
    "change": "#5b9cf5",
    "chaos": "#b583ff",
}
PERCENTILE_COLOURS = {
    "latency_p50_ms": "#5b9cf5",
    "latency_p95_ms": STATUS_COLOURS["warn"],
    "latency_p99_ms": STATUS_COLOURS["crit"],
}
COLOURWAY = ("#5b9cf5", "#3fb68b", "#f0b429", "#b583ff", "#4dd0e1", "#ff8a65", "#aed581", "#f48fb1", "#90a4ae")
_AXIS = {"gridcolor": GRID, "linecolor": LINE, "zerolinecolor": GRID, "color": MUTED, "automargin": True}
DARK = {
    "layout": {
        "font": {"color": TEXT, "family": "Inter, Noto Sans CJK SC, Segoe UI, system-ui, sans-serif"},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "colorway": list(COLOURWAY),
        "hoverlabel": {"bgcolor": "#1a232d", "bordercolor": LINE, "font": {"color": TEXT}},
        "legend": {
            "bgcolor": "rgba(0,0,0,0)",
            "orientation": "h",
            "y": 1.04,
            "yanchor": "bottom",
            "x": 1,
            "xanchor": "right",
        },
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "xaxis": _AXIS,
        "yaxis": _AXIS,
    }
}


def local(stamps: pd.Series | pd.Timestamp, tz: str):
    """UTC instants as naive wall-clock times of ``tz`` (what the axis shows)."""
    if isinstance(stamps, pd.Timestamp):
        return stamps.tz_convert(tz).tz_localize(None)
    return stamps.dt.tz_convert(tz).dt.tz_localize(None).to_numpy()


def _stacked(titles: list[str], gap: float = 0.1, revision: str = "") -> dict:
    """The layout of len(titles) panels, top to bottom, sharing the x axis of the bottom one;
    each panel's title sits above its top-left corner."""
    count = len(titles)
    height = (1 - gap * (count - 1)) / count
    layout = {
        "template": DARK,
        "uirevision": revision or "drill",
        "hovermode": "x unified",
        "annotations": [],
        "shapes": [],
    }
    for i, title in enumerate(titles):
        top = 1 - i * (height + gap)
        suffix = "" if i == 0 else str(i + 1)
        layout[f"yaxis{suffix}"] = {**_AXIS, "domain": [max(round(top - height, 6), 0.0), round(top, 6)]}
        layout[f"xaxis{suffix}"] = {
            **_AXIS,
            "anchor": f"y{suffix}",
            "showticklabels": i == count - 1,
            **({"matches": f"x{count}"} if i < count - 1 else {}),
        }
        layout["annotations"].append(
            {
                "text": title,
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": round(top, 6),
                "xanchor": "left",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"color": MUTED},
            }
        )
    return layout


Window = tuple[pd.Timestamp, pd.Timestamp]


def _clamp(layout: dict, window: Window | None, tz: str) -> None:
    """Hold every x axis to the page's ``window``: nothing drawn outside it (an event that began weeks before)
    stretches the axis."""
    if window is None:
        return
    shown = [str(local(window[0], tz)), str(local(window[1], tz))]
    for name in [k for k in layout if k.startswith("xaxis")]:
        layout[name] = {**layout[name], "type": "date", "range": shown, "autorange": False}


def _axis_ref(panel: int) -> tuple[str, str]:
    suffix = "" if panel == 1 else str(panel)
    return f"x{suffix}", f"y{suffix}"


def _interval(x0, x1, colour: str, opacity: float, edge: dict) -> list[dict]:
    """An interval shaded from ``x0`` to ``x1`` across every panel, its start marked by a line (``edge``)."""
    spans = {"xref": "x", "yref": "paper", "y0": 0, "y1": 1}
    return [
        {
            "type": "rect",
            **spans,
            "x0": x0,
            "x1": x1,
            "fillcolor": colour,
            "opacity": opacity,
            "line": {"width": 0},
            "layer": "below",
        },
        {"type": "line", **spans, "x0": x0, "x1": x0, "line": {"color": colour, **edge}},
    ]


def _event_shapes(layout: dict, events: pd.DataFrame, tz: str, window: Window | None) -> None:
    """Shade each event's interval (its part inside ``window``) across every panel and label it above the top
    panel."""
    for i, row in enumerate(events.itertuples(index=False)):
        colour = EVENT_COLOURS.get(row.kind, MUTED)
        start, end = (row.start, row.end) if window is None else (max(row.start, window[0]), min(row.end, window[1]))
        x0, x1 = local(start, tz), local(end, tz)
        layout["shapes"] += _interval(x0, x1, colour, 0.14, {"width": 1.5, "dash": "dot"})
        layout["annotations"].append(
            {
                "x": x0,
                "xref": "x",
                "y": 1.0 - 0.045 * (i % 4),
                "yref": "paper",
                "text": row.label,
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"color": colour},
                "bgcolor": "rgba(11,15,20,0.7)",
                "hovertext": f"{row.kind}: {row.ident}<br>{row.detail}",
            }
        )


def _cpu_threshold(layout: dict, panel: int) -> None:
    xref, yref = _axis_ref(panel)
    layout["shapes"].append(
        {
            "type": "line",
            "xref": f"{xref} domain",
            "yref": yref,
            "x0": 0,
            "x1": 1,
            "y0": SATURATED_CPU,
            "y1": SATURATED_CPU,
            "line": {"color": STATUS_COLOURS["crit"], "width": 1, "dash": "dash"},
        }
    )


def _line(x, y, name: str, colour: str | None, width: float, panel: int = 1, **extra) -> dict:
    xref, yref = _axis_ref(panel)
    return {
        "type": "scatter",
        "mode": "lines",
        "x": x,
        "y": y,
        "name": name,
        "xaxis": xref,
        "yaxis": yref,
        "line": {"width": width, **({"color": colour} if colour else {})},
        **extra,
    }


def chain_latency(
    metrics: pd.DataFrame,
    stats: pd.DataFrame,
    names: dict[str, str],
    bottleneck: str | None,
    tz: str,
    title: str = "p95 ms",
    window: Window | None = None,
) -> dict:
    """p95 latency of each step over the window; the bottleneck drawn thick, the others thin."""
    groups = dict(tuple(metrics.groupby("service", sort=False)))
    traces = []
    for row in stats.itertuples(index=False):
        rows = groups.get(row.service)
        if rows is None:
            continue
        hot = row.service == bottleneck
        traces.append(
            _line(
                local(rows["ts"], tz),
                rows["latency_p95_ms"].to_numpy(),
                f"{row.step}. {names.get(row.service, row.service)}",
                STATUS_COLOURS["crit"] if hot else None,
                4 if hot else 1.5,
                opacity=1.0 if hot or bottleneck is None else 0.7,
                hovertemplate="%{y:.1f} ms",
            )
        )
    layout = _stacked([title], revision="chain")
    _clamp(layout, window, tz)
    return dict(data=traces, layout=layout)


def service_timeline(
    metrics: pd.DataFrame,
    events: pd.DataFrame,
    tz: str,
    titles: tuple[str, ...] = ("latency ms", "requests/s", "errors"),
    log_errors: pd.DataFrame | None = None,
    window: Window | None = None,
) -> dict:
    """Latency percentiles, requests/s and error ratio over time, with the service's events shaded;
    with ``log_errors`` (ts, count) and a fourth title, the error log lines per minute below; the time axis
    is ``window``'s when given."""
    logs = log_errors is not None and len(log_errors) > 0 and len(titles) > 3
    layout = _stacked(list(titles if logs else titles[:3]), revision="service")
    x = local(metrics["ts"], tz)
    traces = [
        _line(x, metrics[column].to_numpy(), column[8:11], colour, 2, hovertemplate="%{y:.1f} ms")
        for column, colour in PERCENTILE_COLOURS.items()
    ]
    traces.append(
        _line(
            x,
            metrics["requests_per_s"].to_numpy(),
            "requests/s",
            STATUS_COLOURS["ok"],
            2,
            panel=2,
            hovertemplate="%{y:.1f}/s",
        )
    )
    traces.append(
        _line(
            x,
            metrics["error_ratio"].to_numpy(),
            "error ratio",
            STATUS_COLOURS["crit"],
            2,
            panel=3,
            hovertemplate="%{y:.2%}",
        )
    )
    layout["yaxis"]["rangemode"] = layout["yaxis2"]["rangemode"] = layout["yaxis3"]["rangemode"] = "tozero"
    layout["yaxis3"]["tickformat"] = ".2%"
    if logs:
        traces.append(
            dict(
                type="bar",
                x=local(log_errors["ts"], tz),
                y=log_errors["count"].to_numpy(),
                name=titles[3],
                marker={"color": STATUS_COLOURS["crit"]},
                xaxis="x4",
                yaxis="y4",
                hovertemplate="%{y:.0f}/min",
            )
        )
        layout["yaxis4"]["rangemode"] = "tozero"
    _event_shapes(layout, events, tz, window)
    _clamp(layout, window, tz)
    return dict(data=traces, layout=layout)


def _by_instance(rows: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """Each instance of ``rows`` (sorted) with its rows' positions: a figure slices arrays computed once."""
    return sorted(rows.groupby("instance").indices.items()) if len(rows) else []


def _instance_lines(resources: pd.DataFrame, tz: str, highlight: str | None, panels: dict[str, int]) -> list[dict]:
    """One line per instance in each panel ``column -> panel``; an instance keeps its colour."""
    if resources.empty:
        return []
    x = local(resources["ts"], tz)
    values = {
        column: (
            resources[column] if column != "net_bps" else resources["net_rx_bps"] + resources["net_tx_bps"]
        ).to_numpy()
        for column in panels
    }
    traces = []
    for n, (instance, rows) in enumerate(_by_instance(resources)):
        colour = STATUS_COLOURS["crit"] if instance == highlight else COLOURWAY[n % len(COLOURWAY)]
        for column, panel in panels.items():
            traces.append(
                _line(
                    x[rows],
                    values[column][rows],
                    instance,
                    colour,
                    3.5 if instance == highlight else 1.5,
                    panel,
                    legendgroup=instance,
                    showlegend=panel == 1,
                    hovertemplate="%{y:.0%}" if column.endswith("ratio") else "%{y:.3s}B/s",
                )
            )
    return traces


def _ratio_axes(layout: dict, *names: str) -> None:
    for name in names:
        layout[name].update(tickformat=".0%", range=[0, 1.02])


def _call_markers(calls: pd.DataFrame, tz: str, colours: dict[str, str]) -> list[dict]:
    """Each instance's calls as markers on the third panel (a failed one an x), in its line's colour."""
    if calls.empty:
        return []
    x, duration, trace = local(calls["start"], tz), calls["duration_ms"].to_numpy(), calls["trace_id"].to_numpy()
    failed = (calls["status"] == "error").to_numpy()
    return [
        {
            "type": "scatter",
            "mode": "markers",
            "x": x[rows],
            "y": duration[rows],
            "name": instance,
            "legendgroup": instance,
            "showlegend": instance not in colours,
            "xaxis": "x3",
            "yaxis": "y3",
            "customdata": trace[rows],
            "hovertemplate": "%{y:.1f} ms<br>%{customdata}",
            "marker": {
                "color": colours.get(instance, MUTED),
                "size": 7,
                "symbol": ["x" if f else "circle" for f in failed[rows]],
            },
        }
        for instance, rows in _by_instance(calls)
    ]


def service_instances(
    resources: pd.DataFrame,
    calls: pd.DataFrame,
    tz: str,
    titles: tuple[str, str, str] = ("CPU", "memory", "call ms"),
    window: Window | None = None,
) -> dict:
    """Per instance: CPU and memory over time, and the duration of each sampled call; the time axis is
    ``window``'s when given."""
    layout = _stacked(list(titles), revision="instances")
    traces = _instance_lines(resources, tz, None, {"cpu_ratio": 1, "memory_ratio": 2})
    traces += _call_markers(calls, tz, {trace["name"]: trace["line"]["color"] for trace in traces})
    _ratio_axes(layout, "yaxis", "yaxis2")
    layout["yaxis3"].update(type="log", dtick=1)
    _cpu_threshold(layout, 1)
    _clamp(layout, window, tz)
    return dict(data=traces, layout=layout)


def waterfall(
    table: pd.DataFrame,
    slowest_span: str | None,
    axis_title: str = "ms since the call began",
    slowest_label: str = "most self time",
) -> dict:
    """One bar per span from its start to its end, in waterfall order; critical-path spans
    outlined, failed spans red, the span with the most self time labelled."""
    labels = [f"{s} · {o}" for s, o in zip(table["service"], table["operation"])]
    rows = list(range(len(table)))  # positions, not labels: a trace may call one operation twice
    failed = table["status"] == "error"
    colours = [
        STATUS_COLOURS["crit"] if f else ("#5b9cf5" if c else "#4a5866") for f, c in zip(failed, table["critical"])
    ]
    layout = {
        "template": DARK,
        "uirevision": "waterfall",
        "bargap": 0.25,
        "showlegend": False,
        "annotations": [],
        "xaxis": {**_AXIS, "title": {"text": axis_title}, "rangemode": "tozero"},
        "yaxis": {**_AXIS, "autorange": "reversed", "tickvals": rows, "ticktext": labels},
    }
    bar = {
        "type": "bar",
        "orientation": "h",
        "y": rows,
        "x": table["duration_ms"].to_numpy(),
        "base": table["offset_ms"].to_numpy(),
        "hovertext": labels,
        "marker": {
            "color": colours,
            "line": {"color": [CRITICAL_PATH if c else "rgba(0,0,0,0)" for c in table["critical"]], "width": 2},
        },
        "text": [f"{d:,.1f} ms" for d in table["duration_ms"]],
        "textposition": "auto",
        "insidetextanchor": "start",
        "customdata": table[["instance", "self_ms", "status"]].fillna("–").to_numpy(),
        "hovertemplate": "%{hovertext}<br>%{x:,.1f} ms (self %{customdata[1]:,.1f} ms)<br>%{customdata[0]} · "
        "%{customdata[2]}<extra></extra>",
    }
    if slowest_span is not None and slowest_span in set(table["span_id"]):
        i = int((table["span_id"] == slowest_span).to_numpy().argmax())
        layout["annotations"].append(
            {
                "x": float(table["end_ms"].iloc[i]),
                "y": i,
                "text": f"◀ {slowest_label}",
                "showarrow": False,
                "xanchor": "left",
                "font": {"color": CRITICAL_PATH},
            }
        )
    return dict(data=[bar], layout=layout)


def trace_resources(
    resources: pd.DataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    highlight: str | None,
    tz: str,
    titles: tuple[str, str, str] = ("CPU", "memory", "network"),
) -> dict:
    """CPU, memory and network of the trace's instances around the call, its interval shaded."""
    layout = _stacked(list(titles), revision="resources")
    traces = _instance_lines(resources, tz, highlight, {"cpu_ratio": 1, "memory_ratio": 2, "net_bps": 3})
    x0, x1 = local(start, tz), local(end, tz)
    layout["shapes"] += _interval(x0, x1, CRITICAL_PATH, 0.25, {"width": 2})
    _ratio_axes(layout, "yaxis", "yaxis2")
    layout["yaxis3"]["rangemode"] = "tozero"
    _cpu_threshold(layout, 1)
    return dict(data=traces, layout=layout)


TIMELINE_PANELS = {"latency_p95_ms": 1, "latency_p99_ms": 1, "requests_per_s": 2, "error_ratio": 3}
INSTANCE_PANELS = {"cpu_ratio": 1, "memory_ratio": 2}


def mark_anomalies(
    figure: dict,
    anomalies: pd.DataFrame,
    tz: str,
    panels: dict[str, int],
    labels: tuple[str, str] = ("anomaly", "baseline band"),
) -> dict:
    """Add each anomaly to ``figure`` on its metric's panel: the baseline band over its interval
    (shaded, the baseline dashed) and a marker at its peak value."""
    shown = [row for row in anomalies.to_dict("records") if row["metric"] in panels]  # a few rows
    if not shown:
        return figure
    colour = STATUS_COLOURS["warn"]
    xs, ys, panel_of, texts = [], [], [], []
    for row in shown:
        xref, yref = _axis_ref(panels[row["metric"]])
        x0, x1 = local(row["start"], tz), local(row["end"], tz)
        figure["layout"]["shapes"] += [
            {
                "type": "rect",
                "xref": xref,
                "yref": yref,
                "x0": x0,
                "x1": x1,
                "y0": row["low"],
                "y1": row["high"],
                "fillcolor": colour,
                "opacity": 0.12,
                "line": {"color": colour, "width": 1},
                "layer": "below",
            },
            {
                "type": "line",
                "xref": xref,
                "yref": yref,
                "x0": x0,
                "x1": x1,
                "y0": row["baseline"],
                "y1": row["baseline"],
                "line": {"color": colour, "width": 1, "dash": "dash"},
            },
        ]
        xs.append(x0 + (x1 - x0) / 2)
        ys.append(row["value"])
        panel_of.append(panels[row["metric"]])
        who = f"{row['instance']} " if isinstance(row["instance"], str) else ""
        texts.append(
            f"{labels[0]}: {who}{row['metric']} {row['value']:.4g}<br>{labels[1]} "
            f"{row['low']:.4g}–{row['high']:.4g} (score {row['score']:+.1f})"
        )
    for panel in sorted(set(panel_of)):
        keep = [i for i, p in enumerate(panel_of) if p == panel]
        xref, yref = _axis_ref(panel)
        figure["data"].append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": labels[0],
                "xaxis": xref,
                "yaxis": yref,
                "x": [xs[i] for i in keep],
                "y": [ys[i] for i in keep],
                "text": [texts[i] for i in keep],
                "hovertemplate": "%{text}<extra></extra>",
                "marker": {"symbol": "diamond", "size": 11, "color": colour, "line": {"color": "#0b0f14", "width": 1}},
                "showlegend": False,
            }
        )
    return figure
