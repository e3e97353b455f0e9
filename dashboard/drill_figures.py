"""Pure figure builders of the drill-down pages: frames in, ``go.Figure`` out.

Times are drawn in the display time zone. Stacked panels share one x axis; they are laid
out by axis domains rather than ``make_subplots``, and the dark template is a small one, so a
figure costs a few milliseconds to build.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.drilldown import SATURATED_CPU
from dashboard.figures import STATUS_COLOURS

TEXT, MUTED, GRID, LINE = "#e6edf3", "#8b98a5", "#26313d", "#3a4756"
CRITICAL_PATH = "#f0b429"
EVENT_COLOURS = {"alert": STATUS_COLOURS["crit"], "incident": STATUS_COLOURS["warn"], "change": "#5b9cf5",
                 "chaos": "#b583ff"}
PERCENTILE_COLOURS = {"latency_p50_ms": "#5b9cf5", "latency_p95_ms": STATUS_COLOURS["warn"],
                      "latency_p99_ms": STATUS_COLOURS["crit"]}
COLOURWAY = ("#5b9cf5", "#3fb68b", "#f0b429", "#b583ff", "#4dd0e1", "#ff8a65", "#aed581", "#f48fb1", "#90a4ae")
_AXIS = {"gridcolor": GRID, "linecolor": LINE, "zerolinecolor": GRID, "color": MUTED, "automargin": True}
DARK = go.layout.Template(layout={
    "font": {"color": TEXT, "family": "Inter, Noto Sans CJK SC, Segoe UI, system-ui, sans-serif"},
    "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "colorway": list(COLOURWAY),
    "hoverlabel": {"bgcolor": "#1a232d", "bordercolor": LINE, "font": {"color": TEXT}},
    "legend": {"bgcolor": "rgba(0,0,0,0)", "orientation": "h", "y": 1.04, "yanchor": "bottom", "x": 1, "xanchor": "right"},
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "xaxis": _AXIS, "yaxis": _AXIS,
})


def local(stamps: pd.Series | pd.Timestamp, tz: str):
    """UTC instants as naive wall-clock times of ``tz`` (what the axis shows)."""
    if isinstance(stamps, pd.Timestamp):
        return stamps.tz_convert(tz).tz_localize(None)
    return stamps.dt.tz_convert(tz).dt.tz_localize(None)


def _stacked(titles: list[str], gap: float = 0.1, revision: str = "") -> go.Figure:
    """An empty figure of len(titles) panels, top to bottom, sharing the x axis of the bottom one;
    each panel's title sits above its top-left corner."""
    count = len(titles)
    height = (1 - gap * (count - 1)) / count
    layout = {"template": DARK, "uirevision": revision or "drill", "hovermode": "x unified", "annotations": []}
    for i, title in enumerate(titles):
        top = 1 - i * (height + gap)
        suffix = "" if i == 0 else str(i + 1)
        layout[f"yaxis{suffix}"] = {**_AXIS, "domain": [max(round(top - height, 6), 0.0), round(top, 6)]}
        layout[f"xaxis{suffix}"] = {**_AXIS, "anchor": f"y{suffix}", "showticklabels": i == count - 1,
                                    **({"matches": f"x{count}"} if i < count - 1 else {})}
        layout["annotations"].append({"text": title, "xref": "paper", "yref": "paper", "x": 0, "y": round(top, 6),
                                      "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                                      "font": {"color": MUTED}})
    return go.Figure(layout=layout)


def _axis_ref(panel: int) -> tuple[str, str]:
    suffix = "" if panel == 1 else str(panel)
    return f"x{suffix}", f"y{suffix}"


def _event_shapes(figure: go.Figure, events: pd.DataFrame, tz: str) -> None:
    """Shade each event's interval across every panel and label it above the top panel."""
    shapes, labels = [], []
    for i, row in enumerate(events.itertuples(index=False)):
        colour = EVENT_COLOURS.get(row.kind, MUTED)
        x0, x1 = local(row.start, tz), local(row.end, tz)
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1,
                       "fillcolor": colour, "opacity": 0.14, "line": {"width": 0}, "layer": "below"})
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": x0, "x1": x0, "y0": 0, "y1": 1,
                       "line": {"color": colour, "width": 1.5, "dash": "dot"}})
        labels.append({"x": x0, "xref": "x", "y": 1.0 - 0.045 * (i % 4), "yref": "paper", "text": row.label,
                       "showarrow": False, "xanchor": "left", "yanchor": "top", "font": {"color": colour},
                       "bgcolor": "rgba(11,15,20,0.7)", "hovertext": f"{row.kind}: {row.ident}<br>{row.detail}"})
    figure.update_layout(shapes=list(figure.layout.shapes) + shapes,
                         annotations=list(figure.layout.annotations) + labels)


