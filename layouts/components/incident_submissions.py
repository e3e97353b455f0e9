"""The reports due on the incident page's grade panel: each counting down (red once overdue), marked submitted
(when, by whom, the reference), or, past due on an incident ended long ago with nothing recorded, "no
submission recorded" without a live count (``submissions.statuses``); and for managers the form marking a
report submitted to the regulator.

Marking is the write ``incident.submit_report``, recorded through ``auth.audited`` in
``incident_report_submissions``; a caller without the write gets 403, the refusal audited."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime

import dash
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.command import grading, incident_report, submissions
from dashboard.i18n import t
from dashboard.security import auth, policy
from dashboard.security import callbacks as callback_access

TIME = "%m-%d %H:%M"
WRITE = "incident.submit_report"


def _left(delta: pd.Timedelta) -> str:
    """How long until or since, as the browser's countdown writes it: "12 min", "2:05", "3 d 4 h"."""
    minutes = int(abs(delta.total_seconds()) // 60)
    if minutes >= 1440:
        return f"{minutes // 1440} d {minutes % 1440 // 60} h"
    return f"{minutes // 60}:{minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


def countdown(at: pd.Timestamp, now: pd.Timestamp, tz: str, lang: str) -> html.Span:
    """A deadline counting down in the browser (``assets/countdown.js``), red once it has passed."""
    shown = at.tz_convert(tz).strftime(TIME)
    over = at <= now
    return html.Span(
        t("grading.overdue" if over else "grading.due_in", lang, at=shown, left=_left(at - now)),
        className="oc-countdown oc-overdue" if over else "oc-countdown",
        **{
            "data-due": str(int(at.timestamp() * 1000)),
            "data-in": t("grading.due_in", lang, at=shown, left="{left}"),
            "data-over": t("grading.overdue", lang, at=shown, left="{left}"),
        },
    )


def status(report: submissions.ReportStatus, now: pd.Timestamp, tz: str, lang: str) -> html.Span:
    """What one report due says: its submission, its countdown, "after recovery" or "no submission recorded"."""
    if report.status == "submitted":
        row = report.submission
        text = incident_report.submitted(row, row["at"].tz_convert(tz).strftime(TIME), lang)
        return html.Span(text, className="oc-submitted")
    if report.status == "waiting":
        return html.Span(t("grading.after_recovery", lang), className="oc-countdown-waiting")
    if report.status == "unrecorded":
        shown = report.due.tz_convert(tz).strftime(TIME)
        return html.Span(t("grading.unrecorded", lang, at=shown), className="oc-unrecorded")
    return countdown(report.due, now, tz, lang)


def due_list(found: incident_report.Facts, lang: str) -> list:
    """The panel's "Reports due": one line per report, or that the grade makes none due."""
    rows = [
        html.Li(
            [
                html.Span(t(f"grading.report.{report.report}", lang), className="oc-due-report"),
                status(report, found.generated, found.tz, lang),
            ],
            id=ids.INCIDENT_DUE.format(report=report.report),
        )
        for report in found.reports
    ]
    return [
        html.H3(t("grading.deadlines", lang)),
        html.Ul(rows, className="oc-grade-due") if rows else html.P(t("grading.none_due", lang), className="oc-empty"),
    ]


def _next(found: incident_report.Facts) -> str:
    """The report the form offers first: the first due and not yet marked submitted."""
    return next((r.report for r in found.reports if r.status != "submitted"), grading.REPORTS[0])


def may_submit() -> bool:
    identity = auth.current_identity()
    return identity is not None and policy.may_write(identity.roles, WRITE)


def form(found: incident_report.Facts, lang: str) -> html.Div:
    """A manager's controls: the report (any of them, a correction included), an optional reference, the button."""
    return html.Div(
        [
            dcc.Dropdown(
                id=ids.INCIDENT_SUBMIT_CHOICE,
                options=[{"label": t(f"grading.report.{r}", lang), "value": r} for r in grading.REPORTS],
                value=_next(found),
                clearable=False,
                placeholder=t("grading.submit_choose", lang),
            ),
            dcc.Input(
                id=ids.INCIDENT_SUBMIT_REFERENCE,
                type="text",
                maxLength=submissions.MAX_REFERENCE,
                placeholder=t("grading.submit_reference", lang),
                className="oc-grade-reference",
            ),
            html.Button(t("grading.submit", lang), id=ids.INCIDENT_SUBMIT, className="oc-command-button"),
            html.Div(id=ids.INCIDENT_SUBMIT_MESSAGE, className="oc-command-message"),
        ],
        className="oc-grade-form oc-submit-form",
    )


def _submit(find: Callable, facts: Callable, n_clicks, page: dict, count, report, reference):
    """Record the submission through the audited write path; Forbidden (403, audited) for a caller who may not."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    lang, incident_id = page["lang"], page["incident_id"]
    incident = find(context.current().store.frame("incidents"), incident_id)
    if incident is None:
        return t("incidents.not_found", lang, incident_id=incident_id), dash.no_update, dash.no_update, dash.no_update
    reference = (reference or "").strip()
    detail = {"source": incident["source"], "report": report, "reference": reference}
    try:
        with auth.audited(WRITE, incident_id, detail) as connection:
            submissions.record(
                connection,
                incident["source"],
                incident_id,
                report,
                reference,
                auth.current_identity().name,
                datetime.now(UTC),
            )
    except ValueError:
        return t("grading.submit_invalid", lang), dash.no_update, dash.no_update, dash.no_update
    saved = t("grading.submit_saved", lang, report=t(f"grading.report.{report}", lang))
    return saved, (count or 0) + 1, "", _next(facts(incident))


def register(app: dash.Dash, page_store: str, find: Callable, facts: Callable) -> None:
    """The form's write callback; ``find(incidents, id)`` finds an incident, ``facts(incident)`` what the panel
    says of it, ``page_store`` holds the page's language and incident id."""
    with callback_access.writes(app, WRITE, target=lambda _clicks, page, *_: page["incident_id"]):
        app.callback(
            Output(ids.INCIDENT_SUBMIT_MESSAGE, "children"),
            Output(ids.INCIDENT_SUBMITTED, "data"),
            Output(ids.INCIDENT_SUBMIT_REFERENCE, "value"),
            Output(ids.INCIDENT_SUBMIT_CHOICE, "value"),
            Input(ids.INCIDENT_SUBMIT, "n_clicks"),
            State(page_store, "data"),
            State(ids.INCIDENT_SUBMITTED, "data"),
            State(ids.INCIDENT_SUBMIT_CHOICE, "value"),
            State(ids.INCIDENT_SUBMIT_REFERENCE, "value"),
            prevent_initial_call=True,
        )(functools.partial(_submit, find, facts))
