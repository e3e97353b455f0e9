"""/incidents/<id>: one incident on one time axis with its alerts, preceding changes, chaos runs and metrics."""

from __future__ import annotations

from urllib.parse import quote, unquote

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.analytics import incidents as incident_stats
from dashboard.analytics import logrates
from dashboard.figures.incidents import timeline_figure
from dashboard.i18n import pick_lang, t
from dashboard.security import urlinput
from layouts.components.graphs import graph
from layouts.components.incident_parts import (
    health_badge,
    incident_query,
    preplan,
    priority_badge,
    service_health,
    service_query,
    state_label,
)
from layouts.components.titles import page_title

LIST_PATH = "/incidents"
PATH_TEMPLATE = "/incidents/<incident_id>"
PAGE_STORE = "oc-incident-page"
LANE_KEYS = ("incident", "alerts", "changes", "chaos")
PANEL_KEYS = ("events", "latency", "errors")
STATES = ("new", "in_progress", "resolved", "closed", "cancelled")


def labels(lang: str) -> dict[str, str]:
    """The figure's lane, panel and state names in ``lang``."""
    return {
        **{k: t(f"incidents.lane_{k}", lang) for k in LANE_KEYS},
        **{k: t(f"incidents.panel_{k}", lang) for k in PANEL_KEYS},
        **{k: t(f"incidents.state_{k}", lang) for k in STATES},
        "suspect": t("incidents.suspect", lang),
        "logs": t("logs.burst", lang),
    }


def find(incidents: pd.DataFrame, incident_id: str) -> pd.Series | None:
    """The incident with this id (the most recently opened when several sources share it)."""
    found = incidents[incidents["incident_id"] == incident_id]
    return None if found.empty else found.sort_values("opened_at").iloc[-1]


def _local(value, tz: str) -> str:
    return "–" if pd.isna(value) else pd.Timestamp(value).tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def _header(
    incident: pd.Series, status: pd.Series, chains: list[str], queries: tuple[str, str], tz: str, lang: str
) -> html.Div:
    """The title, facts and drill-down links; ``queries``: of the service link and of the chain links."""
    service = incident["service"]
    drill = []
    query = queries[1]
    if service:
        drill.append(
            dcc.Link(
                t("incidents.drill_service", lang, service=service),
                href=f"/service/{quote(service)}{queries[0]}",
                className="oc-drill",
            )
        )
        drill += [
            dcc.Link(t("incidents.drill_chain", lang, chain=c), href=f"/chain/{quote(c)}{query}", className="oc-drill")
            for c in chains
        ]
    if incident.get("url"):
        drill.append(
            html.A(
                t("incidents.open_in_source", lang, source=incident["source"]),
                href=incident["url"],
                target="_blank",
                rel="noopener",
                className="oc-drill",
            )
        )
    facts = [
        (
            t("incidents.service", lang),
            [service or "–", " ", health_badge(status.get(service, "nodata"), lang) if service else ""],
        ),
        (t("incidents.group", lang), incident["assignment_group"] or "–"),
        (t("incidents.opened", lang), _local(incident["opened_at"], tz)),
        (t("incidents.acknowledged", lang), _local(incident["acknowledged_at"], tz)),
        _ending(incident, tz, lang),
    ]
    return html.Div(
        [
            html.H1(
                [
                    priority_badge(incident["priority"]),
                    f" {incident['incident_id']} · {incident['title']} ",
                    state_label(incident["state"], lang),
                ],
                className="oc-inc-h1",
            ),
            html.Dl(
                [item for label, value in facts for item in (html.Dt(label), html.Dd(value))], className="oc-facts"
            ),
            html.Div(drill, className="oc-drills"),
        ]
    )


def _ending(incident: pd.Series, tz: str, lang: str) -> tuple[str, str]:
    """The last fact: when it was resolved, or when it was closed or cancelled without a resolution."""
    ended = incident_stats.end_time(incident)
    if pd.notna(incident["resolved_at"]) or pd.isna(ended):
        return t("incidents.resolved", lang), _local(incident["resolved_at"], tz)
    return t(f"incidents.state_{incident['state']}", lang), _local(ended, tz)


def changes_table(changes: pd.DataFrame, tz: str, lang: str) -> html.Div:
    """The changes before the incident, the suspect one flagged."""
    if changes.empty:
        return html.Div(t("incidents.no_changes", lang), className="oc-empty")
    head = html.Tr(
        [
            html.Th(t(k, lang))
            for k in ("incidents.lane_changes", "incidents.started", "incidents.outcome", "incidents.state")
        ]
        + [html.Th("")]
    )
    rows = []
    for c in changes.itertuples():
        started = c.actual_start if pd.notna(c.actual_start) else c.planned_start
        flag = html.Span(["⚠ ", t("incidents.suspect", lang)], className="oc-suspect-flag") if c.suspect else ""
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            html.A(c.change_id, href=c.url, target="_blank", rel="noopener") if c.url else c.change_id,
                            html.Div(c.title, className="oc-inc-title"),
                        ]
                    ),
                    html.Td(_local(started, tz)),
                    html.Td(t(f"incidents.outcome_{c.outcome}", lang), className=f"oc-outcome-{c.outcome}"),
                    html.Td(t(f"incidents.change_state_{c.state}", lang)),
                    html.Td(flag),
                ],
                className="oc-change-row oc-suspect" if c.suspect else "oc-change-row",
                **{"data-change": c.change_id},
            )
        )
    return html.Table([html.Thead(head), html.Tbody(rows)], className="oc-inc-table")


