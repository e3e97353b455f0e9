"""/trace/<trace_id>: what made one call slow, its spans as a waterfall with its critical path, the
resources (CPU, memory, network) of every instance involved around the call, then their log lines."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import context, formats, ids
from dashboard.analytics import drilldown
from dashboard.core import loglines as logs
from dashboard.core import spans as traces
from dashboard.core import timewindow
from dashboard.figures import drill as drill_figures
from dashboard.i18n import pick_lang, t
from dashboard.security import urlinput
from layouts.components import drill_parts as parts
from layouts.components.graphs import graph
from layouts.components.titles import page_title

PATH_TEMPLATE = "/trace/<trace_id>"
MARGIN = pd.Timedelta(minutes=10)


@dataclass
class Model:
    """What the page shows: the laid-out trace, the resources around it and the verdict."""

    table: pd.DataFrame
    start: pd.Timestamp
    end: pd.Timestamp
    resources: pd.DataFrame
    verdict: drilldown.Verdict | None
    digest: str


def model(spans: pd.DataFrame, versions: dict | None) -> Model:
    """Lay out ``spans`` and read the resources of its instances around it."""
    table = drilldown.trace_table(spans)
    start, end = drilldown.trace_interval(table)
    instances = table["instance"].dropna().unique()
    served = context.current().store.frame("resource_metrics", versions, services=table["service"].unique())
    resources = drilldown.within(
        drilldown.rows_for(served, "instance", instances),
        "ts",
        start - MARGIN,
        end + MARGIN,
    )
    return Model(table, start, end, resources, drilldown.what_made_it_slow(table, resources), parts.digest(resources))


def verdict_text(v: drilldown.Verdict | None, lang: str) -> list:
    """The one-line answer to "what made this call slow"."""
    if v is None:
        return []
    line = [
        html.Span(
            t(
                "trace.slow_because",
                lang,
                service=v.service,
                operation=v.operation,
                instance=v.instance or "–",
                self=formats.fmt_ms(v.self_ms),
                share=v.share,
            )
        )
    ]
    if v.instance is None:
        detail, kind = t("trace.no_instance", lang), "unknown"
    elif v.saturated is None:
        detail, kind = t("trace.no_resources", lang, instance=v.instance), "unknown"
    else:
        key = "trace.saturated" if v.saturated else "trace.not_saturated"
        detail = t(
            key,
            lang,
            instance=v.instance,
            cpu=v.cpu_peak or 0.0,
            memory=v.memory_peak or 0.0,
            cpu_limit=drilldown.SATURATED_CPU,
            memory_limit=drilldown.SATURATED_MEMORY,
        )
        kind = "saturated" if v.saturated else "fine"
    return [
        *line,
        " ",
        html.Span(
            detail, className=f"oc-verdict-{kind}", **{"data-instance": v.instance or "", "data-saturated": kind}
        ),
    ]


def _span_rows(m: Model, lang: str) -> html.Table:
    head = html.Tr(
        [
            html.Th(t(k, lang))
            for k in (
                "col.service",
                "col.operation",
                "col.instance",
                "col.offset",
                "col.duration",
                "col.self",
                "col.status",
            )
        ]
    )
    body = [
        html.Tr(
            [
                html.Td(
                    ("◆ " if r.critical else "") + r.service, style={"paddingLeft": f"{0.4 + r.depth * 0.9:.1f}em"}
                ),
                html.Td(r.operation),
                html.Td(r.instance if isinstance(r.instance, str) else "–"),
                html.Td(f"{r.offset_ms:,.1f}"),
                html.Td(f"{r.duration_ms:,.1f}"),
                html.Td(f"{r.self_ms:,.1f}"),
                html.Td(r.status, className="oc-cell-error" if r.status == "error" else None),
            ],
            className="oc-span-critical" if r.critical else None,
            **{"data-span": r.span_id},
        )
        for r in m.table.itertuples(index=False)
    ]
    return html.Table([html.Thead(head), html.Tbody(body)], className="oc-span-table")


def _resources_figure(m: Model, lang: str):
    return drill_figures.trace_resources(
        m.resources,
        m.start,
        m.end,
        m.verdict.instance if m.verdict else None,
        context.current().settings.display_tz,
        (t("axis.cpu", lang), t("axis.memory", lang), t("axis.network", lang)),
    )


def _log_panel(spans: pd.DataFrame, trace_id: str, lang: str) -> html.Section:
    """The lines of the involved instances around the call; the trace's own lines first and marked."""
    try:
        lines = logs.lines_around(spans)
    except logs.LogSourceError as exc:
        body = html.Div(str(exc), className="oc-empty")
    else:
        tz = context.current().settings.display_tz
        head = html.Tr([html.Th(t(k, lang)) for k in ("col.time", "col.instance", "col.level", "col.message")])
        rows = [
            html.Tr(
                [
                    html.Td(parts.when(r.ts, tz, seconds=True)),
                    html.Td(r.instance if isinstance(r.instance, str) else r.service),
                    html.Td(r.level, className=f"oc-log-{r.level}"),
                    html.Td(r.message),
                ],
                className="oc-log-mine" if r.trace_id == trace_id else None,
            )
            for r in lines.itertuples(index=False)
        ]
        body = (
            html.Table([html.Thead(head), html.Tbody(rows)], className="oc-span-table oc-log-table")
            if rows
            else html.Div(t("trace.no_logs", lang), className="oc-empty")
        )
    return html.Section([html.H2(t("trace.logs", lang)), body], id=ids.TRACE_LOGS, className="oc-panel")


