"""/audit: the append-only audit log for auditors, filtered by who, action and time, paged, exported as CSV.

The filter travels in the address (``?actor=&action=&from=&to=&page=``), every value checked by
``dashboard.security.auditlog.AuditFilter.parse`` whether it comes from the address or from a control;
an invalid one shows its message and no rows. ``/audit/export.csv`` with the same query streams every
matching row (up to ``auditlog.EXPORT_CAP``; the page says when a filter matches more) and is itself
recorded in the audit log as ``audit.export``. Only the page's readers reach either (``policy``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import dash
import flask
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.i18n import pick_lang, t
from dashboard.security import auditlog, auth, urlinput
from layouts.components.titles import page_title

PATH = "/audit"
EXPORT = f"{PATH}/export.csv"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
COLUMNS = ("at", "actor", "roles", "address", "action", "target", "outcome", "detail")
MAX_SHOWN = 200  # characters of a raw address value put back into a control


def _local(stamp, tz: str) -> str:
    return pd.Timestamp(stamp).tz_convert(tz).strftime(TIME_FORMAT)


def _table(rows: pd.DataFrame, lang: str, tz: str) -> html.Table:
    head = [html.Th(t(f"audit.col.{key}", lang) + (f" ({tz})" if key == "at" else "")) for key in COLUMNS]
    body = [
        html.Tr(
            [
                html.Td(_local(r.at, tz), className="oc-audit-at"),
                html.Td(r.actor),
                html.Td(r.roles),
                html.Td(r.address or ""),
                html.Td(r.action),
                html.Td(r.target),
                html.Td(t("audit.allowed" if r.allowed else "audit.refused", lang)),
                html.Td(r.detail or "", className="oc-audit-detail"),
            ],
            className="oc-audit-row" + ("" if r.allowed else " oc-audit-refused"),
            **{"data-id": str(r.id)},
        )
        for r in rows.itertuples()
    ]
    return html.Table([html.Thead(html.Tr(head)), html.Tbody(body)], className="oc-audit-table")


def view(actor, action, raw_from, raw_to, raw_page, lang: str) -> tuple[list, str | None, int, int]:
    """What the page shows for these filter values: the body, the filter's query string (None when a value
    is invalid), the page number shown (clamped to the pages there are) and the number of pages."""
    try:
        found = auditlog.AuditFilter.parse(actor, action, raw_from, raw_to)
        number = int(urlinput.clean("page", None if raw_page is None else str(raw_page), "1"))
    except urlinput.UrlInputError as exc:
        return [html.P(t("drill.bad_input", lang, reason=str(exc)), className="oc-audit-message")], None, 1, 1
    engine, tz = context.current().history, context.current().settings.display_tz
    total = auditlog.count(engine, found)
    if not total:
        return [html.P(t("audit.empty", lang), className="oc-empty")], found.query(), 1, 1
    pages = math.ceil(total / auditlog.PAGE_SIZE)
    number = min(number, pages)
    rows = auditlog.page(engine, found, number, auditlog.PAGE_SIZE)
    first = (number - 1) * auditlog.PAGE_SIZE + 1
    summary = t("audit.summary", lang, first=first, last=first + len(rows) - 1, total=total, page=number, pages=pages)
    body = [html.P(summary, className="oc-audit-summary")]
    if total > auditlog.EXPORT_CAP:
        body.append(html.P(t("audit.capped", lang, cap=auditlog.EXPORT_CAP, total=total), className="oc-audit-capped"))
    return [*body, _table(rows, lang, tz)], found.query(), number, pages


def _hrefs(query: str | None, number: int, lang: str) -> tuple[str | None, str | None]:
    """The export's address and this view's, for a valid filter ``query``; None for an invalid one."""
    if query is None:
        return None, None
    tail = "&".join(part for part in (query, f"lang={lang}") if part)  # lang has passed pick_lang
    page = f"&page={number}" if number > 1 else ""
    return f"{EXPORT}?{tail}", f"{PATH}?{tail}{page}"


def _shown(raw) -> str | None:
    return None if raw is None else str(raw)[:MAX_SHOWN]


def layout(lang: str | None = None, actor=None, action=None, page=None, **query) -> html.Div:
    lang = pick_lang(lang, context.current().settings.language)
    raw_from, raw_to = query.get("from"), query.get("to")
    body, found, number, pages = view(actor, action, raw_from, raw_to, page, lang)
    export, link = _hrefs(found, number, lang)
    known = auditlog.actions()
    return html.Div(
        [
            dcc.Store(id=ids.AUDIT_LANG, data=lang),
            dcc.Store(id=ids.AUDIT_PAGE, data=number),
            html.Div(
                [
                    html.H1(t("audit.title", lang)),
                    html.A(t("audit.link", lang), id=ids.AUDIT_LINK, href=link, className="oc-audit-button"),
                    html.A(
                        t("audit.export_csv", lang),
                        id=ids.AUDIT_CSV,
                        href=export,
                        download="",
                        className="oc-audit-button",
                    ),
                ],
                className="oc-audit-head",
            ),
            html.Div(
                [
                    dcc.Input(
                        id=ids.AUDIT_ACTOR, value=_shown(actor), placeholder=t("audit.actor", lang), debounce=True
                    ),
                    dcc.Dropdown(
                        id=ids.AUDIT_ACTION,
                        value=_shown(action),
                        options=known,
                        placeholder=t("audit.action", lang),
                    ),
                    dcc.Input(
                        id=ids.AUDIT_FROM, value=_shown(raw_from), placeholder=t("audit.from", lang), debounce=True
                    ),
                    dcc.Input(id=ids.AUDIT_TO, value=_shown(raw_to), placeholder=t("audit.to", lang), debounce=True),
                    html.Button(
                        t("audit.previous", lang),
                        id=ids.AUDIT_PREVIOUS,
                        disabled=number <= 1,
                        className="oc-audit-button",
                    ),
                    html.Button(
                        t("audit.next", lang), id=ids.AUDIT_NEXT, disabled=number >= pages, className="oc-audit-button"
                    ),
                ],
                className="oc-audit-filters",
            ),
            html.Div(body, id=ids.AUDIT_BODY),
        ],
        className="oc-page oc-audit",
    )


def _export() -> flask.Response:
    """Every row matching the query's filter as CSV, streamed; the export is itself audited."""
    args = flask.request.args
    try:
        found = auditlog.AuditFilter.parse(args.get("actor"), args.get("action"), args.get("from"), args.get("to"))
    except urlinput.UrlInputError as exc:
        return flask.Response(str(exc), status=400, mimetype="text/plain")
    engine = context.current().history
    auth.audit("audit.export", found.query() or "*", {"cap": auditlog.EXPORT_CAP})
    total = auditlog.count(engine, found)
    name = f"audit-{datetime.now(UTC).strftime('%Y%m%d-%H%M%S')}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "X-Audit-Rows": str(total)}
    if total > auditlog.EXPORT_CAP:
        headers["X-Audit-Capped"] = f"newest {auditlog.EXPORT_CAP} of {total} rows"
    return flask.Response(
        flask.stream_with_context(auditlog.csv_chunks(engine, found, auditlog.EXPORT_CAP)),
        mimetype="text/csv",
        headers=headers,
    )


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path=PATH, layout=layout, title=page_title("nav.audit"))
    app.server.add_url_rule(EXPORT, "audit_export_csv", _export)

    @app.callback(
        Output(ids.AUDIT_BODY, "children"),
        Output(ids.AUDIT_CSV, "href"),
        Output(ids.AUDIT_LINK, "href"),
        Output(ids.AUDIT_PAGE, "data"),
        Output(ids.AUDIT_PREVIOUS, "disabled"),
        Output(ids.AUDIT_NEXT, "disabled"),
        Input(ids.AUDIT_ACTOR, "value"),
        Input(ids.AUDIT_ACTION, "value"),
        Input(ids.AUDIT_FROM, "value"),
        Input(ids.AUDIT_TO, "value"),
        Input(ids.AUDIT_PREVIOUS, "n_clicks"),
        Input(ids.AUDIT_NEXT, "n_clicks"),
        State(ids.AUDIT_PAGE, "data"),
        State(ids.AUDIT_LANG, "data"),
        prevent_initial_call=True,
    )
    def filter_audit(actor, action, raw_from, raw_to, _newer, _older, number, lang):
        """The rows of the filter in the controls; Newer and Older move a page, a changed filter starts again."""
        lang = pick_lang(lang, context.current().settings.language)
        step = {ids.AUDIT_PREVIOUS: -1, ids.AUDIT_NEXT: 1}.get(dash.ctx.triggered_id)
        number = max(1, (number if isinstance(number, int) else 1) + step) if step else 1
        body, found, shown, pages = view(actor, action, raw_from, raw_to, number, lang)
        export, link = _hrefs(found, shown, lang)
        return body, export, link, shown, shown <= 1, shown >= pages
