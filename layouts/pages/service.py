"""/service/<service>: latency, rate and errors over the window with the service's events,
its instances, and its slowest and failed calls (a click opens the call's trace)."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.analytics import anomaly, drilldown, logrates, sites
from dashboard import context, ids
from dashboard.figures import drill as drill_figures
from dashboard.core import timewindow
from dashboard.security import urlinput
from dashboard.i18n import pick_lang, t
from layouts.components import drill_parts as parts
from layouts.components.graphs import graph
from layouts.components.titles import page_title

PATH_TEMPLATE = "/service/<service>"
CALL_SAMPLE = 2000  # calls drawn per instance panel, at most


@dataclass
class Model:
    """What the page shows, computed from the frames."""

    info: dict
    metrics: pd.DataFrame
    resources: pd.DataFrame
    calls: pd.DataFrame
    table: pd.DataFrame
    events: pd.DataFrame
    anomalies: pd.DataFrame
    log_errors: pd.DataFrame
    sites: list[str]
    digest: str


def model(service: str, window: timewindow.Window, versions: dict | None, site: str | None = None) -> Model | None:
    """The service over ``window`` (its instances at ``site`` when given); None when the service is unknown."""
    store = context.current().store
    info = drilldown.rows_for(store.frame("services", versions), "service", [service])
    if info.empty:
        return None
    start, end = window.start, window.end
    metrics = drilldown.within(drilldown.rows_for(store.frame("service_metrics", versions), "service", [service]),
                               "ts", start, end)
    resources = drilldown.within(drilldown.rows_for(store.frame("resource_metrics", versions), "service", [service]),
                                 "ts", start, end)
    calls = drilldown.within(drilldown.rows_for(store.frame("calls", versions), "service", [service]), "start", start, end)
    placed = drilldown.rows_for(store.frame("instances", versions), "service", [service])
    at_site = sites.instances_at(placed, site)
    if at_site is not None:
        resources = resources[resources["instance"].isin(at_site)]
        calls = calls[calls["instance"].isin(at_site)]
    log_errors = logrates.error_series(store.frame("log_rates", versions), [service], start, end)
    events = drilldown.service_events(service, start, end, *(store.frame(n, versions) for n in
                                                              ("alerts", "incidents", "changes", "chaos_runs")))
    anomalies = anomaly.for_service(store.frame("anomalies", versions), service, start, end)
    return Model(
        info=info.iloc[0].to_dict(), metrics=metrics, resources=resources, anomalies=anomalies,
        calls=calls.nlargest(CALL_SAMPLE, "duration_ms") if len(calls) > CALL_SAMPLE else calls,
        table=drilldown.slow_and_failed_calls(calls), events=events, log_errors=log_errors,
        sites=sorted(placed["site"].unique()),
        digest=parts.digest(metrics, resources, calls, events[["ident", "start", "end"]], anomalies, log_errors),
    )


def _rows(m: Model, tz: str) -> list[dict]:
    table = m.table
    return pd.DataFrame({
        "trace_id": table["trace_id"], "time": [parts.when(s, tz, seconds=True) for s in table["start"]],
        "duration_ms": table["duration_ms"].round(1), "status": table["status"],
        "instance": table["instance"].fillna("–"), "operation": table["operation"],
    }).to_dict("records")


def _columns(lang: str) -> list[dict]:
    return [
        {"field": "time", "headerName": t("col.time", lang), "minWidth": 170},
        {"field": "duration_ms", "headerName": t("col.duration", lang), "type": "rightAligned", "sort": "desc"},
        {"field": "status", "headerName": t("col.status", lang),
         "cellClassRules": {"oc-cell-error": "params.value == 'error'"}},
        {"field": "instance", "headerName": t("col.instance", lang)},
        {"field": "operation", "headerName": t("col.operation", lang)},
        {"field": "trace_id", "headerName": t("col.trace", lang), "minWidth": 260, "cellClass": "oc-cell-link"},
    ]


def _events(m: Model, tz: str, lang: str) -> list:
    if m.events.empty:
        return [html.Div(t("service.no_events", lang), className="oc-empty")]
    return [html.Li([html.Span(e.kind, className=f"oc-event-kind oc-event-{e.kind}"),
                     html.A(e.label, href=e.url, target="_blank", rel="noopener") if isinstance(e.url, str) else e.label,
                     html.Span(f" {parts.when(e.start, tz)} · {e.detail}", className="oc-event-meta")],
                    className="oc-event") for e in m.events.itertuples(index=False)]


def _figures(m: Model, window: timewindow.Window, tz: str, lang: str):
    shown = (window.start, window.end)
    timeline = drill_figures.service_timeline(m.metrics, m.events, tz,
                                              (t("axis.latency", lang), t("axis.rate", lang), t("axis.errors", lang),
                                               t("logs.error_rate", lang)), m.log_errors, shown)
    instances = drill_figures.service_instances(m.resources, m.calls, tz,
                                                (t("axis.cpu", lang), t("axis.memory", lang), t("axis.call_ms", lang)),
                                                shown)
    labels = (t("service.anomaly", lang), t("service.baseline_band", lang))
    return (drill_figures.mark_anomalies(timeline, m.anomalies, tz, drill_figures.TIMELINE_PANELS, labels),
            drill_figures.mark_anomalies(instances, m.anomalies, tz, drill_figures.INSTANCE_PANELS, labels))


def _chain_crumb(service: str, chain: str | None, window: timewindow.Window, query_lang: str | None):
    """The chain the user came from, else the only chain the service is in."""
    chains = context.current().store.frame("chains")
    named = drilldown.chain_steps(chains, chain) if chain else chains.iloc[0:0]
    if named.empty or service not in set(named["service"]):
        containing = drilldown.rows_for(chains, "service", [service])
        if containing["chain"].nunique() != 1:
            return None
        named = containing
    return str(named["chain_name"].iloc[0]), parts.href("chain", str(named["chain"].iloc[0]), window, lang=query_lang)


def layout(service: str | None = None, lang: str | None = None, chain: str | None = None, site: str | None = None,
           **query) -> html.Div:
    """The service page for ``service`` over ``?from=&to=`` (``?chain=`` names the chain it was reached from,
    ``?site=`` keeps the instances at one site)."""
    ctx = context.current()
    tz = ctx.settings.display_tz
    query_lang, lang = lang, pick_lang(lang, ctx.settings.language)
    try:
        service = urlinput.clean("service", unquote(service or "")) or ""
        chain = urlinput.clean("chain", chain)
        window = urlinput.window(query.get("from"), query.get("to"))
        site = urlinput.clean("site", site)
    except urlinput.UrlInputError as exc:
        return parts.problem("bad_request", t("drill.bad_input", lang, reason=exc), lang)
    m = model(service, window, None, site)
    if m is None:
        return parts.problem("not_found", t("drill.no_service", lang, name=service), lang)
    state = {"service": service, "chain": chain, "site": site, "from": window.raw_from, "to": window.raw_to,
             "lang": lang, "query_lang": query_lang, "digest": m.digest}
    crumb = _chain_crumb(service, chain, window, query_lang)
    name = m.info["display_name"]
    timeline, instances = _figures(m, window, tz, lang)
    runbook = m.info.get("runbook_url")
    return html.Div(
        [
            dcc.Store(id=ids.SERVICE_STATE, data=state),
            dcc.Location(id=ids.DRILL_NAV, refresh="callback-nav"),
            parts.breadcrumbs([(t("drill.wall", lang), "/wall"), *([crumb] if crumb else []), (name, None)]),
            html.H1([html.Span(t("service.title", lang), className="oc-kind"), name,
                     html.Span(t("service.meta", lang, tier=m.info["tier"], owner=m.info.get("owner") or "–"),
                               className="oc-meta"),
                     *([html.A(t("service.runbook", lang), href=runbook, target="_blank", rel="noopener",
                               className="oc-meta-link")] if isinstance(runbook, str) else [])]),
            parts.window_bar("service", service, window, tz, lang, {"chain": chain, "lang": query_lang, "site": site}),
            *([parts.site_bar("service", service, window, {s: s for s in m.sites}, site, lang,
                              {"chain": chain, "lang": query_lang})]
              if len(m.sites) > 1 else []),
            html.Div([
                html.Section([html.H2(t("service.timeline", lang)),
                              graph(ids.SERVICE_TIMELINE, "46vh", timeline)], className="oc-panel"),
                html.Section([html.H2(t("service.instances", lang)),
                              graph(ids.SERVICE_INSTANCES, "46vh", instances)], className="oc-panel"),
            ], className="oc-drill-pair"),
            html.Div([
                html.Section([html.H2(t("service.calls", lang)), dag.AgGrid(
                    id=ids.SERVICE_CALLS, rowData=_rows(m, tz), columnDefs=_columns(lang),
                    getRowId="params.data.trace_id", columnSize="responsiveSizeToFit",
                    className="ag-theme-alpine-dark oc-grid oc-calls-grid",
                )], className="oc-panel"),
                html.Section([html.H2(t("service.events", lang)),
                              html.Ul(_events(m, tz, lang), id=ids.SERVICE_EVENTS, className="oc-events")],
                             className="oc-panel"),
            ], className="oc-drill-pair oc-drill-pair-table"),
        ],
        className="oc-page oc-drill", **{"data-service": service},
    )


def register(app: dash.Dash) -> None:
    """Register the page, its refresh callback and the click from a call to its trace."""
    dash.register_page(__name__, path_template=PATH_TEMPLATE, layout=layout,
                       title=page_title("title.service", "service"))

    @app.callback(
        Output(ids.SERVICE_TIMELINE, "figure"), Output(ids.SERVICE_INSTANCES, "figure"),
        Output(ids.SERVICE_CALLS, "rowData"), Output(ids.SERVICE_EVENTS, "children"),
        Output(ids.SERVICE_STATE, "data"),
        Input(ids.VERSIONS, "data"), State(ids.SERVICE_STATE, "data"), prevent_initial_call=True,
    )
    def refresh_service(versions, state):
        """Redraw when the rows the page shows have changed."""
        window = timewindow.resolve(state["from"], state["to"])
        m = model(state["service"], window, (versions or {}).get("frames"), state.get("site"))
        if m is None or m.digest == state["digest"]:
            raise PreventUpdate
        tz, lang = context.current().settings.display_tz, state["lang"]
        return (*_figures(m, window, tz, lang), _rows(m, tz), _events(m, tz, lang), {**state, "digest": m.digest})

    app.clientside_callback(
        """function (cell, state) {
            if (!cell || !cell.rowId) { return window.dash_clientside.no_update; }
            const query = new URLSearchParams({from: state.from, to: state.to, service: state.service});
            if (state.chain) { query.set("chain", state.chain); }
            if (state.query_lang) { query.set("lang", state.query_lang); }
            return "/trace/" + encodeURIComponent(cell.rowId) + "?" + query.toString();
        }""",
        Output(ids.DRILL_NAV, "href"), Input(ids.SERVICE_CALLS, "cellClicked"), State(ids.SERVICE_STATE, "data"),
        prevent_initial_call=True,
    )
