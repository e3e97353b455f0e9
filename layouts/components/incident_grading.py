"""The incident page's regulatory grade: the grade proposed from the grading table with its reasons, the
grade in force (the duty manager's latest decision), the reports due (``incident_submissions``), the
incident report's downloads, and for managers the forms confirming or changing the grade and marking a
report submitted.

A decision is the write ``incident.grade``, recorded through ``auth.audited`` in ``incident_grades``; a
caller without the write gets 403, the refusal audited. The report is served at
``/incidents/<id>/report.md`` and ``.pdf`` (``?lang=``), under the incident pages' own access rule."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import quote

import dash
import flask
import pandas as pd
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.analytics import calendar
from dashboard.analytics import incidents as incident_stats
from dashboard.command import actions, grade_decisions, grading, incident_report, submissions
from dashboard.i18n import pick_lang, t
from dashboard.security import auth, policy, urlinput
from dashboard.security import callbacks as callback_access
from layouts.components import incident_submissions

REPORTS = {"md": "text/markdown", "pdf": "application/pdf"}
TIME = "%m-%d %H:%M"


@functools.cache
def _table(path: str | None) -> grading.Table:
    return grading.load(path)


def _market(key: str) -> calendar.Market:
    shown = {market.key: market for market in context.current().calendar.markets}
    return shown.get(key) or (calendar.futures_night() if key == "futures" else calendar.MARKETS[key])


def facts(incident: pd.Series, versions: dict | None = None) -> incident_report.Facts:
    """What the panel and the report say of ``incident``: the proposal, the decisions, the reports due."""
    ctx = context.current()
    frames, store, table = (versions or {}).get("frames"), ctx.store, _table(ctx.settings.grading_table)
    now = pd.Timestamp(ctx.clock())
    service = incident["service"] or None
    services, chains = store.frame("services", frames), store.frame("chains", frames)
    tiers = services.loc[services["service"] == service, "tier"]
    tier = int(tiers.iloc[0]) if service and len(tiers) else None
    on_chains = tuple(sorted(chains.loc[chains["service"] == service, "chain"].unique())) if service else ()
    market = _market(table.market_of(service))
    ended = incident_stats.end_time(incident)
    minutes = grading.minutes_in_session(
        incident["opened_at"], now if pd.isna(ended) else ended, market, ctx.calendar.section().closures
    )
    proposal = grading.propose(table, service, tier, minutes, on_chains)
    decisions = grade_decisions.for_incident(ctx.history, incident["source"], incident["incident_id"])
    grade = decisions["grade"].iloc[-1] if len(decisions) else proposal.grade
    changes = incident_stats.recent_changes(incident, store.frame("changes", frames))
    recovered = None if pd.isna(ended) else ended
    submitted = submissions.for_incident(ctx.history, incident["source"], incident["incident_id"])
    due = grading.due(table, grade, incident["opened_at"], recovered, market)
    suspect = changes[changes["suspect"]]
    return incident_report.Facts(
        center=ctx.settings.center_name,
        incident=incident,
        proposal=proposal,
        decisions=decisions,
        actions=actions.for_incident(ctx.history, incident["source"], incident["incident_id"]),
        reports=submissions.statuses(due, submitted, recovered, now, table.record_window_days),
        submissions=submitted,
        change=suspect.iloc[0] if len(suspect) else None,
        tier=tier,
        generated=now,
        tz=ctx.settings.display_tz,
    )


def state(found: incident_report.Facts, lang: str) -> list:
    """The proposal with its reasons, the grade in force, and the reports due."""
    proposal, decisions = found.proposal, found.decisions
    in_force = decisions.iloc[-1] if len(decisions) else None
    grade = in_force["grade"] if in_force is not None else proposal.grade
    confirmed = (
        t(
            "grading.confirmed_by",
            lang,
            grade=incident_report.grade_name(grade, lang),
            actor=in_force["actor"],
            at=in_force["at"].tz_convert(found.tz).strftime(TIME),
            reason=in_force["reason"],
        )
        if in_force is not None
        else t("grading.unconfirmed", lang)
    )
    return [
        html.Div(
            [
                html.Span(t("grading.in_force", lang), className="oc-grade-label"),
                html.Span(
                    incident_report.grade_name(grade, lang),
                    className=f"oc-grade oc-grade-{grade}",
                    id="oc-grade-in-force",
                ),
            ],
            className="oc-grade-head",
        ),
        html.P(confirmed, className="oc-grade-confirmed"),
        html.P(
            t("grading.proposed", lang, grade=incident_report.grade_name(proposal.grade, lang)),
            className="oc-grade-proposed",
        ),
        html.Ul([html.Li(text) for text in incident_report.reason_texts(proposal, lang)], className="oc-grade-reasons"),
        *incident_submissions.due_list(found, lang),
    ]


def form(proposed: str, lang: str) -> html.Div:
    """The duty manager's controls: a grade (the proposal first chosen), a reason, the button."""
    return html.Div(
        [
            dcc.Dropdown(
                id=ids.INCIDENT_GRADE_CHOICE,
                options=[{"label": incident_report.grade_name(g, lang), "value": g} for g in grading.GRADES],
                value=proposed,
                clearable=False,
                placeholder=t("grading.choose", lang),
            ),
            dcc.Textarea(
                id=ids.INCIDENT_GRADE_REASON, placeholder=t("grading.reason", lang), className="oc-grade-reason"
            ),
            html.Button(t("grading.confirm", lang), id=ids.INCIDENT_GRADE_CONFIRM, className="oc-command-button"),
            html.Div(id=ids.INCIDENT_GRADE_MESSAGE, className="oc-command-message"),
        ],
        className="oc-grade-form",
    )


