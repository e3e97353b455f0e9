"""/incidents: active incidents by priority with their pre-plans and who commands them, response times and change
statistics, the changes and chaos runs made during a change freeze in the last 30 days; for managers, the firing
alerts and the form to declare an incident (``incident_declare``)."""

from __future__ import annotations

from urllib.parse import quote

import dash
import pandas as pd
from dash import dcc, html

from dashboard import context, ids
from dashboard.analytics import incidents as incident_stats
from dashboard.command import oversight
from dashboard.i18n import t
from layouts.components import body_page, freeze_parts, incident_declare
from layouts.components.incident_parts import (
    acknowledged,
    health_badge,
    preplan,
    priority_badge,
    service_health,
    service_query,
    state_label,
)
from layouts.components.titles import page_title

PATH = "/incidents"
PAGE_STORE = "oc-incidents-page"
WINDOW_DAYS = (30, 90)


def duration(minutes: float, lang: str) -> str:
    """Minutes as '42 min' or '3 h 5 min'; a dash when unknown."""
    if pd.isna(minutes):
        return "–"
    minutes = int(round(minutes))
    if minutes < 60:
        return t("incidents.minutes", lang, minutes=minutes)
    return t("incidents.hours", lang, hours=minutes // 60, minutes=minutes % 60)


def percent(value: float | None, lang: str) -> str:
    return t("incidents.no_data", lang) if value is None else f"{value:.1%}"


def _service_cell(service: str | None, status: pd.Series, query: str, lang: str) -> list:
    if not service:
        return ["–"]
    return [
        dcc.Link(service, href=f"/service/{quote(service)}{query}"),
        " ",
        health_badge(status.get(service, "nodata"), lang),
    ]


def active_table(
    active: pd.DataFrame,
    services: pd.DataFrame,
    status: pd.Series,
    now: pd.Timestamp,
    lang: str,
    frames: dict | None,
    watch: pd.DataFrame,
) -> html.Div:
    """Active incidents, most urgent first (``frames``: the versions the service links' queries read; ``watch``:
    who commands the P1/P2, ``oversight.watched``)."""
    if active.empty:
        return html.Div(t("incidents.none_active", lang), className="oc-empty")
    head = html.Tr(
        [
            html.Th(h)
            for h in (
                "",
                t("incidents.lane_incident", lang),
                t("incidents.service", lang),
                t("incidents.group", lang),
                t("incidents.state", lang),
                t("incidents.age", lang),
                t("oversight.column", lang),
                t("incidents.preplan", lang),
            )
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(priority_badge(row["priority"])),
                html.Td(
                    [
                        dcc.Link(row["incident_id"], href=f"{PATH}/{quote(row['incident_id'])}", className="oc-inc-id"),
                        html.Div(row["title"], className="oc-inc-title"),
                    ]
                ),
                html.Td(
                    _service_cell(
                        row["service"], status, service_query(row, now, frames) if row["service"] else "", lang
                    )
                ),
                html.Td(row["assignment_group"] or "–"),
                html.Td(state_label(row["state"], lang)),
                html.Td(duration(row["age_min"], lang), className="oc-num"),
                html.Td(incident_declare.command_line(watch, row["source"], row["incident_id"], now, lang)),
                html.Td(preplan(row, services, lang)),
            ],
            className=f"oc-inc-row oc-row-p{row['priority']}",
            **{"data-incident": row["incident_id"]},
        )
        for _, row in active.iterrows()
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="oc-inc-table")


def response_table(times: pd.DataFrame, days: int, lang: str) -> html.Div:
    """MTTA and MTTR per priority over ``days``."""
    head = html.Tr(
        [
            html.Th(t(k, lang))
            for k in (
                "incidents.priority",
                "incidents.count",
                "incidents.mtta",
                "incidents.unacked",
                "incidents.mttr",
                "incidents.unresolved",
            )
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(priority_badge(r.priority)),
                html.Td(r.incidents, className="oc-num"),
                html.Td(duration(r.mtta_min, lang), className="oc-num oc-inc-time"),
                html.Td(r.unacknowledged, className="oc-num"),
                html.Td(duration(r.mttr_min, lang), className="oc-num oc-inc-time"),
                html.Td(r.unresolved, className="oc-num"),
            ]
        )
        for r in times.itertuples()
    ]
    return html.Div(
        [
            html.H3(t("incidents.days", lang, days=days)),
            html.Table([html.Thead(head), html.Tbody(rows)], className="oc-kpi-table"),
        ],
        className="oc-kpi-block",
        **{"data-days": str(days)},
    )


