"""The incident page's pre-plan checklist: the incident's pre-plan (in the version it works on) step by step,
who ticked each and when, the steps overdue against their expected minutes; a tick button per step for those
who may write ``incident.preplan_step``. Each tick or untick is one audited write (403, audited, for others)."""

from __future__ import annotations

from collections.abc import Callable

import dash
import pandas as pd
from dash import ALL, Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.analytics import incidents as incident_stats
from dashboard.command import checklist
from dashboard.command.preplans import Preplan
from dashboard.i18n import t
from dashboard.security import auth, policy
from dashboard.security import callbacks as callback_access
from layouts.components.incident_parts import preplan as runbook_link
from layouts.components.preplan_links import href as library_href

ACTION = "incident.preplan_step"
TIME_FORMAT = "%H:%M"
Find = Callable[[pd.DataFrame, str], "pd.Series | None"]  # the page's incident in the incidents frame, by id


def may_tick() -> bool:
    identity = auth.current_identity()
    return identity is not None and policy.may_write(identity.roles, ACTION)


def did(plan: Preplan | None, step: int, done: bool, lang: str) -> str:
    """A tick in words: "ticked step 2: Roll back the last change"."""
    text = plan.steps[step - 1].text_in(lang) if plan is not None and step <= len(plan.steps) else ""
    return t("preplan.ticked" if done else "preplan.unticked", lang, step=step, text=text)


def timeline_points(ticks: pd.DataFrame, lang: str) -> list[tuple[pd.Timestamp, str]]:
    """The ticks and unticks as (time, "actor: what") for the incident's timeline figure."""
    plans = context.current().preplans
    return [
        (row.at, f"{row.actor}: {did(plans.get(row.preplan_id, row.version), row.step, row.done, lang)}")
        for row in ticks.itertuples()
    ]


def _local(at, tz: str) -> str:
    return pd.Timestamp(at).tz_convert(tz).strftime(TIME_FORMAT)


def _step(plan: Preplan, row, tz: str, lang: str, writable: bool) -> html.Li:
    step = plan.steps[row.step - 1]
    if row.done:
        status = [html.Span(t("preplan.done_by", lang, actor=row.actor, time=_local(row.at, tz)))]
        status += [html.Span(t("preplan.late", lang), className="oc-preplan-late")] if row.late else []
    else:
        status = [html.Span(t("preplan.overdue", lang), className="oc-preplan-overdue")] if row.overdue else []
    due = [html.Span(t("preplan.due", lang, time=_local(row.due_at, tz)))] if pd.notna(row.due_at) else []
    mark = (
        html.Button(
            "☑" if row.done else "☐",
            id={"type": ids.PREPLAN_STEP, "step": int(row.step)},
            title=t("preplan.untick" if row.done else "preplan.tick", lang, step=row.step),
            className="oc-preplan-tick",
        )
        if writable
        else html.Span("☑" if row.done else "☐", className="oc-preplan-mark")
    )
    escalation = step.escalation_in(lang)
    return html.Li(
        [
            mark,
            html.Div(
                [
                    html.Div(step.text_in(lang), className="oc-preplan-text"),
                    html.Div(
                        [
                            html.Span(f"{t('preplan.owner', lang)}: {step.owner}"),
                            html.Span(t("preplan.expected", lang, minutes=step.minutes)),
                            *due,
                            *status,
                        ],
                        className="oc-preplan-meta",
                    ),
                    html.Div(t("preplan.escalation", lang, text=escalation), className="oc-preplan-escalation")
                    if escalation
                    else None,
                ],
                className="oc-preplan-body",
            ),
        ],
        className="oc-preplan-step"
        + (" oc-preplan-done" if row.done else "")
        + (" oc-preplan-is-overdue" if row.overdue else ""),
        **{"data-step": str(row.step)},
    )


