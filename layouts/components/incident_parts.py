"""Incident parts shared by /incidents, /incidents/<id> and /catalogue: badges, the pre-plan, drill-down windows."""

from __future__ import annotations

import logging

import pandas as pd
import sqlalchemy as sa
from dash import html

from dashboard import context
from dashboard.analytics import drilldown, health
from dashboard.analytics import incidents as incident_stats
from dashboard.command import actions
from dashboard.core.timewindow import resolve
from dashboard.i18n import t
from layouts.components import views

log = logging.getLogger("opscenter.incidents")
LINK_DAYS = 30
STATUS_ICONS = {"ok": "●", "warn": "▲", "crit": "■", "nodata": "◌"}


def priority_badge(priority: int) -> html.Span:
    return html.Span(f"P{priority}", className=f"oc-prio oc-p{priority}")


def state_label(state: str, lang: str) -> html.Span:
    return html.Span(t(f"incidents.state_{state}", lang), className=f"oc-inc-state oc-state-{state}")


def health_badge(status: str, lang: str) -> html.Span:
    return html.Span(
        [html.Span(STATUS_ICONS[status], className="oc-icon"), t(f"status.{status}", lang)],
        className=f"oc-badge oc-{status}",
    )


def incident_query(incident: pd.Series, now: pd.Timestamp, **extra: str) -> str:
    """The ``?from=&to=`` (and ``extra``) of the time around an incident, for drill-down links: from an hour
    before it opened to an hour after it ended (or now), at most the last ``LINK_DAYS`` of that."""
    ended = incident_stats.end_time(incident)
    end = now if pd.isna(ended) else min(ended + pd.Timedelta(hours=1), now)
    start = max(incident["opened_at"] - pd.Timedelta(hours=1), end - pd.Timedelta(days=LINK_DAYS))
    return resolve(start.isoformat(), "now" if pd.isna(ended) else end.isoformat(), now.to_pydatetime()).query(**extra)


def service_query(incident: pd.Series, now: pd.Timestamp, frames: dict | None) -> str:
    """The query of a link to the incident's service: its ``incident_query``, with ``calls=failed`` when the
    incident is about errors (its service broke its error target while it was open)."""
    ctx = context.current()
    service = incident["service"]
    target = health.targets(
        drilldown.rows_for(ctx.store.frame("services", frames), "service", [service]), ctx.settings.health
    )["error_target"]
    metrics = ctx.store.frame("service_metrics", frames, services=[service])
    failed = len(target) and incident_stats.about_errors(incident, metrics, float(target.iloc[0]), now)
    return incident_query(incident, now, **({"calls": "failed"} if failed else {}))


def runbook_url(incident: pd.Series, services: pd.DataFrame) -> str | None:
    """The incident's runbook, else its service's."""
    if incident.get("runbook_url"):
        return incident["runbook_url"]
    found = services.loc[services["service"] == incident.get("service"), "runbook_url"].dropna()
    return found.iloc[0] if len(found) else None


def preplan(incident: pd.Series, services: pd.DataFrame, lang: str) -> html.Div:
    """The emergency pre-plan: the runbook link and, when the source gives them, its steps."""
    url = runbook_url(incident, services)
    link = (
        html.A(t("incidents.runbook", lang), href=url, target="_blank", rel="noopener", className="oc-runbook")
        if url
        else html.Span(t("incidents.no_runbook", lang), className="oc-muted")
    )
    steps = [s.strip() for s in str(incident.get("x_runbook_steps") or "").splitlines() if s.strip()]
    if not steps:
        return html.Div(link, className="oc-preplan")
    return html.Div(
        [link, html.Details([html.Summary(t("incidents.steps", lang)), html.Ol([html.Li(s) for s in steps])])],
        className="oc-preplan",
    )


def service_health(frames: dict | None, names: list[str]) -> pd.Series:
    """The current health status of the services ``names``: the poller's (the wall's ``service_health`` view)
    while it stands for the frames read (``views.drawn_versions``, as the wall reads them), else evaluated over
    the estate's metrics, so that a service whose metrics stopped has none current (nodata)."""
    if not names:
        return pd.Series(dtype=str)
    ctx = context.current()
    store, now, rules = ctx.store, pd.Timestamp.now("UTC"), ctx.settings.health
    versions = views.drawn_versions(store, frames or store.versions(), store.statuses(), now, rules)
    kept = views.stored(store, versions, store.statuses(), now, ctx.offered, rules, ("service_health",))
    if kept is not None:
        evaluated = drilldown.rows_for(kept["service_health"], "service", names)
    else:
        services = store.frame("services", versions)
        services = services[services["service"].isin(names)]
        evaluated = health.evaluate(services, store.frame("service_metrics", versions), rules)
    return evaluated.set_index("service")["status"]


def acknowledgements() -> pd.DataFrame | None:
    """opscenter's acknowledgements (``actions.acknowledgements``); None while the history database does not
    answer, so a figure never goes blank for it."""
    try:
        return actions.acknowledgements(context.current().history)
    except sa.exc.SQLAlchemyError as exc:
        log.warning("opscenter's acknowledgements unread, MTTA from the sources alone: %s", exc)
        return None


def acknowledged(incidents: pd.DataFrame) -> pd.DataFrame:
    """``incidents`` with opscenter's acknowledgements counted where earlier (what MTTA is computed on); the
    source's alone while the history database does not answer. The tickets opened for incidents declared in
    opscenter are counted once, as the declared incident."""
    ours = acknowledgements()
    incidents = incident_stats.without_ticket_copies(incidents)
    return incidents if ours is None else incident_stats.with_acknowledgements(incidents, ours)
