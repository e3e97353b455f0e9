"""/maturity: the capability model for auditors: items with evidence, levels, gaps, assessments, exports.

The automatic evaluation only proposes; a person with ``assessment.write`` confirms an item's
status with a justification, which is appended (with the audit row) and never edited. The
exports are plain links, ``/maturity/export.csv`` and ``/maturity/export.pdf`` (``?lang=``), so
the page's access rule covers them and they can be saved or bookmarked like any address.

Before anyone assesses, the page still says where the firm stands: beside each confirmed level (overall,
per domain, on the radar as a dotted outline, in an item's detail) the level the evidence suggests, and
for each item not met what its rule found. ``?item=ID`` opens an item's detail (the grid selects it), and
choosing an item puts its id in the address, so an item can be linked to.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import dash
import dash_ag_grid as dag
import flask
import pandas as pd
from dash import ClientsideFunction, Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.figures import maturity as maturity_figures
from dashboard.i18n import pick_lang, t
from dashboard.maturity import assessments, findings
from dashboard.maturity import model as catalogue
from dashboard.maturity import report as maturity_report
from dashboard.maturity import scoring as maturity
from dashboard.security import auth, urlinput
from dashboard.security import callbacks as callback_access
from dashboard.security.access import Forbidden
from layouts.components.graphs import graph
from layouts.components.titles import page_title

PATH = "/maturity"
EXPORTS = {"csv": "text/csv", "pdf": "application/pdf"}  # Flask adds charset=utf-8 to text/*
TIME_FORMAT = "%Y-%m-%d %H:%M"
TOOLTIP_FINDINGS = 8  # findings in a grid cell's tooltip and an evidence row's; the detail lists them all


@functools.lru_cache(maxsize=4)
def _catalogue(path: str | None):
    return catalogue.load(path)


def _model(lang: str):
    settings = context.current().settings
    engine = context.current().history
    model = _catalogue(settings.maturity.catalogue)
    history = assessments.history(engine)
    items = maturity.item_table(model, maturity.current(history), assessments.latest_evidence(engine), lang)
    rule = maturity.PlusRule(settings.maturity.plus_share, settings.maturity.plus_domains)
    return settings, model, history, items, rule


def _local(stamp, tz: str) -> str:
    return "" if stamp is None or pd.isna(stamp) else pd.Timestamp(stamp).tz_convert(tz).strftime(TIME_FORMAT)


def _export_href(kind: str, lang: str) -> str:
    return f"{PATH}/export.{kind}?lang={lang}"  # lang has passed pick_lang


def _filtered(items: pd.DataFrame, domain, level, status) -> pd.DataFrame:
    if domain:
        items = items[items["domain"] == domain]
    if level:
        items = items[items["level"] == int(level)]
    if status:
        items = items[items["status"] == status]
    return items


def _findings_tip(found, lang: str) -> str:
    """Findings for a tooltip: the first few, one a line, and how many more."""
    return "\n".join(findings.texts(findings.capped(found, TOOLTIP_FINDINGS), lang))


def _rows(items: pd.DataFrame, lang: str) -> list[dict]:
    """Grid rows: the item table in words, with the codes the cells are coloured by and what fails as a tooltip."""
    shown = maturity_report.readable(items, lang)
    return [
        {
            "id": r.id,
            "domain_name": r.domain_name,
            "level": int(r.level),
            "title": r.title,
            "description": r.description,
            "applies": r.applies_to,
            "evidence": r.evidence,
            "value": r.value,
            "why": _findings_tip(code.findings, lang) or None,
            "status_text": r.status,
            "assessor": r.assessor,
            "query": r.query,
            "proposed": code.proposed,
            "evidence_code": state,
            "status_code": code.status,
        }
        for r, code, state in zip(shown.itertuples(), items.itertuples(), maturity.evidence_states(items))
    ]


def _columns(lang: str) -> list[dict]:
    def col(field: str, key: str, flex: float, **more) -> dict:
        return {"field": field, "headerName": t(f"maturity.col.{key}", lang), "flex": flex, "minWidth": 60, **more}

    return [
        col("id", "id", 1),
        col("domain_name", "domain", 2.4, tooltipField="domain_name"),
        col("level", "level", 0.8),
        col("title", "title", 4.2, tooltipField="description"),
        col("applies", "applies", 1.3),
        col(
            "evidence",
            "proposed",
            1.5,
            cellClass={"function": "'oc-maturity-' + params.data.evidence_code"},
            tooltipField="why",
        ),
        col("value", "value", 1, type="rightAligned", tooltipField="why"),
        col("status_text", "status", 1.4, cellClass={"function": "'oc-maturity-' + params.data.status_code"}),
        col("assessor", "assessor", 1.3),
    ]


def _panel(title: str, *children, class_name: str = "") -> html.Section:
    return html.Section([html.H2(title), *children], className=f"oc-maturity-panel {class_name}".strip())


def _asked_item(raw, model, lang: str) -> tuple[str | None, str | None]:
    """The catalogue item ``?item=`` names, or why it names none (None, None when it is absent)."""
    try:
        item_id = urlinput.clean("item", raw)
    except urlinput.UrlInputError:
        item_id = None
    else:
        if item_id is None:
            return None, None
    if item_id is None or model.item(item_id) is None:
        return None, t("maturity.no_item", lang, item=str(raw)[:40])
    return item_id, None


def layout(lang: str | None = None, item: str | None = None, **_query) -> html.Div:
    settings = context.current().settings
    lang = pick_lang(lang, settings.language)
    options = lambda values, key: [{"label": t(f"{key}.{v}", lang), "value": v} for v in values]  # noqa: E731
    model = _catalogue(settings.maturity.catalogue)
    domains = model.domain_names(lang)
    item_id, refused = _asked_item(item, model, lang)
    detail = html.P(refused, className="oc-maturity-refused") if refused else html.P(t("maturity.pick", lang))
    return html.Div(
        [
            dcc.Store(id=ids.MATURITY_SAVED, data=0),
            dcc.Store(id=ids.MATURITY_LANG, data=lang),
            html.Div(
                [
                    html.H1(t("maturity.title", lang)),
                    html.Div(id=ids.MATURITY_OVERALL, className="oc-maturity-overall"),
                    html.A(
                        t("maturity.export_csv", lang),
                        id=ids.MATURITY_CSV,
                        href=_export_href("csv", lang),
                        download="",
                        className="oc-maturity-export",
                    ),
                    html.A(
                        t("maturity.export_pdf", lang),
                        id=ids.MATURITY_PDF,
                        href=_export_href("pdf", lang),
                        download="",
                        className="oc-maturity-export",
                    ),
                ],
                className="oc-maturity-head",
            ),
            html.Div(
                [
                    _panel(
                        t("maturity.radar", lang),
                        graph(ids.MATURITY_RADAR, "17.5rem"),
                        html.P(t("maturity.radar_key", lang), className="oc-maturity-key"),
                    ),
                    _panel(t("maturity.progress", lang), graph(ids.MATURITY_PROGRESS, "19rem")),
                    _panel(t("maturity.gaps", lang), html.Div(id=ids.MATURITY_GAPS, className="oc-maturity-gaps")),
                ],
                className="oc-maturity-charts",
            ),
            html.Section(
                [html.H2(t("maturity.domains", lang)), html.Div(id=ids.MATURITY_DOMAINS)],
                className="oc-maturity-domains",
            ),
            html.Div(
                [
                    dcc.Dropdown(
                        id=ids.MATURITY_DOMAIN,
                        placeholder=t("maturity.col.domain", lang),
                        options=[{"label": name, "value": key} for key, name in domains.items()],
                    ),
                    dcc.Dropdown(
                        id=ids.MATURITY_LEVEL,
                        placeholder=t("maturity.col.level", lang),
                        options=[{"label": str(v), "value": v} for v in range(1, maturity.TOP_LEVEL + 1)],
                    ),
                    dcc.Dropdown(
                        id=ids.MATURITY_STATUS,
                        placeholder=t("maturity.col.status", lang),
                        options=options(assessments.STATUSES, "maturity.status"),
                    ),
                ],
                className="oc-maturity-filters",
            ),
            dag.AgGrid(
                id=ids.MATURITY_GRID,
                columnDefs=_columns(lang),
                rowData=[],
                getRowId="params.data.id",
                selectedRows={"ids": [item_id]} if item_id else [],
                dashGridOptions={
                    "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
                    "domLayout": "autoHeight",
                    "tooltipShowDelay": 300,
                },
                className="ag-theme-alpine-dark oc-grid oc-maturity-grid",
            ),
            html.Div(
                [
                    html.Div(detail, id=ids.MATURITY_DETAIL, className="oc-maturity-detail"),
                    html.Div(
                        [
                            dcc.Dropdown(
                                id=ids.MATURITY_NEW_STATUS,
                                options=options(assessments.STATUSES, "maturity.status"),
                                placeholder=t("maturity.col.status", lang),
                            ),
                            dcc.Textarea(id=ids.MATURITY_JUSTIFICATION, placeholder=t("maturity.justification", lang)),
                            dcc.Input(id=ids.MATURITY_LINKS, placeholder=t("maturity.links", lang), debounce=True),
                            html.Button(
                                t("maturity.confirm", lang), id=ids.MATURITY_CONFIRM, className="oc-maturity-confirm"
                            ),
                            html.Div(id=ids.MATURITY_MESSAGE, className="oc-maturity-message"),
                        ],
                        className="oc-maturity-form",
                    ),
                ],
                className="oc-maturity-item",
            ),
        ],
        className="oc-page oc-maturity",
    )


def _suggests(items: pd.DataFrame, lang: str) -> html.Span | None:
    """ "evidence suggests L2, awaiting confirmation" beside a confirmed level (None before any evaluation)."""
    found = maturity.suggested(items)
    if found is None:
        return None
    return html.Span(
        maturity_report.suggests_text(found, lang),
        className="oc-maturity-suggests" + (" oc-maturity-ahead" if found[1] else ""),
    )


def _overall(items: pd.DataFrame, rule: maturity.PlusRule, lang: str, tz: str) -> list:
    latest = items["evaluated_at"].max()
    evaluated = (
        t("maturity.evaluated", lang, time=f"{_local(latest, tz)} {tz}")
        if pd.notna(latest)
        else t("maturity.not_evaluated", lang)
    )
    parts = [
        html.Span(maturity.overall(items, rule), className="oc-maturity-level"),
        html.Span(t("maturity.overall", lang)),
        _suggests(items, lang),
        html.Span(evaluated, className="oc-maturity-evaluated"),
    ]
    return [part for part in parts if part is not None]


def _domain_cards(model, items: pd.DataFrame, lang: str) -> list:
    """One card per domain: its confirmed level and the level its evidence suggests."""
    cards = []
    for key, name in model.domain_names(lang).items():
        domain = items[items["domain"] == key]
        level = maturity.level_reached(domain)
        suggests = _suggests(domain, lang)
        cards.append(
            html.Div(
                [
                    html.H3(name),
                    html.Span(f"L{level}", className="oc-maturity-domain-level"),
                    *([suggests] if suggests else []),
                ],
                className="oc-maturity-domain",
                **{"data-domain": key},
            )
        )
    return cards


def _gap_list(gap_rows: pd.DataFrame, lang: str) -> list:
    if not len(gap_rows):
        return [html.P(t("maturity.no_gaps", lang))]
    target = int(gap_rows["target"].iloc[0])
    return [
        html.P(t("maturity.gaps_to", lang, level=target, count=len(gap_rows))),
        html.Ul(
            [
                html.Li(
                    [
                        html.B(r.id),
                        f" L{r.level} {r.title} — ",
                        html.Span(t(f"maturity.status.{r.status}", lang), className=f"oc-maturity-{r.status}"),
                    ]
                )
                for r in gap_rows.head(12).itertuples()
            ]
        ),
    ]


def _table(headers: list[str], rows: list[list]) -> html.Table:
    return html.Table(
        [html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(rows)], className="oc-maturity-table"
    )


def _item_state(items: pd.DataFrame, row: pd.Series, state: str, lang: str) -> list:
    """Where the item stands: its domain's confirmed level and what the evidence suggests, and whether the
    evidence (``state``, from ``evidence_states``) meets the item while no assessor has confirmed it."""
    domain = items[items["domain"] == row["domain"]]
    level = maturity.level_reached(domain)
    suggests = _suggests(domain, lang)
    parts = [
        html.P(
            [
                t("maturity.domain_line", lang, domain=row["domain_name"], level=level),
                *([" · ", suggests] if suggests else []),
            ],
            className="oc-maturity-state",
        )
    ]
    if state == "pass" and row["status"] not in maturity.SATISFIED:
        parts.append(html.P(t("maturity.met_unconfirmed", lang), className="oc-maturity-suggests oc-maturity-ahead"))
    return parts


def _detail(item_id: str, lang: str, tz: str) -> list:
    engine = context.current().history
    *_, items, _rule = _model(lang)
    if item_id not in set(items["id"]):
        return [html.P(t("maturity.no_item", lang, item=item_id[:40]), className="oc-maturity-refused")]
    row = items[items["id"] == item_id].iloc[0]
    state = maturity.evidence_states(items).loc[row.name]
    found = assessments.evidence(engine, item_id).tail(20).iloc[::-1]
    trail = assessments.history(engine)
    trail = trail[trail["item_id"] == item_id].iloc[::-1]
    col = lambda key: t(f"maturity.col.{key}", lang)  # noqa: E731
    evidence_rows = [
        html.Tr(
            [
                html.Td(_local(e.evaluated_at, tz)),
                html.Td("–" if pd.isna(e.value) else f"{e.value:.4g}"),
                html.Td(
                    t(f"maturity.proposal.{maturity.proposal(e.passed)}", lang),
                    className=f"oc-maturity-{maturity.proposal(e.passed)}",
                ),
                html.Td(e.digest[:12], title=e.digest, className="oc-maturity-digest"),
                html.Td(
                    findings.text(e.findings[0], lang) if e.findings else "",
                    title=_findings_tip(e.findings, lang) or None,
                    className="oc-maturity-why",
                ),
            ]
        )
        for e in found.itertuples()
    ]
    assessment_rows = [
        html.Tr(
            [
                html.Td(_local(a.at, tz)),
                html.Td(a.assessor),
                html.Td(t(f"maturity.status.{a.status}", lang), className=f"oc-maturity-{a.status}"),
                html.Td(a.justification),
                html.Td(
                    [
                        html.A(link, href=link, target="_blank", rel="noopener")
                        if link.startswith(("https://", "http://"))
                        else link
                        for link in a.evidence_links
                    ]
                ),
            ]
        )
        for a in trail.itertuples()
    ]
    why = findings.texts(row["findings"], lang)
    return [
        html.H3(f"{row['id']} · {row['title']}"),
        html.P(row["description"]),
        html.P(row["query"] or t("maturity.manual", lang), className="oc-maturity-query"),
        *_item_state(items, row, state, lang),
        *(
            [
                html.H4(t("maturity.col.why", lang)),
                html.Ul([html.Li(text) for text in why], className="oc-maturity-findings"),
            ]
            if why
            else []
        ),
        html.H4(t("maturity.evidence", lang)),
        _table(
            [f"{col('evaluated_at')} ({tz})", col("value"), col("proposed"), col("digest"), col("why")], evidence_rows
        )
        if evidence_rows
        else html.P(t(f"maturity.proposal.{state}", lang), className="oc-empty"),
        html.H4(t("maturity.assessments", lang)),
        _table(
            [f"{col('assessed_at')} ({tz})", col("assessor"), col("status"), col("justification"), col("links")],
            assessment_rows,
        )
        if assessment_rows
        else html.P(t("maturity.status.not_started", lang), className="oc-empty"),
    ]


def _export(kind: str) -> flask.Response:
    """The CSV or the PDF report of the current assessment, in ``?lang=``."""
    lang = pick_lang(flask.request.args.get("lang"), context.current().settings.language)
    settings, model, history, items, rule = _model(lang)
    now = pd.Timestamp.now(tz="UTC")
    if kind == "csv":
        body = maturity_report.csv_text(items, lang).encode("utf-8")
    else:
        from dashboard.maturity import report_pdf  # ReportLab, loaded by the first download only

        body = report_pdf.pdf_bytes(
            settings.center_name,
            maturity.overall(items, rule),
            items,
            maturity.domain_levels(model, items, lang),
            maturity.progress(model, history, rule),
            maturity.gaps(items),
            now.tz_convert(settings.display_tz).strftime(f"{TIME_FORMAT} %Z"),
            lang,
            settings.display_tz,
        )
    name = f"maturity-{now.strftime('%Y%m%d-%H%M')}-{lang}.{kind}"
    return flask.Response(
        body, mimetype=EXPORTS[kind], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _confirm(_n, selected, status, justification, links, saved, lang):
    """Append the assessment the form describes, with its audit row; a refusal is audited too."""
    if not selected or not status or not (justification or "").strip():
        return t("maturity.incomplete", lang), dash.no_update
    row = selected[0]
    who = auth.current_identity()
    engine = context.current().history
    trail = assessments.history(engine)
    before = maturity.current(trail).loc[row["id"]].to_dict() if row["id"] in set(trail["item_id"]) else None
    after = {
        "status": status,
        "justification": justification.strip(),
        "evidence_links": [link.strip() for link in (links or "").split(",") if link.strip()],
        "proposed": row["proposed"],
    }
    try:
        with auth.audited("assessment.write", row["id"], {"before": before, "after": after}) as connection:
            assessments.append(
                connection,
                row["id"],
                status,
                who.name,
                after["justification"],
                after["evidence_links"],
                row["proposed"],
                datetime.now(UTC),
            )
    except Forbidden:
        return t("maturity.forbidden", lang), dash.no_update
    return t("maturity.saved", lang, item=row["id"], who=who.name), (saved or 0) + 1


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.maturity"))
    for kind in EXPORTS:
        app.server.add_url_rule(f"{PATH}/export.{kind}", f"maturity_export_{kind}", functools.partial(_export, kind))

    @app.callback(
        Output(ids.MATURITY_GRID, "rowData"),
        Output(ids.MATURITY_OVERALL, "children"),
        Output(ids.MATURITY_RADAR, "figure"),
        Output(ids.MATURITY_PROGRESS, "figure"),
        Output(ids.MATURITY_GAPS, "children"),
        Output(ids.MATURITY_DOMAINS, "children"),
        Input(ids.MATURITY_DOMAIN, "value"),
        Input(ids.MATURITY_LEVEL, "value"),
        Input(ids.MATURITY_STATUS, "value"),
        Input(ids.MATURITY_SAVED, "data"),
        State(ids.MATURITY_LANG, "data"),
    )
    def refresh_maturity(domain, level, status, _saved, lang):
        settings, model, history, items, rule = _model(lang)
        levels = maturity.domain_levels(model, items, lang)
        if items["evaluated_at"].isna().all():
            levels = levels.drop(columns="evidence_level")  # nothing evaluated: no evidence outline
        return (
            _rows(_filtered(items, domain, level, status), lang),
            _overall(items, rule, lang, settings.display_tz),
            maturity_figures.radar(levels, t("maturity.evidence_hover", lang)),
            maturity_figures.progress(maturity.progress(model, history, rule), t("maturity.no_assessments", lang)),
            _gap_list(maturity.gaps(items), lang),
            _domain_cards(model, items, lang),
        )

    @app.callback(
        Output(ids.MATURITY_DETAIL, "children"),
        Input(ids.MATURITY_GRID, "selectedRows"),
        Input(ids.MATURITY_SAVED, "data"),
        State(ids.MATURITY_LANG, "data"),
        prevent_initial_call=True,
    )
    def show_item(selected, _saved, lang):
        if not selected:
            return html.P(t("maturity.pick", lang))
        return _detail(selected[0]["id"], lang, context.current().settings.display_tz)

    app.clientside_callback(
        ClientsideFunction("opscenter", "showItem"),
        Output(ids.MATURITY_DETAIL, "className"),
        Input(ids.MATURITY_DETAIL, "children"),
        prevent_initial_call=True,
    )
    app.clientside_callback(  # the address follows the selection at once, not once the detail is drawn
        ClientsideFunction("opscenter", "linkItem"),
        Output(ids.MATURITY_DETAIL, "className", allow_duplicate=True),
        Input(ids.MATURITY_GRID, "selectedRows"),
        prevent_initial_call=True,
    )

    with callback_access.writes(app, "assessment.write", target=lambda _clicks, selected, *_: selected[0]["id"]):
        app.callback(
            Output(ids.MATURITY_MESSAGE, "children"),
            Output(ids.MATURITY_SAVED, "data"),
            Input(ids.MATURITY_CONFIRM, "n_clicks"),
            State(ids.MATURITY_GRID, "selectedRows"),
            State(ids.MATURITY_NEW_STATUS, "value"),
            State(ids.MATURITY_JUSTIFICATION, "value"),
            State(ids.MATURITY_LINKS, "value"),
            State(ids.MATURITY_SAVED, "data"),
            State(ids.MATURITY_LANG, "data"),
            prevent_initial_call=True,
        )(_confirm)
