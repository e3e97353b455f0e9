"""/service/<service>: its slowest and failed calls first (each a link to the call's trace), its events (a change
or chaos run made during a change freeze flagged) and its freeze breaches of the last 30 days, then latency, rate
and errors over the window and its instances."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import context, formats, ids
from dashboard.analytics import anomaly, drilldown, logrates, sites
from dashboard.core import timewindow
from dashboard.figures import drill as drill_figures
from dashboard.i18n import pick_lang, t
from dashboard.security import urlinput
from layouts.components import drill_parts as parts
from layouts.components import freeze_parts
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
    freeze: pd.DataFrame  # its changes and chaos runs made during a change freeze (``freeze_breaches``)
    digest: str


def model(
    service: str, window: timewindow.Window, versions: dict | None, site: str | None = None, failed_first: bool = False
) -> Model | None:
    """The service over ``window`` (its instances at ``site`` when given; its failed calls first in the table
    when ``failed_first``); None when the service is unknown."""
    store = context.current().store
    info = drilldown.rows_for(store.frame("services", versions), "service", [service])
    if info.empty:
        return None
    start, end = window.start, window.end

    def rows(name: str) -> pd.DataFrame:  # the service's rows, from its partition of a large frame
        return store.frame(name, versions, services=[service])

    metrics = drilldown.within(rows("service_metrics"), "ts", start, end)
    resources = drilldown.within(rows("resource_metrics"), "ts", start, end)
    calls = drilldown.within(rows("calls"), "start", start, end)
    placed = rows("instances")
    at_site = sites.instances_at(placed, site)
    if at_site is not None:
        resources = resources[resources["instance"].isin(at_site)]
        calls = calls[calls["instance"].isin(at_site)]
    log_errors = logrates.error_series(rows("log_rates"), [service], start, end)
    events = drilldown.service_events(
        service, start, end, *(store.frame(n, versions) for n in ("alerts", "incidents", "changes", "chaos_runs"))
    )
    anomalies = anomaly.for_service(store.frame("anomalies", versions), service, start, end)
    breaches = store.frame("freeze_breaches", versions)
    breaches = breaches[breaches["service"] == service].reset_index(drop=True)
    drawn = calls.nlargest(CALL_SAMPLE, "duration_ms") if len(calls) > CALL_SAMPLE else calls
    table = drilldown.slow_and_failed_calls(calls, failed_first=failed_first)
    return Model(
        info=info.iloc[0].to_dict(),
        metrics=metrics,
        resources=resources,
        anomalies=anomalies,
        calls=drawn,
        table=table,
        events=events,
        log_errors=log_errors,
        sites=sorted(placed["site"].unique()),
        freeze=breaches,
        digest=parts.digest(metrics, resources, drawn, table, events, anomalies, log_errors, breaches),
    )


def _calls_table(m: Model, state: dict, window: timewindow.Window, tz: str) -> html.Table:
    """The slowest and failed calls; each row a link to its trace (a new tab, so this page stays)."""
    lang = state["lang"]
    head = html.Tr(
        [
            html.Th(t(k, lang), className=c)
            for k, c in (
                ("col.time", None),
                ("col.duration", "oc-num"),
                ("col.status", None),
                ("col.instance", None),
                ("col.operation", None),
                ("col.trace", None),
            )
        ]
    )
    links = parts.hrefs(
        "trace",
        m.table["trace_id"].tolist(),
        window,
        service=state["service"],
        chain=state["chain"],
        lang=state["query_lang"],
    )
    rows = [
        html.Tr(
            [
                html.Td(time),
                html.Td(formats.fmt_ms(r.duration_ms), className="oc-num"),
                html.Td(r.status, className="oc-cell-error" if r.status == "error" else None),
                html.Td(r.instance if isinstance(r.instance, str) else "–"),
                html.Td(r.operation),
                html.Td(
                    html.A(
                        r.trace_id,
                        href=link,
                        target="_blank",
                        rel="noopener",
                        className="oc-row-link",
                    )
                ),
            ],
            className="oc-call-row" + (" oc-call-failed" if r.status == "error" else ""),
            **{"data-trace": r.trace_id},
        )
        for r, time, link in zip(
            m.table.itertuples(index=False), parts.whens(m.table["start"], tz, seconds=True), links
        )
    ]
    if not rows:
        return html.Div(t("drill.no_data", lang), className="oc-empty")
    return html.Table([html.Thead(head), html.Tbody(rows)], className="oc-span-table oc-calls-table")


def _events(m: Model, tz: str, lang: str) -> list:
    if m.events.empty:
        return [html.Div(t("service.no_events", lang), className="oc-empty")]
    breaches = freeze_parts.by_id(m.freeze)
    return [
        html.Li(
            [
                html.Span(e.kind, className=f"oc-event-kind oc-event-{e.kind}"),
                freeze_parts.flag(breaches.get((e.kind, e.ident)), lang),
                html.A(e.label, href=e.url, target="_blank", rel="noopener") if isinstance(e.url, str) else e.label,
                html.Span(f" {parts.when(e.start, tz)} · {e.detail}", className="oc-event-meta"),
            ],
            className="oc-event",
        )
        for e in m.events.itertuples(index=False)
    ]


def _freeze(m: Model, tz: str, lang: str) -> html.Section:
    """The service's changes and chaos runs made during a change freeze in the last 30 days."""
    return freeze_parts.panel(m.freeze, pd.Timestamp(context.current().clock()), tz, lang, services=False)