def chain_latency(metrics: pd.DataFrame, stats: pd.DataFrame, names: dict[str, str], bottleneck: str | None,
                  tz: str, title: str = "p95 ms") -> go.Figure:
    """p95 latency of each step over the window; the bottleneck drawn thick, the others thin."""
    figure = _stacked([title], revision="chain")
    groups = dict(tuple(metrics.groupby("service", sort=False)))
    for row in stats.itertuples(index=False):
        rows = groups.get(row.service)
        if rows is None:
            continue
        hot = row.service == bottleneck
        figure.add_trace(go.Scatter(
            x=local(rows["ts"], tz), y=rows["latency_p95_ms"], mode="lines",
            name=f"{row.step}. {names.get(row.service, row.service)}",
            line={"width": 4 if hot else 1.5, "color": STATUS_COLOURS["crit"] if hot else None},
            opacity=1.0 if hot or bottleneck is None else 0.7, hovertemplate="%{y:.1f} ms"))
    return figure


def service_timeline(metrics: pd.DataFrame, events: pd.DataFrame, tz: str,
                     titles: tuple[str, str, str] = ("latency ms", "requests/s", "errors")) -> go.Figure:
    """Latency percentiles, requests/s and error ratio over time, with the service's events shaded."""
    figure = _stacked(list(titles), revision="service")
    x = local(metrics["ts"], tz)
    for column, colour in PERCENTILE_COLOURS.items():
        figure.add_trace(go.Scatter(x=x, y=metrics[column], mode="lines", name=column[8:11],
                                    line={"color": colour, "width": 2}, hovertemplate="%{y:.1f} ms"))
    figure.add_trace(go.Scatter(x=x, y=metrics["requests_per_s"], mode="lines", name="requests/s",
                                line={"color": STATUS_COLOURS["ok"], "width": 2}, xaxis="x2", yaxis="y2",
                                hovertemplate="%{y:.1f}/s"))
    figure.add_trace(go.Scatter(x=x, y=metrics["error_ratio"], mode="lines", name="error ratio",
                                line={"color": STATUS_COLOURS["crit"], "width": 2}, xaxis="x3", yaxis="y3",
                                hovertemplate="%{y:.2%}"))
    figure.update_layout(yaxis3={"tickformat": ".2%", "rangemode": "tozero"}, yaxis2={"rangemode": "tozero"},
                         yaxis={"rangemode": "tozero"})
    _event_shapes(figure, events, tz)
    return figure


def _instance_lines(figure: go.Figure, resources: pd.DataFrame, tz: str, highlight: str | None,
                    panels: dict[str, int], legend: int = 1) -> None:
    """One line per instance in each panel ``column -> panel``; an instance keeps its colour."""
    for n, (instance, rows) in enumerate(resources.groupby("instance", sort=True)):
        colour = STATUS_COLOURS["crit"] if instance == highlight else COLOURWAY[n % len(COLOURWAY)]
        x = local(rows["ts"], tz)
        for column, panel in panels.items():
            xref, yref = _axis_ref(panel)
            values = rows[column] if column != "net_bps" else rows["net_rx_bps"] + rows["net_tx_bps"]
            figure.add_trace(go.Scatter(
                x=x, y=values, mode="lines", name=instance, legendgroup=instance, showlegend=panel == legend,
                line={"color": colour, "width": 3.5 if instance == highlight else 1.5}, xaxis=xref, yaxis=yref,
                hovertemplate="%{y:.0%}" if column.endswith("ratio") else "%{y:.3s}B/s"))


def _cpu_threshold(figure: go.Figure, panel: int) -> None:
    xref, yref = _axis_ref(panel)
    figure.add_shape(type="line", xref=f"{xref} domain", yref=yref, x0=0, x1=1, y0=SATURATED_CPU, y1=SATURATED_CPU,
                     line={"color": STATUS_COLOURS["crit"], "width": 1, "dash": "dash"})