def change_cards(rates: dict, lang: str) -> html.Div:
    """Change success and change-induced incident rates over one window."""
    return html.Div(
        [
            html.H3(t("incidents.days", lang, days=rates["days"])),
            html.Div(
                [
                    html.Div(t("incidents.change_success", lang), className="oc-card-label"),
                    html.Div(percent(rates["success_rate"], lang), className="oc-card-value"),
                    html.Div(
                        t("incidents.change_success_detail", lang, ok=rates["successful"], total=rates["changes"]),
                        className="oc-card-detail",
                    ),
                ],
                className="oc-card",
            ),
            html.Div(
                [
                    html.Div(t("incidents.change_induced", lang), className="oc-card-label"),
                    html.Div(percent(rates["change_induced_rate"], lang), className="oc-card-value"),
                    html.Div(
                        t(
                            "incidents.change_induced_detail",
                            lang,
                            induced=rates["change_induced"],
                            total=rates["incidents"],
                        ),
                        className="oc-card-detail",
                    ),
                ],
                className="oc-card",
            ),
        ],
        className="oc-kpi-block",
    )


def body(lang: str, versions: dict | None = None) -> list:
    """The page's content from the current frames."""
    frames = (versions or {}).get("frames")
    store, limits = context.current().store, context.current().settings.command.stale_after_min
    incidents, changes = acknowledged(store.frame("incidents", frames)), store.frame("changes", frames)
    services = store.frame("services", frames)
    now = pd.Timestamp.now(tz="UTC")
    active = incident_stats.active(incidents, now)
    by_priority = active["priority"].value_counts()
    counts = [
        html.Span([priority_badge(p), f" {int(by_priority.get(p, 0))}"], className="oc-count")
        for p in incident_stats.PRIORITIES
    ]
    return [
        html.Div([html.H2(f"{t('incidents.active', lang)} ({len(active)})"), *counts], className="oc-inc-head"),
        html.Section(
            active_table(
                active,
                services,
                service_health(frames, [s for s in active["service"].dropna().unique() if s]),
                now,
                lang,
                frames,
                oversight.watched(active, store.frame("incident_command", frames), now, limits),
            ),
            className="oc-panel",
        ),
        incident_declare.alerts_panel(store.frame("alerts", frames), lang),
        html.Div(
            [
                html.Section(
                    [
                        html.H2(t("incidents.kpis", lang)),
                        html.Div(
                            [
                                response_table(incident_stats.response_times(incidents, now, d), d, lang)
                                for d in WINDOW_DAYS
                            ],
                            className="oc-kpi-row",
                        ),
                        html.P(t("incidents.kpi_rule", lang), className="oc-kpi-rule"),
                    ],
                    className="oc-panel oc-inc-kpis",
                ),
                html.Section(
                    [
                        html.H2(t("incidents.changes", lang)),
                        html.Div(
                            [
                                change_cards(incident_stats.change_rates(changes, incidents, now, d), lang)
                                for d in WINDOW_DAYS
                            ],
                            className="oc-kpi-row",
                        ),
                    ],
                    className="oc-panel oc-change-stats",
                ),
            ],
            className="oc-inc-grid",
        ),
        freeze_parts.panel(
            store.frame("freeze_breaches", frames),
            pd.Timestamp(context.current().clock()),
            context.current().settings.display_tz,
            lang,
            freeze_parts.delivered(store.statuses()),
        ),
    ]


def layout(lang: str | None = None, **_query) -> html.Div:
    """The incidents page; ``?lang=zh`` for Chinese."""
    page = body_page.layout(lang, PAGE_STORE, ids.INCIDENTS_BODY, "incidents.title", body, "oc-incidents-page")
    page.children.insert(2, incident_declare.form(context.current().store.frame("services"), page.children[0].data))
    return page


def register(app: dash.Dash) -> None:
    """Register the page and its refresh callback on ``app``."""
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.incidents"))
    body_page.register_refresh(app, PAGE_STORE, ids.INCIDENTS_BODY, body)
    incident_declare.register(app, PAGE_STORE)