def view(incident_id: str, lang: str, versions: dict | None = None) -> tuple[list, list, go.Figure | None]:
    """The header, the pre-plan and changes, and the timeline of one incident; not found: a message and no figure."""
    ctx = context.current()
    frames, store, tz = (versions or {}).get("frames"), ctx.store, ctx.settings.display_tz
    incident = find(store.frame("incidents", frames), incident_id)
    if incident is None:
        return (
            [
                html.P(
                    t("incidents.not_found", lang, incident_id=incident_id),
                    id="oc-incident-not-found",
                    className="oc-empty",
                ),
                dcc.Link(t("incidents.back", lang), href=LIST_PATH),
            ],
            [],
            None,
        )
    now = pd.Timestamp.now(tz="UTC")
    service = incident["service"]
    changes = incident_stats.recent_changes(incident, store.frame("changes", frames))
    start, end = incident_stats.incident_window(incident, changes, now)
    chains = store.frame("chains", frames)
    on_chains = sorted(chains.loc[chains["service"] == service, "chain"].unique()) if service else []
    metrics = store.frame("service_metrics", frames)
    figure = timeline_figure(
        incident,
        incident_stats.milestones(incident),
        incident_stats.around(store.frame("alerts", frames), "starts_at", start, end, service, "ends_at"),
        changes,
        incident_stats.around(store.frame("chaos_runs", frames), "started_at", start, end, service, "ended_at"),
        incident_stats.around(metrics, "ts", start, end, service).sort_values("ts"),
        start,
        end,
        labels(lang),
        tz,
        logrates.error_series(store.frame("log_rates", frames), [service], start, end) if service else None,
    )
    queries = (service_query(incident, now, frames) if service else "", incident_query(incident, now))
    header = [_header(incident, service_health(frames), on_chains, queries, tz, lang)]
    details = [
        html.Section(
            [html.H2(t("incidents.preplan", lang)), preplan(incident, store.frame("services", frames), lang)],
            className="oc-panel",
        ),
        html.Section(
            [
                html.H2(
                    t("incidents.changes_before", lang, service=service or "–", hours=incident_stats.SUSPECT_HOURS)
                ),
                changes_table(changes, tz, lang),
            ],
            className="oc-panel",
        ),
    ]
    return header, details, figure


def layout(incident_id: str = "", lang: str | None = None, **_query) -> html.Div:
    """One incident's command view; ``?lang=zh`` for Chinese."""
    lang = pick_lang(lang, context.current().settings.language)
    try:
        incident_id = urlinput.clean("incident_id", unquote(incident_id or "")) or ""
    except urlinput.UrlInputError as exc:
        return html.Div(
            html.P(t("drill.bad_input", lang, reason=exc), id="oc-incident-bad-input", className="oc-empty"),
            className="oc-page oc-incident-page",
        )
    header, details, figure = view(incident_id, lang)
    if figure is None:  # no ids on the page, so its refresh callback stays idle
        return html.Div(header, className="oc-page oc-incident-page")
    return html.Div(
        [
            dcc.Store(id=PAGE_STORE, data={"lang": lang, "incident_id": incident_id}),
            dcc.Link(f"← {t('incidents.back', lang)}", href=LIST_PATH, className="oc-back"),
            html.Div(header, id=ids.INCIDENT_BODY),
            html.Section(
                graph(ids.INCIDENT_TIMELINE, "max(52vh, 28rem)", figure, modebar="hover"), className="oc-panel"
            ),
            html.Div(details, id=ids.INCIDENT_DETAILS, className="oc-incident-details"),
        ],
        className="oc-page oc-incident-page",
    )


def register(app: dash.Dash) -> None:
    """Register the page and its refresh callback on ``app``."""
    dash.register_page(__name__, path_template=PATH_TEMPLATE, layout=layout, title=page_title("title.incident"))

    @app.callback(
        Output(ids.INCIDENT_BODY, "children"),
        Output(ids.INCIDENT_DETAILS, "children"),
        Output(ids.INCIDENT_TIMELINE, "figure"),
        Input(ids.VERSIONS, "data"),
        State(PAGE_STORE, "data"),
        prevent_initial_call=True,
    )
    def refresh_incident(versions, page):
        header, details, figure = view(page["incident_id"], page["lang"], versions)
        return header, details, figure if figure is not None else dash.no_update