def _figures(m: Model, window: timewindow.Window, tz: str, lang: str):
    shown = (window.start, window.end)
    timeline = drill_figures.service_timeline(
        m.metrics,
        m.events,
        tz,
        (t("axis.latency", lang), t("axis.rate", lang), t("axis.errors", lang), t("logs.error_rate", lang)),
        m.log_errors,
        shown,
    )
    instances = drill_figures.service_instances(
        m.resources, m.calls, tz, (t("axis.cpu", lang), t("axis.memory", lang), t("axis.call_ms", lang)), shown
    )
    labels = (t("service.anomaly", lang), t("service.baseline_band", lang))
    return (
        drill_figures.mark_anomalies(timeline, m.anomalies, tz, drill_figures.TIMELINE_PANELS, labels),
        drill_figures.mark_anomalies(instances, m.anomalies, tz, drill_figures.INSTANCE_PANELS, labels),
    )


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


def layout(
    service: str | None = None,
    lang: str | None = None,
    chain: str | None = None,
    site: str | None = None,
    calls: str | None = None,
    **query,
) -> html.Div:
    """The service page for ``service`` over ``?from=&to=`` (``?chain=`` names the chain it was reached from,
    ``?site=`` keeps the instances at one site, ``?calls=failed`` puts the failed calls first)."""
    ctx = context.current()
    tz = ctx.settings.display_tz
    query_lang, lang = lang, pick_lang(lang, ctx.settings.language)
    try:
        service = urlinput.clean("service", unquote(service or "")) or ""
        chain = urlinput.clean("chain", chain)
        window = urlinput.window(query.get("from"), query.get("to"))
        site = urlinput.clean("site", site)
        calls = urlinput.clean("calls", calls)
    except urlinput.UrlInputError as exc:
        return parts.problem("bad_request", t("drill.bad_input", lang, reason=exc), lang)
    m = model(service, window, None, site, calls == "failed")
    if m is None:
        return parts.problem("not_found", t("drill.no_service", lang, name=service), lang)
    state = {
        "service": service,
        "chain": chain,
        "site": site,
        "calls": calls,
        "from": window.raw_from,
        "to": window.raw_to,
        "lang": lang,
        "query_lang": query_lang,
        "digest": m.digest,
    }
    crumb = _chain_crumb(service, chain, window, query_lang)
    name = m.info["display_name"]
    timeline, instances = _figures(m, window, tz, lang)
    runbook = m.info.get("runbook_url")
    extra = {"chain": chain, "lang": query_lang, "site": site, "calls": calls}
    return html.Div(
        [
            dcc.Store(id=ids.SERVICE_STATE, data=state),
            parts.breadcrumbs([(t("drill.wall", lang), "/wall"), *([crumb] if crumb else []), (name, None)]),
            html.H1(
                [
                    html.Span(t("service.title", lang), className="oc-kind"),
                    name,
                    html.Span(
                        t("service.meta", lang, tier=m.info["tier"], owner=m.info.get("owner") or "–"),
                        className="oc-meta",
                    ),
                    *(
                        [
                            html.A(
                                t("service.runbook", lang),
                                href=runbook,
                                target="_blank",
                                rel="noopener",
                                className="oc-meta-link",
                            )
                        ]
                        if isinstance(runbook, str)
                        else []
                    ),
                ]
            ),
            parts.window_bar("service", service, window, tz, lang, extra),
            *(
                [
                    parts.site_bar(
                        "service",
                        service,
                        window,
                        {s: s for s in m.sites},
                        site,
                        lang,
                        {k: v for k, v in extra.items() if k != "site"},
                    )
                ]
                if len(m.sites) > 1
                else []
            ),
            html.Div(
                [
                    html.Section(
                        [
                            html.H2([t("service.calls", lang), _order_links(service, window, extra, lang)]),
                            html.Div(
                                _calls_table(m, state, window, tz), id=ids.SERVICE_CALLS, className="oc-calls-scroll"
                            ),
                        ],
                        className="oc-panel",
                    ),
                    html.Section(
                        [
                            html.H2(t("service.events", lang)),
                            html.Ul(_events(m, tz, lang), id=ids.SERVICE_EVENTS, className="oc-events"),
                            html.Div(_freeze(m, tz, lang), id=ids.SERVICE_FREEZE),
                        ],
                        className="oc-panel",
                    ),
                ],
                className="oc-drill-pair oc-drill-pair-table",
            ),
            html.Div(
                [
                    html.Section(
                        [html.H2(t("service.timeline", lang)), graph(ids.SERVICE_TIMELINE, "46vh", timeline)],
                        className="oc-panel",
                    ),
                    html.Section(
                        [html.H2(t("service.instances", lang)), graph(ids.SERVICE_INSTANCES, "46vh", instances)],
                        className="oc-panel",
                    ),
                ],
                className="oc-drill-pair",
            ),
        ],
        className="oc-page oc-drill",
        **{"data-service": service},
    )


