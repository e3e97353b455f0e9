"""/capacity: cost, headroom and site-loss CPU per chain and service, the risk chart and the scaling advice.

Peaks come from the history database (``dashboard.db.peaks``, so they survive restarts) and the derived frames
in the store (the latest poll's, perhaps not yet in the database), the higher of the two where both have a day.
"""

from __future__ import annotations

from datetime import date

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.analytics import capacity
from dashboard.analytics.calendar import last_completed_trading_day
from dashboard.core.store import derived_source
from dashboard.db import peaks as stored_peaks
from dashboard.figures import capacity as capacity_figures
from dashboard.i18n import pick_lang, t
from layouts.components.graphs import graph
from layouts.components.titles import page_title

PATH = "/capacity"
LINK_WINDOW = "?from=now-6h&to=now"


def _pct(value) -> str:
    return "–" if pd.isna(value) else f"{value * 100:.0f}%"


def _day_text(day: date | None, expected: date, market: str, lang: str) -> str:
    """Which day's peaks the page shows, and whether that is the last completed trading day."""
    name = t(f"market.{market}", lang)
    if day is None:
        return t("capacity.no_peak_day", lang, market=name)
    weekdays = t("capacity.weekdays", lang).split()
    shown = f"{weekdays[day.weekday()]} {day.isoformat()}"
    if day == expected:
        return t("capacity.peak_day", lang, day=shown, market=name)
    return t(
        "capacity.peak_day_older",
        lang,
        day=shown,
        market=name,
        expected=f"{weekdays[expected.weekday()]} {expected.isoformat()}",
    )


def tables(
    peaks: pd.DataFrame, chain_frame: pd.DataFrame, instances: pd.DataFrame, config: dict, now, lang: str
) -> dict:
    """Grid rows of the three tables, the peak day's line, the total and the chart, text in ``lang``."""
    market = config["market"]
    day = capacity.peak_day(peaks, now, market)
    table = capacity.services(peaks, config, day, instances)
    money, ceiling = config.get("currency", ""), 1.0 - config["headroom_target"]

    def link(service):
        return f"[{service}](/service/{service}{LINK_WINDOW})"

    services = [
        {
            "service": link(r.service),
            "instances": r.instances,
            "sites": r.sites,
            "cost": f"{r.cost_month:,.0f} {money}",
            "cpu_peak": _pct(r.cpu_peak),
            "memory_peak": _pct(r.memory_peak),
            "headroom": _pct(r.headroom),
            "low": bool(r.headroom < config["headroom_target"]),
            "site_loss": _pct(r.site_loss_cpu),
            "over": bool(r.site_loss_cpu > ceiling),
            "trend": "–" if pd.isna(r.trend_month) else f"{r.trend_month * 100:+.1f} pt",
        }
        for r in table.itertuples(index=False)
    ]
    chains = [
        {
            "chain": r.chain_name or t("capacity.unchained", lang),
            "services": int(r.services),
            "cost": f"{r.cost_month:,.0f} {money}",
            "headroom": _pct(r.headroom),
            "low": bool(r.headroom < config["headroom_target"]),
        }
        for r in capacity.chains(table, chain_frame).itertuples(index=False)
    ]
    advice = [
        {
            "service": link(r.service),
            "action": t(f"capacity.{r.action}", lang),
            "reason": t(
                f"capacity.why_{r.why}",
                lang,
                peak=_pct(r.cpu_peak),
                busiest=r.busiest,
                loss=_pct(r.site_loss_cpu),
                site=r.lost_site or "–",
                sites=r.sites,
                ceiling=_pct(r.ceiling),
                buffer=_pct(r.buffer),
                n=r.instances,
                to=f"{r.to:g}",
            ),
            "monthly": f"{r.monthly:+,.0f} {money}",
        }
        for r in capacity.recommend(table, config).itertuples(index=False)
    ]
    return {
        "services": services,
        "chains": chains,
        "advice": advice,
        "total": f"{table['cost_month'].sum():,.0f} {money}",
        "day": _day_text(day, last_completed_trading_day(now, market), market, lang),
        "height": capacity_figures.chart_height(table),
        "chart": capacity_figures.peaks_chart(table, ceiling, lang),
    }


def _peaks(ctx: context.Context, versions: dict[str, int], now) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The peaks of the last ``READ_DAYS`` (database and store) and the instances placed at sites, read once
    per minute and derived frames' versions by each worker."""
    derived = tuple(sorted((s, v) for s, v in versions.items() if s.startswith(derived_source(""))))

    def read():
        stored = stored_peaks.read(ctx.history, pd.Timestamp(now) - pd.Timedelta(days=capacity.READ_DAYS))
        peaks = capacity.merge_peaks(stored, ctx.store.frame("utilisation_peaks", versions))
        return peaks, capacity.placed_instances(ctx.store.frame("instances", versions), stored)

    return ctx.memo.get("capacity-peaks", (derived, pd.Timestamp(now).floor("min")), read)


