"""/sources: every source's state, last success, error and row counts, and those of each source's derived
step (anomalies and utilisation peaks) once it has run."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.core.status import is_stale
from dashboard.core.store import DERIVED_SOURCE, derived_source
from dashboard.i18n import pick_lang, t
from layouts.components.titles import page_title

PATH = "/sources"
LANG_STORE = "oc-sources-lang"


def rows(lang: str) -> list[dict]:
    """One row per configured source, then one per derived step that has a status record, in display time."""
    ctx = context.current()
    tz = ZoneInfo(ctx.settings.display_tz)
    now = datetime.now(UTC)
    statuses = ctx.store.statuses()

    def local(value):
        return pd.Timestamp(value).tz_convert(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""

    listed = [(spec["name"], spec["kind"]) for spec in ctx.settings.sources]
    listed += [(derived_source(name), DERIVED_SOURCE) for name, _kind in listed if derived_source(name) in statuses]
    listed += [(DERIVED_SOURCE, DERIVED_SOURCE)] if DERIVED_SOURCE in statuses else []  # the wall's views
    out = []
    for name, kind in listed:
        status = statuses.get(name)
        state = "waiting" if status is None else ("stale" if is_stale(status, now) else "fresh")
        status = status or {}
        out.append(
            {
                "source": name,
                "kind": kind,
                "state": t(f"sources.{state}", lang),
                "state_key": state,
                "last_success": local(status.get("last_success")),
                "last_attempt": local(status.get("last_attempt")),
                "rows": status.get("rows", 0),
                "duration_ms": status.get("duration_ms"),
                "error": status.get("error") or status.get("warning") or "",
            }
        )
    return out


def _summary(data: list[dict], lang: str) -> str:
    """How many configured sources are healthy (derived steps have their rows, not a count)."""
    configured = [r for r in data if r["kind"] != DERIVED_SOURCE]
    return t("sources.summary", lang, ok=sum(r["state_key"] == "fresh" for r in configured), total=len(configured))


def layout(lang: str | None = None, **_query) -> html.Div:
    lang = pick_lang(lang, context.current().settings.language)
    data = rows(lang)
    columns = [
        {"field": "source", "headerName": t("sources.source", lang), "pinned": "left"},
        {"field": "kind", "headerName": t("sources.kind", lang)},
        {
            "field": "state",
            "headerName": t("sources.state", lang),
            "cellClassRules": {
                "oc-cell-stale": "params.data.state_key == 'stale'",
                "oc-cell-fresh": "params.data.state_key == 'fresh'",
            },
        },
        {"field": "last_success", "headerName": t("sources.last_success", lang)},
        {"field": "last_attempt", "headerName": t("sources.last_attempt", lang)},
        {"field": "rows", "headerName": t("sources.rows", lang), "type": "rightAligned"},
        {"field": "duration_ms", "headerName": t("sources.duration", lang), "type": "rightAligned"},
        {"field": "error", "headerName": t("sources.error", lang), "flex": 2, "wrapText": True, "autoHeight": True},
    ]
    return html.Div(
        [
            dcc.Store(id=LANG_STORE, data=lang),
            html.H1(t("sources.title", lang)),
            html.Div(_summary(data, lang), id=ids.SOURCES_SUMMARY, className="oc-summary"),
            dag.AgGrid(
                id=ids.SOURCES_GRID,
                rowData=data,
                columnDefs=columns,
                getRowId="params.data.source",
                columnSize="responsiveSizeToFit",
                className="ag-theme-alpine-dark oc-grid",
                dashGridOptions={"domLayout": "autoHeight"},
            ),
        ],
        className="oc-page",
    )


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.sources"))

    @app.callback(
        Output(ids.SOURCES_GRID, "rowData"),
        Output(ids.SOURCES_SUMMARY, "children"),
        Input(ids.VERSIONS, "data"),
        State(LANG_STORE, "data"),
        prevent_initial_call=True,
    )
    def refresh_sources(_versions, lang):
        data = rows(lang or "en")
        return data, _summary(data, lang or "en")