def _crumbs(m: Model, state: dict, window: timewindow.Window) -> html.Nav:
    """Wall > chain > service > trace: the chain and service the user came from, else the trace's root."""
    lang, query_lang = state["lang"], state["query_lang"]
    chains = context.current().store.frame("chains")
    root = m.table.iloc[0]
    chain = drilldown.chain_steps(chains, state["chain"]) if state["chain"] else chains.iloc[0:0]
    if chain.empty:
        firsts = drilldown.rows_for(chains, "service", [root["service"]])
        chain = firsts[firsts["step"] == 1]
    service = state["service"] or root["service"]
    trail = [(t("drill.wall", lang), "/wall")]
    if len(chain):
        trail.append(
            (
                str(chain["chain_name"].iloc[0]),
                parts.href("chain", str(chain["chain"].iloc[0]), window, lang=query_lang),
            )
        )
    trail.append((service, parts.href("service", service, window, chain=state["chain"], lang=query_lang)))
    trail.append((f"{t('trace.title', lang)} {state['trace_id'][:12]}…", None))
    return parts.breadcrumbs(trail)


def layout(
    trace_id: str | None = None, lang: str | None = None, chain: str | None = None, service: str | None = None, **query
) -> html.Div:
    """The trace page; ``?from=&to=`` is the window the links back keep."""
    ctx = context.current()
    query_lang, lang = lang, pick_lang(lang, ctx.settings.language)
    raw_id = unquote(trace_id or "")
    try:
        raw_id = urlinput.clean("trace_id", raw_id) or ""
        chain, service = urlinput.clean("chain", chain), urlinput.clean("service", service)
        window = urlinput.window(query.get("from"), query.get("to"))
    except urlinput.UrlInputError as exc:
        return parts.problem("bad_request", t("drill.bad_input", lang, reason=exc), lang)
    try:
        spans = traces.spans(raw_id)
    except traces.InvalidTraceId as exc:
        return parts.problem("bad_request", t("drill.bad_trace", lang, name=raw_id[:80], reason=exc), lang)
    except traces.TraceSourceError as exc:
        return parts.problem("unavailable", str(exc), lang)
    if spans.empty:
        return parts.problem("not_found", t("drill.no_trace", lang, name=raw_id), lang)
    m = model(spans, None)
    state = {
        "trace_id": traces.normalise(raw_id),
        "chain": chain,
        "service": service,
        "from": window.raw_from,
        "to": window.raw_to,
        "lang": lang,
        "query_lang": query_lang,
        "digest": m.digest,
    }
    root = m.table.iloc[0]
    tz = ctx.settings.display_tz
    summary = t(
        "trace.summary",
        lang,
        service=root["service"],
        operation=root["operation"],
        duration=formats.fmt_ms((m.end - m.start) / pd.Timedelta(milliseconds=1)),
        status="error" if (m.table["status"] == "error").any() else "ok",
        time=parts.when(m.start, tz, seconds=True),
    )
    slowest = m.verdict.span_id if m.verdict else None
    return html.Div(
        [
            dcc.Store(id=ids.TRACE_STATE, data=state),
            _crumbs(m, state, window),
            html.H1([html.Span(t("trace.title", lang), className="oc-kind"), state["trace_id"]]),
            html.Div(summary, className="oc-trace-summary"),
            html.Div(verdict_text(m.verdict, lang), id=ids.TRACE_VERDICT, className="oc-callout oc-verdict"),
            html.Section(
                [
                    html.H2(t("trace.waterfall", lang)),
                    graph(
                        ids.TRACE_WATERFALL,
                        f"{6 + 2.2 * len(m.table):.0f}rem",
                        drill_figures.waterfall(
                            m.table, slowest, t("axis.since_start", lang), t("trace.most_self", lang)
                        ),
                    ),
                    _span_rows(m, lang),
                ],
                className="oc-panel",
            ),
            html.Section(
                [html.H2(t("trace.resources", lang)), graph(ids.TRACE_RESOURCES, "62vh", _resources_figure(m, lang))],
                className="oc-panel",
            ),
            _log_panel(spans, state["trace_id"], lang),
        ],
        className="oc-page oc-drill",
        **{"data-trace": state["trace_id"]},
    )


def register(app: dash.Dash) -> None:
    """Register the page and the refresh of its resources on ``app``."""
    dash.register_page(
        __name__, path_template=PATH_TEMPLATE, layout=layout, title=page_title("title.trace", "trace_id", limit=16)
    )

    @app.callback(
        Output(ids.TRACE_VERDICT, "children"),
        Output(ids.TRACE_RESOURCES, "figure"),
        Output(ids.TRACE_STATE, "data"),
        Input(ids.VERSIONS, "data"),
        State(ids.TRACE_STATE, "data"),
        prevent_initial_call=True,
    )
    def refresh_trace(versions, state):
        """Redraw the resources (and the verdict that reads them) when their rows have changed."""
        try:
            spans = traces.spans(state["trace_id"])
        except traces.TraceSourceError:
            raise PreventUpdate from None
        if spans.empty:
            raise PreventUpdate
        m = model(spans, (versions or {}).get("frames"))
        if m.digest == state["digest"]:
            raise PreventUpdate
        return (
            verdict_text(m.verdict, state["lang"]),
            _resources_figure(m, state["lang"]),
            {**state, "digest": m.digest},
        )