def service_instances(resources: pd.DataFrame, calls: pd.DataFrame, tz: str,
                      titles: tuple[str, str, str] = ("CPU", "memory", "call ms")) -> go.Figure:
    """Per instance: CPU and memory over time, and the duration of each sampled call."""
    figure = _stacked(list(titles), revision="instances")
    _instance_lines(figure, resources, tz, None, {"cpu_ratio": 1, "memory_ratio": 2})
    colours = {trace.name: trace.line.color for trace in figure.data}
    for instance, rows in calls.groupby("instance", sort=True):
        failed = rows["status"] == "error"
        figure.add_trace(go.Scatter(
            x=local(rows["start"], tz), y=rows["duration_ms"], mode="markers", name=instance, legendgroup=instance,
            showlegend=instance not in colours, xaxis="x3", yaxis="y3",
            marker={"color": colours.get(instance, MUTED), "size": 7, "symbol": ["x" if f else "circle" for f in failed]},
            customdata=rows["trace_id"], hovertemplate="%{y:.1f} ms<br>%{customdata}"))
    figure.update_layout(yaxis={"tickformat": ".0%", "range": [0, 1.02]}, yaxis2={"tickformat": ".0%", "range": [0, 1.02]},
                         yaxis3={"type": "log", "dtick": 1})
    _cpu_threshold(figure, 1)
    return figure


def waterfall(table: pd.DataFrame, slowest_span: str | None, axis_title: str = "ms since the call began",
              slowest_label: str = "most self time") -> go.Figure:
    """One bar per span from its start to its end, in waterfall order; critical-path spans
    outlined, failed spans red, the span with the most self time labelled."""
    labels = [f"{s} · {o}" for s, o in zip(table["service"], table["operation"])]
    rows = list(range(len(table)))  # positions, not labels: a trace may call one operation twice
    failed = table["status"] == "error"
    colours = [STATUS_COLOURS["crit"] if f else ("#5b9cf5" if c else "#4a5866")
               for f, c in zip(failed, table["critical"])]
    figure = go.Figure(layout={"template": DARK, "uirevision": "waterfall", "bargap": 0.25, "showlegend": False,
                               "xaxis": {**_AXIS, "title": {"text": axis_title}, "rangemode": "tozero"},
                               "yaxis": {**_AXIS, "autorange": "reversed", "tickvals": rows, "ticktext": labels}})
    figure.add_trace(go.Bar(
        y=rows, x=table["duration_ms"], base=table["offset_ms"], orientation="h", hovertext=labels,
        marker={"color": colours, "line": {"color": [CRITICAL_PATH if c else "rgba(0,0,0,0)" for c in table["critical"]],
                                           "width": 2}},
        text=[f"{d:,.1f} ms" for d in table["duration_ms"]], textposition="auto", insidetextanchor="start",
        customdata=table[["instance", "self_ms", "status"]].fillna("–").to_numpy(),
        hovertemplate="%{hovertext}<br>%{x:,.1f} ms (self %{customdata[1]:,.1f} ms)<br>%{customdata[0]} · %{customdata[2]}"
                      "<extra></extra>"))
    if slowest_span is not None and slowest_span in set(table["span_id"]):
        i = int((table["span_id"] == slowest_span).to_numpy().argmax())
        figure.add_annotation(x=float(table["end_ms"].iloc[i]), y=i, text=f"◀ {slowest_label}", showarrow=False,
                              xanchor="left", font={"color": CRITICAL_PATH})
    return figure


def trace_resources(resources: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, highlight: str | None,
                    tz: str, titles: tuple[str, str, str] = ("CPU", "memory", "network")) -> go.Figure:
    """CPU, memory and network of the trace's instances around the call, its interval shaded."""
    figure = _stacked(list(titles), revision="resources")
    _instance_lines(figure, resources, tz, highlight, {"cpu_ratio": 1, "memory_ratio": 2, "net_bps": 3})
    x0, x1 = local(start, tz), local(end, tz)
    figure.add_shape(type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1, fillcolor=CRITICAL_PATH,
                     opacity=0.25, line_width=0, layer="below")
    figure.add_shape(type="line", xref="x", yref="paper", x0=x0, x1=x0, y0=0, y1=1,
                     line={"color": CRITICAL_PATH, "width": 2})
    figure.update_layout(yaxis={"tickformat": ".0%", "range": [0, 1.02]}, yaxis2={"tickformat": ".0%", "range": [0, 1.02]},
                         yaxis3={"rangemode": "tozero"})
    _cpu_threshold(figure, 1)
    return figure
