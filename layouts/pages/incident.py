"""/incidents/<id>: one incident on one time axis with its alerts, preceding changes, chaos runs and metrics,
and its command panel: a manager acknowledges, assigns the incident roles, posts updates and notes, changes
the priority and resolves here. Each action is one write callback (``incident.<action>`` in the policy)
recording it through ``auth.audited`` in ``incident_actions``, from which the poller writes it back to the
ITSM; a caller without the write gets 403, the refusal audited. The page shows the form only to those who
may act. The incident's pre-plan is a checklist (``layouts.components.preplan_checklist``)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, unquote

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.analytics import incidents as incident_stats
from dashboard.analytics import logrates
from dashboard.command import actions, checklist, notifications
from dashboard.figures.incidents import timeline_figure
from dashboard.i18n import pick_lang, t
from dashboard.security import auth, policy, urlinput
from dashboard.security import callbacks as callback_access
from layouts.components import incident_command, incident_declare, incident_grading, incident_notices, preplan_checklist
from layouts.components.graphs import graph
from layouts.components.incident_parts import (
    health_badge,
    incident_query,
    priority_badge,
    service_health,
    service_query,
    state_label,
)
from layouts.components.titles import page_title

LIST_PATH = "/incidents"
PATH_TEMPLATE = "/incidents/<incident_id>"
PAGE_STORE = "oc-incident-page"
LANE_KEYS = ("incident", "alerts", "changes", "chaos")
PANEL_KEYS = ("events", "latency", "errors")
STATES = ("new", "in_progress", "resolved", "closed", "cancelled")


def labels(lang: str) -> dict[str, str]:
    """The figure's lane, panel and state names in ``lang``."""
    return {
        **{k: t(f"incidents.lane_{k}", lang) for k in LANE_KEYS},
        **{k: t(f"incidents.panel_{k}", lang) for k in PANEL_KEYS},
        **{k: t(f"incidents.state_{k}", lang) for k in STATES},
        "suspect": t("incidents.suspect", lang),
        "logs": t("logs.burst", lang),
        "actions": t("command.timeline_lane", lang),
    }


def find(incidents: pd.DataFrame, incident_id: str) -> pd.Series | None:
    """The incident with this id (the most recently opened when several sources share it)."""
    found = incidents[incidents["incident_id"] == incident_id]
    return None if found.empty else found.sort_values("opened_at").iloc[-1]


def _local(value, tz: str) -> str:
    return "–" if pd.isna(value) else pd.Timestamp(value).tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def _header(
    incident: pd.Series, status: pd.Series, chains: list[str], queries: tuple[str, str], tz: str, lang: str
) -> html.Div:
    """The title, facts and drill-down links; ``queries``: of the service link and of the chain links."""
    service = incident["service"]
    drill = []
    query = queries[1]
    if service:
        drill.append(
            dcc.Link(
                t("incidents.drill_service", lang, service=service),
                href=f"/service/{quote(service)}{queries[0]}",
                className="oc-drill",
            )
        )
        drill += [
            dcc.Link(t("incidents.drill_chain", lang, chain=c), href=f"/chain/{quote(c)}{query}", className="oc-drill")
            for c in chains
        ]
    if incident.get("url"):
        ticket_source = incident.get("x_ticket_source")  # a declared incident's url: its ticket in that ITSM
        drill.append(
            html.A(
                t(
                    "incidents.open_in_source",
                    lang,
                    source=ticket_source if isinstance(ticket_source, str) else incident["source"],
                ),
                href=incident["url"],
                target="_blank",
                rel="noopener",
                className="oc-drill",
            )
        )
    facts = [
        (
            t("incidents.service", lang),
            [service or "–", " ", health_badge(status.get(service, "nodata"), lang) if service else ""],
        ),
        (t("incidents.group", lang), incident["assignment_group"] or "–"),
        (t("incidents.opened", lang), _local(incident["opened_at"], tz)),
        (t("incidents.acknowledged", lang), _local(incident["acknowledged_at"], tz)),
        _ending(incident, tz, lang),
    ]
    return html.Div(
        [
            html.H1(
                [
                    priority_badge(incident["priority"]),
                    f" {incident['incident_id']} · {incident['title']} ",
                    state_label(incident["state"], lang),
                ],
                className="oc-inc-h1",
            ),
            html.Dl(
                [item for label, value in facts for item in (html.Dt(label), html.Dd(value))], className="oc-facts"
            ),
            html.Div(drill, className="oc-drills"),
            incident_declare.declared_from(incident, lang),
        ]
    )


def _ending(incident: pd.Series, tz: str, lang: str) -> tuple[str, str]:
    """The last fact: when it was resolved, or when it was closed or cancelled without a resolution."""
    ended = incident_stats.end_time(incident)
    if pd.notna(incident["resolved_at"]) or pd.isna(ended):
        return t("incidents.resolved", lang), _local(incident["resolved_at"], tz)
    return t(f"incidents.state_{incident['state']}", lang), _local(ended, tz)


