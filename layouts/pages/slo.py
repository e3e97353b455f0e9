"""/slo: each chain's objectives with the error budget left, the burn rates per window, the burn-rate alert
raised, and the availability budget burning down over the budget's window (definitions: docs/slo.md)."""

from __future__ import annotations

from urllib.parse import quote

import dash
import pandas as pd
from dash import dcc, html

from dashboard import context, ids
from dashboard.analytics import slo, wallview
from dashboard.figures import slo as slo_figures
from dashboard.formats import fmt_pct
from dashboard.i18n import t
from layouts.components import body_page
from layouts.components.graphs import graph
from layouts.components.titles import page_title

PATH = "/slo"
PAGE_STORE = "oc-slo-page"
WINDOWS = {"burn_5m": "5 min", "burn_30m": "30 min", "burn_60m": "1 h", "burn_360m": "6 h"}


def _objective(row, goals: slo.Objectives, lang: str) -> str:
    if row.objective == "availability":
        return t("slo.availability", lang, target=fmt_pct(row.target, 2))
    return t("slo.latency", lang, ms=f"{goals.latency_p99_ms:g}", target=fmt_pct(row.target, 0))


def _budget(left: float, lang: str) -> html.Div:
    """A bar of the budget left, with its figure (or "spent") and its status shape."""
    status = slo.budget_status(left)
    text = "–" if pd.isna(left) else t("slo.exhausted", lang) if left <= 0 else fmt_pct(left, 0)
    width = 0 if pd.isna(left) else min(max(left, 0.0), 1.0) * 100
    return html.Div(
        [
            html.Div(html.Div(className="oc-slo-fill", style={"width": f"{width:.1f}%"}), className="oc-slo-bar"),
            html.Span([html.Span(className="oc-shape"), text], className="oc-slo-left"),
        ],
        className=f"oc-slo-budget oc-{status}",
    )


def _burn(value: float) -> html.Td:
    fast = pd.notna(value) and value >= 1
    return html.Td("–" if pd.isna(value) else f"{value:.1f}×", className="oc-cell-error" if fast else None)


def table(status: pd.DataFrame, names: dict[str, str], settings: slo.SloSettings, lang: str) -> html.Table:
    """A row per chain and objective: target, bad and all events, budget left, burn rates, alert."""
    head = [
        t("slo.col_chain", lang),
        t("slo.col_objective", lang),
        t("slo.col_events", lang),
        t("slo.col_budget", lang),
        *(t("slo.col_burn", lang, window=w) for w in WINDOWS.values()),
        t("slo.col_alert", lang),
    ]
    rows = []
    for row in status.itertuples(index=False):
        first = row.objective == slo.OBJECTIVES[0]
        name = dcc.Link(names.get(row.chain, row.chain), href=f"/chain/{quote(row.chain)}") if first else ""
        alert = slo.ALERT_STATUS[row.alert]
        rows.append(
            html.Tr(
                [
                    html.Td(name, className="oc-slo-chain"),
                    html.Td(_objective(row, settings.of(row.chain), lang)),
                    html.Td(f"{row.bad:,.0f} / {row.total:,.0f}", className="oc-num"),
                    html.Td(_budget(row.budget_left, lang)),
                    *(_burn(getattr(row, c)) for c in WINDOWS),
                    html.Td(
                        html.Span([html.Span(className="oc-shape"), t(f"slo.alert.{row.alert}", lang)]),
                        className=f"oc-slo-alert oc-{alert}",
                    ),
                ],
                className="oc-slo-first" if first else None,
                **{"data-chain": row.chain, "data-objective": row.objective},
            )
        )
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in head])), html.Tbody(rows)],
        id=ids.SLO_TABLE,
        className="oc-catalogue-table oc-slo-table",
    )


def body(lang: str, versions: dict | None = None) -> list:
    """The table and the burn-down from the poller's ``slo_status`` and ``slo_days``."""
    frames = (versions or {}).get("frames")
    ctx = context.current()
    read = lambda name: ctx.store.frame(name, frames)  # noqa: E731
    status, days, settings = read("slo_status"), read("slo_days"), ctx.settings.slo
    intro = html.P(t("slo.intro", lang, days=settings.window_days), className="oc-muted")
    if status.empty:
        return [intro, html.Div(t("slo.none", lang), className="oc-empty")]
    names = {c["chain"]: c["name"] for c in wallview.structure(read("chains"), read("services"), lang)}
    availability = status[status["objective"] == "availability"]
    figure = slo_figures.burn_down(
        days[days["objective"] == "availability"], dict(zip(availability["chain"], availability["target"])), names, lang
    )
    return [
        intro,
        html.Section([table(status, names, settings, lang)], className="oc-panel"),
        html.Section(
            [
                html.H2(t("slo.chart_title", lang, days=settings.window_days)),
                graph(ids.SLO_CHART, "24rem", figure),
            ],
            className="oc-panel",
        ),
    ]


def layout(lang: str | None = None, **_query) -> html.Div:
    """The SLO page; ``?lang=zh`` for Chinese."""
    return body_page.layout(lang, PAGE_STORE, ids.SLO_BODY, "slo.title", body, "oc-slo-page")


def register(app: dash.Dash) -> None:
    """Register the page and its refresh callback on ``app``."""
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.slo"))
    body_page.register_refresh(app, PAGE_STORE, ids.SLO_BODY, body)