def _order_links(service: str, window: timewindow.Window, extra: dict, lang: str) -> html.Span:
    """Links to this page with the slowest calls first and with the failed ones first (the one shown marked)."""
    return html.Span(
        [
            dcc.Link(
                t(f"service.calls_{order}", lang),
                className="oc-preset" + (" oc-preset-on" if (extra["calls"] or "slowest") == order else ""),
                href=parts.href(
                    "service", service, window, **{**extra, "calls": None if order == "slowest" else order}
                ),
            )
            for order in ("slowest", "failed")
        ],
        className="oc-calls-order",
    )


def register(app: dash.Dash) -> None:
    """Register the page and its refresh callback."""
    dash.register_page(
        __name__, path_template=PATH_TEMPLATE, layout=layout, title=page_title("title.service", "service")
    )

    @app.callback(
        Output(ids.SERVICE_TIMELINE, "figure"),
        Output(ids.SERVICE_INSTANCES, "figure"),
        Output(ids.SERVICE_CALLS, "children"),
        Output(ids.SERVICE_EVENTS, "children"),
        Output(ids.SERVICE_FREEZE, "children"),
        Output(ids.SERVICE_STATE, "data"),
        Input(ids.VERSIONS, "data"),
        State(ids.SERVICE_STATE, "data"),
        prevent_initial_call=True,
    )
    def refresh_service(versions, state):
        """Redraw when the rows the page shows have changed."""
        window = timewindow.resolve(state["from"], state["to"])
        m = model(
            state["service"], window, (versions or {}).get("frames"), state.get("site"), state.get("calls") == "failed"
        )
        if m is None or m.digest == state["digest"]:
            raise PreventUpdate
        tz, lang = context.current().settings.display_tz, state["lang"]
        return (
            *_figures(m, window, tz, lang),
            _calls_table(m, state, window, tz),
            _events(m, tz, lang),
            _freeze(m, tz, lang),
            {**state, "digest": m.digest},
        )
