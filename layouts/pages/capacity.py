"""/capacity: cost and headroom per chain and service, and the scaling recommendations."""
from __future__ import annotations

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard.analytics import capacity
from dashboard import context, ids
from dashboard.i18n import pick_lang, t
from layouts.components.titles import page_title

PATH = "/capacity"
LINK_WINDOW = "?from=now-6h&to=now"


def tables(peaks: pd.DataFrame, chain_frame: pd.DataFrame, config: dict, lang: str) -> dict[str, list[dict]]:
    """Grid rows of the three tables, text in ``lang``."""
    table = capacity.services(peaks, config)
    money = config.get("currency", "")

    def pct(value):
        return "–" if pd.isna(value) else f"{value * 100:.0f}%"

    def link(service):
        return f"[{service}](/service/{service}{LINK_WINDOW})"

    services = [{"service": link(r.service), "instances": r.instances, "cost": f"{r.cost_month:,.0f} {money}",
                 "cpu_peak": pct(r.cpu_peak), "memory_peak": pct(r.memory_peak), "headroom": pct(r.headroom),
                 "low": bool(r.headroom < config["headroom_target"]),
                 "trend": "–" if pd.isna(r.trend_month) else f"{r.trend_month * 100:+.1f} pt"}
                for r in table.itertuples(index=False)]
    chains = [{"chain": r.chain_name or t("capacity.unchained", lang), "services": int(r.services),
               "cost": f"{r.cost_month:,.0f} {money}", "headroom": pct(r.headroom),
               "low": bool(r.headroom < config["headroom_target"])}
              for r in capacity.chains(table, chain_frame).itertuples(index=False)]
    advice = [{"service": link(r.service), "action": t(f"capacity.{r.action}", lang),
               "reason": t(f"capacity.why_{r.action}", lang, peak=pct(r.cpu_peak), headroom=pct(r.headroom),
                           target=pct(r.target), buffer=pct(r.buffer), n=r.instances, to=f"{r.to:g}"),
               "monthly": f"{r.monthly:+,.0f} {money}"}
              for r in capacity.recommend(table, config).itertuples(index=False)]
    return {"services": services, "chains": chains, "advice": advice, "total": f"{table['cost_month'].sum():,.0f} {money}"}


def _data(lang: str) -> dict[str, list[dict]]:
    ctx = context.current()
    versions = ctx.store.versions()
    return tables(ctx.store.frame("utilisation_peaks", versions), ctx.store.frame("chains", versions),
                  ctx.settings.capacity or capacity.DEFAULTS, lang)


def _grid(grid_id: str, rows: list[dict], columns: list[tuple[str, str]], lang: str, key: str) -> dag.AgGrid:
    defs = [{"field": f, "headerName": t(f"capacity.col_{f}", lang), "cellRenderer": "markdown" if f == "service" else None,
             "wrapText": f == "reason", "autoHeight": f == "reason", "flex": 3 if f == "reason" else 1,
             "cellClassRules": {"oc-cell-stale": "params.data.low"} if f == "headroom" else None}
            for f, _ in columns]
    return dag.AgGrid(id=grid_id, rowData=rows, columnDefs=[{k: v for k, v in d.items() if v is not None} for d in defs],
                      getRowId=f"params.data.{key}", columnSize="responsiveSizeToFit",
                      className="ag-theme-alpine-dark oc-grid", dashGridOptions={"domLayout": "autoHeight"})


COLUMNS = {
    "chains": [("chain", ""), ("services", ""), ("cost", ""), ("headroom", "")],
    "services": [("service", ""), ("instances", ""), ("cost", ""), ("cpu_peak", ""), ("memory_peak", ""),
                 ("headroom", ""), ("trend", "")],
    "advice": [("service", ""), ("action", ""), ("reason", ""), ("monthly", "")],
}


def layout(lang: str | None = None, **_query) -> html.Div:
    lang = pick_lang(lang, context.current().settings.language)
    data = _data(lang)
    return html.Div([
        dcc.Store(id=ids.CAPACITY_LANG, data=lang),
        html.H1(t("capacity.title", lang)),
        html.Div(t("capacity.total", lang, total=data["total"]), id=ids.CAPACITY_TOTAL, className="oc-summary"),
        html.H2(t("capacity.recommendations", lang)),
        _grid(ids.CAPACITY_ADVICE, data["advice"], COLUMNS["advice"], lang, "service"),
        html.Div([
            html.Div([html.H2(t("capacity.chains", lang)),
                      _grid(ids.CAPACITY_CHAINS, data["chains"], COLUMNS["chains"], lang, "chain")]),
            html.Div([html.H2(t("capacity.services", lang)),
                      _grid(ids.CAPACITY_SERVICES, data["services"], COLUMNS["services"], lang, "service")]),
        ], className="oc-capacity-columns"),
    ], className="oc-page oc-capacity")


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.capacity"))

    @app.callback(
        Output(ids.CAPACITY_ADVICE, "rowData"), Output(ids.CAPACITY_CHAINS, "rowData"),
        Output(ids.CAPACITY_SERVICES, "rowData"), Output(ids.CAPACITY_TOTAL, "children"),
        Input(ids.VERSIONS, "data"), State(ids.CAPACITY_LANG, "data"), prevent_initial_call=True,
    )
    def refresh_capacity(_versions, lang):
        data = _data(lang or "en")
        return data["advice"], data["chains"], data["services"], t("capacity.total", lang or "en", total=data["total"])
