"""/catalogue: every service with owner, tier, SLA targets, runbook, dependencies, chains, health
and open incidents; and the standard service requests with their fulfilment figures."""

from __future__ import annotations

from urllib.parse import quote

import dash
import pandas as pd
from dash import dcc, html

from dashboard import context, ids
from dashboard.analytics import health, service_catalogue
from dashboard.i18n import t
from layouts.components import body_page
from layouts.components.incident_parts import health_badge
from layouts.components.titles import page_title

PATH = "/catalogue"
PAGE_STORE = "oc-catalogue-page"


def _links(names: list[str], prefix: str) -> list:
    if not names:
        return ["–"]
    links = [dcc.Link(n, href=f"{prefix}{quote(n)}") for n in names]
    return [part for link in links for part in (link, ", ")][:-1]


def services_section(table: pd.DataFrame, chain_ids: dict[str, str], lang: str) -> html.Section:
    head = html.Tr(
        [
            html.Th(t(k, lang))
            for k in (
                "col.service",
                "col.owner",
                "col.tier",
                "col.sla",
                "col.runbook",
                "col.depends_on",
                "col.chains",
                "col.health",
                "col.open_incidents",
            )
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(
                    [
                        dcc.Link(r.service, href=f"/service/{quote(r.service)}"),
                        html.Div(r.display_name, className="oc-muted"),
                    ]
                ),
                html.Td(r.owner or "–"),
                html.Td(f"T{r.tier}"),
                html.Td(
                    t("catalogue.sla", lang, p95=f"{r.p95_target_ms:,.0f}", errors=f"{r.error_target:.2%}")
                    if pd.notna(r.p95_target_ms)
                    else "–"
                ),
                html.Td(
                    html.A(t("col.runbook", lang), href=r.runbook_url, target="_blank", rel="noopener")
                    if isinstance(r.runbook_url, str)
                    else "–"
                ),
                html.Td(_links(r.depends_on, "/service/")),
                html.Td(
                    [
                        part
                        for name in r.chains
                        for part in (dcc.Link(name, href=f"/chain/{quote(chain_ids[name])}"), " ")
                    ]
                    or "–"
                ),
                html.Td(health_badge(r.status, lang)),
                html.Td(_links(r.open_incidents, "/incidents/")),
            ],
            **{"data-service": r.service},
        )
        for r in table.itertuples(index=False)
    ]
    return html.Section(
        [
            html.H2(f"{t('catalogue.services', lang)} ({len(table)})"),
            html.Table([html.Thead(head), html.Tbody(rows)], className="oc-catalogue-table"),
        ],
        id=ids.CATALOGUE_SERVICES,
        className="oc-panel",
    )


def _hours(value: float, lang: str) -> str:
    return "–" if pd.isna(value) else t("unit.h", lang, value=f"{value:,.1f}")


def requests_section(figures: pd.DataFrame, lang: str) -> html.Section:
    if figures.empty:
        content = html.Div(t("catalogue.no_requests", lang), className="oc-empty")
    else:
        head = html.Tr(
            [
                html.Th(t(k, lang))
                for k in (
                    "col.item",
                    "col.category",
                    "col.target",
                    "col.requests",
                    "col.open",
                    "col.median",
                    "col.in_target",
                )
            ]
        )
        content = html.Table(
            [
                html.Thead(head),
                html.Tbody(
                    [
                        html.Tr(
                            [
                                html.Td(r.item),
                                html.Td(r.category if isinstance(r.category, str) else "–"),
                                html.Td(_hours(r.target_h, lang)),
                                html.Td(f"{r.requests:,}"),
                                html.Td(f"{r.open:,}"),
                                html.Td(_hours(r.median_h, lang)),
                                html.Td(
                                    "–" if pd.isna(r.in_target) else f"{r.in_target:.0%}",
                                    className="oc-cell-error" if pd.notna(r.in_target) and r.in_target < 0.9 else None,
                                ),
                            ],
                            **{"data-item": r.item},
                        )
                        for r in figures.itertuples(index=False)
                    ]
                ),
            ],
            className="oc-catalogue-table",
        )
    return html.Section(
        [html.H2(t("catalogue.requests", lang)), content], id=ids.CATALOGUE_REQUESTS, className="oc-panel"
    )


def body(lang: str, versions: dict | None = None) -> list:
    """The two catalogues from the current frames."""
    frames = (versions or {}).get("frames")
    ctx = context.current()
    read = lambda name: ctx.store.frame(name, frames)  # noqa: E731
    services, chains = read("services"), read("chains")
    evaluated = health.evaluate(services, read("service_metrics"), ctx.settings.health)
    table = service_catalogue.services_table(
        services, chains, read("edges"), evaluated, read("incidents"), pd.Timestamp.now(tz="UTC")
    )
    chain_ids = dict(zip(chains["chain_name"], chains["chain"]))
    figures = service_catalogue.request_figures(read("service_requests"), ctx.settings.service_requests)
    return [services_section(table, chain_ids, lang), requests_section(figures, lang)]


def layout(lang: str | None = None, **_query) -> html.Div:
    """The catalogue page; ``?lang=zh`` for Chinese."""
    return body_page.layout(lang, PAGE_STORE, ids.CATALOGUE_BODY, "catalogue.title", body, "oc-catalogue-page")


def register(app: dash.Dash) -> None:
    """Register the page and its refresh callback on ``app``."""
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.catalogue"))
    body_page.register_refresh(app, PAGE_STORE, ids.CATALOGUE_BODY, body)