def changes_table(changes: pd.DataFrame, tz: str, lang: str) -> html.Div:
    """The changes before the incident, the suspect one flagged."""
    if changes.empty:
        return html.Div(t("incidents.no_changes", lang), className="oc-empty")
    head = html.Tr(
        [
            html.Th(t(k, lang))
            for k in ("incidents.lane_changes", "incidents.started", "incidents.outcome", "incidents.state")
        ]
        + [html.Th("")]
    )
    rows = []
    for c in changes.itertuples():
        started = c.actual_start if pd.notna(c.actual_start) else c.planned_start
        flag = html.Span(["⚠ ", t("incidents.suspect", lang)], className="oc-suspect-flag") if c.suspect else ""
        rows.append(
            html.Tr(
                [
                    html.Td(
                        [
                            html.A(c.change_id, href=c.url, target="_blank", rel="noopener") if c.url else c.change_id,
                            html.Div(c.title, className="oc-inc-title"),
                        ]
                    ),
                    html.Td(_local(started, tz)),
                    html.Td(t(f"incidents.outcome_{c.outcome}", lang), className=f"oc-outcome-{c.outcome}"),
                    html.Td(t(f"incidents.change_state_{c.state}", lang)),
                    html.Td(flag),
                ],
                className="oc-change-row oc-suspect" if c.suspect else "oc-change-row",
                **{"data-change": c.change_id},
            )
        )
    return html.Table([html.Thead(head), html.Tbody(rows)], className="oc-inc-table")


def view(incident_id: str, lang: str, versions: dict | None = None) -> tuple[list, list, go.Figure | None, list]:
    """The header, the pre-plan and changes, the timeline and the command state of one incident; not found: a
    message, no figure and no command state."""
    ctx = context.current()
    frames, store, tz = (versions or {}).get("frames"), ctx.store, ctx.settings.display_tz
    incident = find(store.frame("incidents", frames), incident_id)
    if incident is not None:
        taken = actions.for_incident(ctx.history, incident["source"], incident_id)
        acknowledged = taken.loc[taken["action"] == "acknowledge", ["source", "incident_id", "at"]].head(1)
        incident = incident_stats.with_acknowledgements(
            pd.DataFrame([incident]), acknowledged.rename(columns={"at": "acknowledged_at"})
        ).iloc[0]
    if incident is None:
        return (
            [
                html.P(
                    t("incidents.not_found", lang, incident_id=incident_id),
                    id="oc-incident-not-found",
                    className="oc-empty",
                ),
                dcc.Link(t("incidents.back", lang), href=LIST_PATH),
            ],
            [],
            None,
            [],
        )
    now = pd.Timestamp.now(tz="UTC")
    service = incident["service"]
    sent = notifications.for_incident(ctx.history, incident["source"], incident_id)
    changes = incident_stats.recent_changes(incident, store.frame("changes", frames))
    start, end = incident_stats.incident_window(incident, changes, now)
    chains = store.frame("chains", frames)
    on_chains = sorted(chains.loc[chains["service"] == service, "chain"].unique()) if service else []
    metrics = store.frame("service_metrics", frames, services=[service] if service else None)
    figure = timeline_figure(
        incident,
        incident_stats.milestones(incident),
        incident_stats.around(store.frame("alerts", frames), "starts_at", start, end, service, "ends_at"),
        changes,
        incident_stats.around(store.frame("chaos_runs", frames), "started_at", start, end, service, "ended_at"),
        incident_stats.around(metrics, "ts", start, end, service).sort_values("ts"),
        start,
        end,
        labels(lang),
        tz,
        logrates.error_series(store.frame("log_rates", frames, services=[service]), [service], start, end)
        if service
        else None,
        incident_command.timeline_points(taken, lang)
        + incident_notices.timeline_points(sent, lang)
        + preplan_checklist.timeline_points(checklist.for_incident(ctx.history, incident["source"], incident_id), lang),
    )
    queries = (service_query(incident, now, frames) if service else "", incident_query(incident, now))
    header = [_header(incident, service_health(frames, [service] if service else []), on_chains, queries, tz, lang)]
    details = [
        html.Section(
            [
                html.H2(
                    t("incidents.changes_before", lang, service=service or "–", hours=incident_stats.SUSPECT_HOURS)
                ),
                changes_table(changes, tz, lang),
            ],
            className="oc-panel",
        ),
        incident_notices.section(sent, tz, lang),
    ]
    return header, details, figure, incident_command.state(taken, incident["source"], now, tz, lang)


def may_act() -> bool:
    """Whether the person asking may act on incidents (the form is shown to them only)."""
    identity = auth.current_identity()
    return identity is not None and all(policy.may_write(identity.roles, f"incident.{a}") for a in actions.ACTIONS)


