"""/maturity: the capability model for auditors: items with evidence, levels, gaps, assessments, exports.

The automatic evaluation only proposes; a person with ``assessment.write`` confirms an item's
status with a justification, which is appended (with the audit row) and never edited.
"""
from __future__ import annotations

import functools
from datetime import datetime, timezone

import dash
import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import assessments, auth, catalogue, context, maturity, maturity_figures, maturity_report
from dashboard.access import Forbidden
from dashboard.i18n import pick_lang, t
from layouts.graphs import graph

PATH = "/maturity"
P = "oc-maturity-"


@functools.lru_cache(maxsize=4)
def _catalogue(path: str | None):
    return catalogue.load(path)


def _model():
    settings = context.current().settings
    engine = auth.state().access.engine
    model = _catalogue(settings.maturity.catalogue)
    history = assessments.history(engine)
    items = maturity.item_table(model, maturity.current(history), assessments.latest_evidence(engine))
    rule = maturity.PlusRule(settings.maturity.plus_share, settings.maturity.plus_domains)
    return settings, model, history, items, rule


def _filtered(items: pd.DataFrame, domain, level, status) -> pd.DataFrame:
    if domain:
        items = items[items["domain"] == domain]
    if level:
        items = items[items["level"] == int(level)]
    if status:
        items = items[items["status"] == status]
    return items


def _rows(items: pd.DataFrame) -> list[dict]:
    shown = items.assign(value=items["value"].round(3), evaluated_at=items["evaluated_at"].dt.strftime("%Y-%m-%d %H:%M"))
    return shown.drop(columns=["assessed_at"]).astype(object).where(shown.drop(columns=["assessed_at"]).notna(), None).to_dict("records")


def _panel(title: str, *children, class_name: str = "") -> html.Section:
    return html.Section([html.H2(title), *children], className=f"oc-maturity-panel {class_name}")