def content(
    incident: pd.Series, services: pd.DataFrame, ticks: pd.DataFrame, now: pd.Timestamp, tz: str, lang: str
) -> list:
    """The pre-plan section's children: its title and version, the runbook link, the checklist."""
    plans = context.current().preplans
    chosen = checklist.plan_of(plans, ticks, incident)
    heading = [html.H2(t("incidents.preplan", lang)), runbook_link(incident, services, lang)]
    if chosen is None:
        return [*heading, html.P(t("preplan.none", lang), className="oc-empty")]
    plan = plans.get(*chosen)
    if plan is None:
        missing = t("preplan.missing", lang, preplan=chosen[0], version=chosen[1])
        return [*heading, html.P(missing, className="oc-empty")]
    ended = incident_stats.end_time(incident)  # a step still open when the incident ended stays as it was then
    rows = checklist.state(plan, ticks, incident["opened_at"], now if pd.isna(ended) else min(now, ended))
    newest = plans.versions(plan.id)[-1].version
    version = (
        t("preplan.pinned", lang, version=plan.version, latest=newest)
        if newest != plan.version
        else t("preplan.version", lang, version=plan.version)
    )
    writable = may_tick()
    shown_lang = None if lang == context.current().settings.language else lang
    title = dcc.Link(
        plan.title_in(lang),
        href=library_href(plan.id, plan.version, shown_lang),
        title=t("preplan.open_library", lang),
        className="oc-preplan-library",
    )
    return [
        *heading,
        html.H3([title, html.Span(f" · {plan.id} · {version}", className="oc-muted")]),
        html.P(
            t("preplan.progress", lang, done=int(rows["done"].sum()), total=len(rows)), className="oc-preplan-progress"
        ),
        html.Ol([_step(plan, row, tz, lang, writable) for row in rows.itertuples()], className="oc-preplan-steps"),
    ]


def _content_of(incident_id: str, lang: str, find: Find, versions: dict | None = None) -> list:
    ctx = context.current()
    frames = (versions or {}).get("frames")
    incident = find(ctx.store.frame("incidents", frames), incident_id)
    if incident is None:
        return []
    ticks = checklist.for_incident(ctx.history, incident["source"], incident_id)
    now = pd.Timestamp(ctx.clock())
    return content(incident, ctx.store.frame("services", frames), ticks, now, ctx.settings.display_tz, lang)


def section(incident_id: str, lang: str, find: Find) -> html.Section:
    """The pre-plan section of the incident ``incident_id``, with the tick message and the count of ticks (the
    page refreshes when it changes)."""
    return html.Section(
        [
            html.Div(_content_of(incident_id, lang, find), id=ids.PREPLAN_CHECKLIST),
            html.Span(id=ids.PREPLAN_MESSAGE, className="oc-command-message"),
            dcc.Store(id=ids.PREPLAN_TICKED, data=0),
        ],
        className="oc-panel oc-preplan-panel",
    )


def tick(clicks: list, page: dict, count, find: Find):
    """Tick or untick the clicked step of the page's incident through the audited write path; Forbidden (403,
    audited) for a caller who may not."""
    triggered = dash.ctx.triggered_id
    if not isinstance(triggered, dict) or not dash.ctx.triggered[0]["value"]:
        raise dash.exceptions.PreventUpdate
    ctx, lang, incident_id, step = context.current(), page["lang"], page["incident_id"], triggered["step"]
    incident = find(ctx.store.frame("incidents"), incident_id)
    source = incident["source"] if incident is not None else None
    try:
        with auth.audited(ACTION, incident_id, {"source": source, "step": step}) as connection:
            if incident is None:
                raise LookupError(incident_id)
            ticks = checklist.for_incident(ctx.history, source, incident_id)
            chosen = checklist.plan_of(ctx.preplans, ticks, incident)
            plan = ctx.preplans.get(*chosen) if chosen else None
            if plan is None:
                raise LookupError(incident_id)
            now = pd.Timestamp(ctx.clock())
            done = not checklist.state(plan, ticks, incident["opened_at"], now)["done"].get(step - 1, True)
            checklist.record(connection, source, incident_id, plan, step, done, auth.current_identity().name, now)
    except LookupError:
        return t("preplan.none", lang), dash.no_update
    except ValueError:
        raise dash.exceptions.PreventUpdate from None
    return t("preplan.recorded", lang, what=did(plan, step, done, lang)), (count or 0) + 1


def register(app: dash.Dash, page_store: str, find: Find) -> None:
    """Register the refresh of the checklist and the tick callback; both read the page's incident id and
    language from ``page_store`` and find the incident with ``find``."""
    app.callback(
        Output(ids.PREPLAN_CHECKLIST, "children"),
        Input(ids.VERSIONS, "data"),
        Input(ids.PREPLAN_TICKED, "data"),
        State(page_store, "data"),
        prevent_initial_call=True,
    )(lambda versions, _count, page: _content_of(page["incident_id"], page["lang"], find, versions))
    with callback_access.writes(app, ACTION, target=lambda _clicks, page, *_: page["incident_id"]):
        app.callback(
            Output(ids.PREPLAN_MESSAGE, "children"),
            Output(ids.PREPLAN_TICKED, "data"),
            Input({"type": ids.PREPLAN_STEP, "step": ALL}, "n_clicks"),
            State(page_store, "data"),
            State(ids.PREPLAN_TICKED, "data"),
            prevent_initial_call=True,
        )(lambda clicks, page, count: tick(clicks, page, count, find))