def layout(incident_id: str = "", lang: str | None = None, **_query) -> html.Div:
    """One incident's command view; ``?lang=zh`` for Chinese."""
    lang = pick_lang(lang, context.current().settings.language)
    try:
        incident_id = urlinput.clean("incident_id", unquote(incident_id or "")) or ""
    except urlinput.UrlInputError as exc:
        return html.Div(
            html.P(t("drill.bad_input", lang, reason=exc), id="oc-incident-bad-input", className="oc-empty"),
            className="oc-page oc-incident-page",
        )
    header, details, figure, command = view(incident_id, lang)
    if figure is None:  # no ids on the page, so its refresh callback stays idle
        return html.Div(header, className="oc-page oc-incident-page")
    incident = find(context.current().store.frame("incidents"), incident_id)
    page_priority = incident["priority"]
    return html.Div(
        [
            dcc.Store(id=PAGE_STORE, data={"lang": lang, "incident_id": incident_id}),
            dcc.Link(f"← {t('incidents.back', lang)}", href=LIST_PATH, className="oc-back"),
            html.Div(header, id=ids.INCIDENT_BODY),
            html.Section(
                [
                    html.H2(t("command.title", lang)),
                    html.Div(
                        [
                            html.Div(command, id=ids.INCIDENT_COMMAND, className="oc-command-state"),
                            incident_command.form(page_priority, lang) if may_act() else None,
                        ],
                        className="oc-command",
                    ),
                    *incident_command.counters(),
                ],
                className="oc-panel oc-command-panel",
            ),
            preplan_checklist.section(incident_id, lang, find),
            incident_grading.section(incident, lang),
            html.Section(
                graph(ids.INCIDENT_TIMELINE, "max(52vh, 28rem)", figure, modebar="hover"), className="oc-panel"
            ),
            html.Div(details, id=ids.INCIDENT_DETAILS, className="oc-incident-details"),
        ],
        className="oc-page oc-incident-page",
    )


FORM_STATE = {  # what each action's detail is made of, besides its button
    "acknowledge": (),
    "resolve": (),
    "assign": ((ids.INCIDENT_ROLE, "value"), (ids.INCIDENT_USER, "value")),
    "priority": ((ids.INCIDENT_NEW_PRIORITY, "value"),),
    "note": ((ids.INCIDENT_NOTE, "value"), (ids.INCIDENT_PUBLIC, "value")),
}


def detail_of(action: str, *values) -> dict:
    """An action's detail from its form values, in the order of ``FORM_STATE``."""
    if action == "assign":
        return {"role": values[0], "user": values[1]}
    if action == "priority":
        return {"priority": values[0]}
    if action == "note":
        return {"text": values[0], "public": "public" in (values[1] or [])}
    return {}


def act(action: str, n_clicks, page: dict, count, *values):
    """Record ``action`` on the page's incident through the audited write path; Forbidden (403, audited) for
    a caller who may not."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    lang, incident_id = page["lang"], page["incident_id"]
    incident = find(context.current().store.frame("incidents"), incident_id)
    detail = detail_of(action, *values)
    source = incident["source"] if incident is not None else None
    try:
        with auth.audited(f"incident.{action}", incident_id, {"source": source, **detail}) as connection:
            if incident is None:
                raise LookupError(incident_id)
            actions.record(
                connection, source, incident_id, action, auth.current_identity().name, detail, datetime.now(UTC)
            )
    except LookupError:
        return t("incidents.not_found", lang, incident_id=incident_id), dash.no_update
    except ValueError:
        return t(f"command.incomplete.{action}", lang), dash.no_update
    return t("command.done", lang, what=incident_command.did(action, actions.checked(action, detail), lang)), (
        count or 0
    ) + 1


def register(app: dash.Dash) -> None:
    """Register the page, its refresh callback and its write callbacks (one per action) on ``app``."""
    dash.register_page(__name__, path_template=PATH_TEMPLATE, layout=layout, title=page_title("title.incident"))
    incident_grading.register(app, PAGE_STORE, find)

    @app.callback(
        Output(ids.INCIDENT_BODY, "children"),
        Output(ids.INCIDENT_DETAILS, "children"),
        Output(ids.INCIDENT_TIMELINE, "figure"),
        Output(ids.INCIDENT_COMMAND, "children"),
        Input(ids.VERSIONS, "data"),
        *(Input(ids.INCIDENT_ACTED.format(action=action), "data") for action in actions.ACTIONS),
        Input(ids.PREPLAN_TICKED, "data"),
        State(PAGE_STORE, "data"),
        prevent_initial_call=True,
    )
    def refresh_incident(versions, *counts_then_page):
        page = counts_then_page[-1]
        header, details, figure, command = view(page["incident_id"], page["lang"], versions)
        if figure is None:
            return header, details, dash.no_update, dash.no_update
        return header, details, figure, command

    for action, state in FORM_STATE.items():
        with callback_access.writes(app, f"incident.{action}", target=lambda _clicks, page, *_: page["incident_id"]):
            app.callback(
                Output(ids.INCIDENT_ACT_MESSAGE.format(action=action), "children"),
                Output(ids.INCIDENT_ACTED.format(action=action), "data"),
                Input(ids.INCIDENT_ACT.format(action=action), "n_clicks"),
                State(PAGE_STORE, "data"),
                State(ids.INCIDENT_ACTED.format(action=action), "data"),
                *(State(component, prop) for component, prop in state),
                prevent_initial_call=True,
            )(lambda *arguments, action=action: act(action, *arguments))
    preplan_checklist.register(app, PAGE_STORE, find)