def layout(lang: str | None = None, **_query) -> html.Div:
    lang = pick_lang(lang, context.current().settings.language)
    columns = [{"field": "id", "headerName": t("maturity.col.id", lang), "width": 100},
               {"field": "domain_name", "headerName": t("maturity.col.domain", lang), "width": 190},
               {"field": "level", "headerName": t("maturity.col.level", lang), "width": 80},
               {"field": "title", "headerName": t("maturity.col.title", lang), "flex": 1, "minWidth": 240},
               {"field": "applies_to", "headerName": t("maturity.col.applies", lang), "width": 110},
               {"field": "proposed", "headerName": t("maturity.col.proposed", lang), "width": 110,
                "cellClass": {"function": "'oc-maturity-' + params.value"}},
               {"field": "value", "headerName": t("maturity.col.value", lang), "width": 100},
               {"field": "status", "headerName": t("maturity.col.status", lang), "width": 120,
                "cellClass": {"function": "'oc-maturity-' + params.value"}},
               {"field": "assessor", "headerName": t("maturity.col.assessor", lang), "width": 120}]
    option = lambda values, key: [{"label": t(f"{key}.{v}", lang) if key else str(v), "value": v} for v in values]
    return html.Div([
        dcc.Store(id=P + "saved", data=0),
        dcc.Download(id=P + "download"),
        html.Div([
            html.H1(t("maturity.title", lang)),
            html.Div(id=P + "overall", className="oc-maturity-overall"),
            html.Button(t("maturity.export_csv", lang), id=P + "csv", className="oc-button"),
            html.Button(t("maturity.export_pdf", lang), id=P + "pdf", className="oc-button"),
        ], className="oc-maturity-head"),
        html.Div([
            _panel(t("maturity.radar", lang), graph(P + "radar", "19rem")),
            _panel(t("maturity.progress", lang), graph(P + "progress", "19rem")),
            _panel(t("maturity.gaps", lang), html.Div(id=P + "gaps", className="oc-maturity-gaps")),
        ], className="oc-maturity-charts"),
        html.Div([
            dcc.Dropdown(id=P + "domain", placeholder=t("maturity.col.domain", lang),
                         options=[{"label": n, "value": k} for k, n in _catalogue(context.current().settings.maturity.catalogue).domains.items()]),
            dcc.Dropdown(id=P + "level", placeholder=t("maturity.col.level", lang), options=option(range(1, 6), "")),
            dcc.Dropdown(id=P + "status", placeholder=t("maturity.col.status", lang),
                         options=option(assessments.STATUSES, "maturity.status")),
        ], className="oc-maturity-filters"),
        dag.AgGrid(id=P + "grid", columnDefs=columns, rowData=[], getRowId="params.data.id",
                   columnSize="responsiveSizeToFit",
                   dashGridOptions={"rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                                    "domLayout": "autoHeight"},
                   className="ag-theme-alpine-dark oc-grid oc-maturity-grid"),
        html.Div([
            html.Div(id=P + "detail"),
            html.Div([
                dcc.Dropdown(id=P + "new-status", options=option(assessments.STATUSES, "maturity.status"),
                             placeholder=t("maturity.col.status", lang)),
                dcc.Textarea(id=P + "justification", placeholder=t("maturity.justification", lang)),
                dcc.Input(id=P + "links", placeholder=t("maturity.links", lang), debounce=True),
                html.Button(t("maturity.confirm", lang), id=P + "confirm", className="oc-button"),
                html.Div(id=P + "message", className="oc-maturity-message"),
            ], className="oc-maturity-form"),
        ], className="oc-maturity-item"),
        dcc.Store(id=P + "lang", data=lang),
    ], className="oc-page oc-maturity")


def _gap_list(gap_rows: pd.DataFrame, lang: str) -> list:
    if not len(gap_rows):
        return [html.P(t("maturity.no_gaps", lang))]
    target = int(gap_rows["target"].iloc[0])
    return [html.P(t("maturity.gaps_to", lang, level=target, count=len(gap_rows))),
            html.Ul([html.Li(f"{r.id} (L{r.level}) {r.title} — {t(f'maturity.status.{r.status}', lang)}")
                     for r in gap_rows.head(12).itertuples()])]


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path=PATH, layout=layout, title="Maturity")

    @app.callback(Output(P + "grid", "rowData"), Output(P + "overall", "children"), Output(P + "radar", "figure"),
                  Output(P + "progress", "figure"), Output(P + "gaps", "children"),
                  Input(P + "domain", "value"), Input(P + "level", "value"), Input(P + "status", "value"),
                  Input(P + "saved", "data"), State(P + "lang", "data"))
    def refresh_maturity(domain, level, status, _saved, lang):
        _settings, model, history, items, rule = _model()
        shown = maturity.overall(items, rule)
        overall = [html.Span(shown, className="oc-maturity-level"), html.Span(t("maturity.overall", lang))]
        return (_rows(_filtered(items, domain, level, status)), overall,
                maturity_figures.radar(maturity.domain_levels(model, items)),
                maturity_figures.progress(maturity.progress(model, history, rule), t("maturity.no_assessments", lang)),
                _gap_list(maturity.gaps(items), lang))

    @app.callback(Output(P + "detail", "children"), Input(P + "grid", "selectedRows"), Input(P + "saved", "data"),
                  State(P + "lang", "data"))
    def show_item(selected, _saved, lang):
        if not selected:
            return html.P(t("maturity.pick", lang))
        row = selected[0]
        engine = auth.state().access.engine
        found = assessments.evidence(engine, row["id"]).tail(20).iloc[::-1]
        trail = assessments.history(engine)
        trail = trail[trail["item_id"] == row["id"]].iloc[::-1]
        return [
            html.H3(f"{row['id']} · {row['title']}"), html.P(row["description"]),
            html.P(row["query"] or t("maturity.manual", lang), className="oc-maturity-query"),
            html.H4(t("maturity.evidence", lang)),
            html.Table([html.Tr([html.Td(e.evaluated_at.strftime("%Y-%m-%d %H:%M")),
                                 html.Td("–" if pd.isna(e.value) else f"{e.value:.3g}"),
                                 html.Td(maturity._proposal(e.passed), className=f"oc-maturity-{maturity._proposal(e.passed)}"),
                                 html.Td(e.digest[:12], title=e.digest)]) for e in found.itertuples()],
                       className="oc-maturity-table"),
            html.H4(t("maturity.assessments", lang)),
            html.Table([html.Tr([html.Td(a.at.strftime("%Y-%m-%d %H:%M")), html.Td(a.assessor),
                                 html.Td(a.status, className=f"oc-maturity-{a.status}"), html.Td(a.justification)])
                        for a in trail.itertuples()], className="oc-maturity-table"),
        ]

    @app.callback(Output(P + "message", "children"), Output(P + "saved", "data"),
                  Input(P + "confirm", "n_clicks"), State(P + "grid", "selectedRows"), State(P + "new-status", "value"),
                  State(P + "justification", "value"), State(P + "links", "value"), State(P + "saved", "data"),
                  State(P + "lang", "data"), prevent_initial_call=True)
    def confirm(_n, selected, status, justification, links, saved, lang):
        if not selected or not status or not (justification or "").strip():
            return t("maturity.incomplete", lang), dash.no_update
        row = selected[0]
        who = auth.current_identity()
        engine = auth.state().access.engine
        trail = assessments.history(engine)
        before = maturity.current(trail).loc[row["id"]].to_dict() if row["id"] in set(trail["item_id"]) else None
        after = {"status": status, "justification": justification.strip(),
                 "evidence_links": [link.strip() for link in (links or "").split(",") if link.strip()],
                 "proposed": row["proposed"]}
        try:
            with auth.audited("assessment.write", row["id"], {"before": before, "after": after}) as connection:
                assessments.append(connection, row["id"], status, who.name, after["justification"],
                                   after["evidence_links"], row["proposed"], datetime.now(timezone.utc))
        except Forbidden:
            return t("maturity.forbidden", lang), dash.no_update
        return t("maturity.saved", lang, item=row["id"], who=who.name), (saved or 0) + 1

    @app.callback(Output(P + "download", "data"), Input(P + "csv", "n_clicks"), Input(P + "pdf", "n_clicks"),
                  prevent_initial_call=True)
    def export(_csv, _pdf):
        settings, model, history, items, rule = _model()
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
        if dash.ctx.triggered_id == P + "csv":
            return dcc.send_string(maturity_report.csv_text(items), f"maturity-{stamp}.csv")
        when = pd.Timestamp.now(tz="UTC").tz_convert(settings.display_tz).strftime("%Y-%m-%d %H:%M %Z")
        pdf = maturity_report.pdf_bytes(settings.center_name, maturity.overall(items, rule), items,
                                        maturity.domain_levels(model, items), maturity.progress(model, history, rule),
                                        maturity.gaps(items), when)
        return dcc.send_bytes(pdf, f"maturity-{stamp}.pdf")