def _data(lang: str) -> dict:
    ctx = context.current()
    versions, now = ctx.store.versions(), ctx.clock()
    peaks, instances = _peaks(ctx, versions, now)
    return tables(
        peaks,
        ctx.store.frame("chains", versions),
        instances,
        ctx.settings.capacity or capacity.DEFAULTS,
        now,
        lang,
    )


FLAGGED = {"headroom": "low", "site_loss": "over"}  # a column and the row flag that marks its cell


WIDTHS = {"reason": 4.5, "action": 1.2, "service": 1.6, "monthly": 1.4}  # flex shares of the advice grid's columns


def _grid(grid_id: str, rows: list[dict], columns: list[str], lang: str, key: str) -> dag.AgGrid:
    """A grid of ``columns``; one with a reason column gives the reason most of the width and wraps it."""
    wraps = "reason" in columns
    defs = [
        {
            "field": f,
            "headerName": t(f"capacity.col_{f}", lang),
            "cellRenderer": "markdown" if f == "service" else None,
            "wrapText": f == "reason",
            "autoHeight": f == "reason",
            "cellClass": "oc-cell-wrap" if f == "reason" else None,
            "flex": WIDTHS.get(f, 1) if wraps else 1,
            "cellClassRules": {"oc-cell-stale": f"params.data.{FLAGGED[f]}"} if f in FLAGGED else None,
        }
        for f in columns
    ]
    return dag.AgGrid(
        id=grid_id,
        rowData=rows,
        columnDefs=[{k: v for k, v in d.items() if v is not None} for d in defs],
        getRowId=f"params.data.{key}",
        columnSize=None if wraps else "responsiveSizeToFit",
        className="ag-theme-alpine-dark oc-grid",
        dashGridOptions={"domLayout": "autoHeight"},
    )


COLUMNS = {
    "chains": ["chain", "services", "cost", "headroom"],
    "services": ["service", "instances", "sites", "cost", "cpu_peak", "memory_peak", "headroom", "site_loss", "trend"],
    "advice": ["service", "action", "reason", "monthly"],
}


def layout(lang: str | None = None, **_query) -> html.Div:
    lang = pick_lang(lang, context.current().settings.language)
    data = _data(lang)
    return html.Div(
        [
            dcc.Store(id=ids.CAPACITY_LANG, data=lang),
            html.H1(t("capacity.title", lang)),
            html.Div(
                [
                    html.Span(t("capacity.total", lang, total=data["total"]), id=ids.CAPACITY_TOTAL),
                    html.Span(data["day"], id=ids.CAPACITY_DAY, className="oc-capacity-day"),
                ],
                className="oc-summary",
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.H2(t("capacity.chart", lang)),
                            graph(ids.CAPACITY_CHART, data["height"], data["chart"]),
                            html.H2(t("capacity.chains", lang)),
                            _grid(ids.CAPACITY_CHAINS, data["chains"], COLUMNS["chains"], lang, "chain"),
                        ]
                    ),
                    html.Div(
                        [
                            html.H2(t("capacity.recommendations", lang)),
                            _grid(ids.CAPACITY_ADVICE, data["advice"], COLUMNS["advice"], lang, "service"),
                        ]
                    ),
                ],
                className="oc-capacity-columns",
            ),
            html.H2(t("capacity.services", lang)),
            _grid(ids.CAPACITY_SERVICES, data["services"], COLUMNS["services"], lang, "service"),
        ],
        className="oc-page oc-capacity",
    )


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.capacity"))

    @app.callback(
        Output(ids.CAPACITY_ADVICE, "rowData"),
        Output(ids.CAPACITY_CHAINS, "rowData"),
        Output(ids.CAPACITY_SERVICES, "rowData"),
        Output(ids.CAPACITY_TOTAL, "children"),
        Output(ids.CAPACITY_DAY, "children"),
        Output(ids.CAPACITY_CHART, "figure"),
        Input(ids.VERSIONS, "data"),
        State(ids.CAPACITY_LANG, "data"),
        prevent_initial_call=True,
    )
    def refresh_capacity(_versions, lang):
        lang = lang or "en"
        data = _data(lang)
        return (
            data["advice"],
            data["chains"],
            data["services"],
            t("capacity.total", lang, total=data["total"]),
            data["day"],
            data["chart"],
        )