def downloads(incident_id: str, lang: str) -> html.Div:
    """Links to the incident report as Markdown and PDF."""
    base = f"/incidents/{quote(incident_id, safe='')}/report"
    return html.Div(
        [
            html.A(t(f"grading.download_{kind}", lang), href=f"{base}.{kind}?lang={lang}", className="oc-drill")
            for kind in REPORTS
        ],
        className="oc-drills oc-grade-downloads",
    )


def may_grade() -> bool:
    identity = auth.current_identity()
    return identity is not None and policy.may_write(identity.roles, "incident.grade")


def section(incident: pd.Series, lang: str) -> html.Section:
    """The panel of the incident page."""
    found = facts(incident)
    return html.Section(
        [
            html.H2(t("grading.title", lang)),
            html.Div(
                [
                    html.Div(state(found, lang), id=ids.INCIDENT_GRADE, className="oc-grade-state"),
                    html.Div(
                        [
                            form(found.proposal.grade, lang) if may_grade() else None,
                            incident_submissions.form(found, lang) if incident_submissions.may_submit() else None,
                        ],
                        className="oc-grade-forms",
                    ),
                ],
                className="oc-command",
            ),
            downloads(incident["incident_id"], lang),
            dcc.Store(id=ids.INCIDENT_GRADED, data=0),
            dcc.Store(id=ids.INCIDENT_SUBMITTED, data=0),
        ],
        className="oc-panel oc-grade-panel",
    )


def _report(find: Callable, incident_id: str, kind: str) -> flask.Response:
    """The incident report as Markdown or PDF, in ``?lang=``."""
    lang = pick_lang(flask.request.args.get("lang"), context.current().settings.language)
    try:
        incident_id = urlinput.clean("incident_id", incident_id) or ""
    except urlinput.UrlInputError:
        flask.abort(400)
    incident = find(context.current().store.frame("incidents"), incident_id)
    if incident is None:
        flask.abort(404)
    found = facts(incident)
    if kind == "pdf":
        from dashboard.command import incident_pdf  # ReportLab, loaded by the first download only

        body = incident_pdf.pdf(found, lang)
    else:
        body = incident_report.markdown(found, lang).encode()
    name = f"incident-{incident_id}-{lang}.{kind}"
    return flask.Response(
        body, mimetype=REPORTS[kind], headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _confirm(find: Callable, n_clicks, page: dict, count, grade, reason):
    """Record the grade through the audited write path; Forbidden (403, audited) for a caller who may not."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    lang, incident_id = page["lang"], page["incident_id"]
    incident = find(context.current().store.frame("incidents"), incident_id)
    if incident is None:
        return t("incidents.not_found", lang, incident_id=incident_id), dash.no_update
    proposal = facts(incident).proposal
    decision = {
        "grade": grade,
        "proposed": proposal.grade,
        "session_minutes": proposal.session_minutes,
        "reason": (reason or "").strip(),
    }
    try:
        with auth.audited("incident.grade", incident_id, {"source": incident["source"], **decision}) as connection:
            grade_decisions.record(
                connection, incident["source"], incident_id, decision, auth.current_identity().name, datetime.now(UTC)
            )
    except ValueError:
        return t("grading.incomplete", lang), dash.no_update
    return t("grading.saved", lang, grade=incident_report.grade_name(grade, lang)), (count or 0) + 1


def register(app: dash.Dash, page_store: str, find: Callable) -> None:
    """The panel's refresh and write callbacks and the report's routes; ``find(incidents, id)`` finds an
    incident, ``page_store`` holds the page's language and incident id."""
    for kind in REPORTS:
        app.server.add_url_rule(
            f"/incidents/<incident_id>/report.{kind}",
            f"incident_report_{kind}",
            functools.partial(_report, find, kind=kind),
        )

    @app.callback(
        Output(ids.INCIDENT_GRADE, "children"),
        Input(ids.VERSIONS, "data"),
        Input(ids.INCIDENT_GRADED, "data"),
        Input(ids.INCIDENT_SUBMITTED, "data"),
        State(page_store, "data"),
        prevent_initial_call=True,
    )
    def refresh_grade(versions, _graded, _submitted, page):
        incident = find(context.current().store.frame("incidents", (versions or {}).get("frames")), page["incident_id"])
        if incident is None:
            raise dash.exceptions.PreventUpdate
        return state(facts(incident, versions), page["lang"])

    with callback_access.writes(app, "incident.grade", target=lambda _clicks, page, *_: page["incident_id"]):
        app.callback(
            Output(ids.INCIDENT_GRADE_MESSAGE, "children"),
            Output(ids.INCIDENT_GRADED, "data"),
            Input(ids.INCIDENT_GRADE_CONFIRM, "n_clicks"),
            State(page_store, "data"),
            State(ids.INCIDENT_GRADED, "data"),
            State(ids.INCIDENT_GRADE_CHOICE, "value"),
            State(ids.INCIDENT_GRADE_REASON, "value"),
            prevent_initial_call=True,
        )(functools.partial(_confirm, find))
    incident_submissions.register(app, page_store, find, facts)
