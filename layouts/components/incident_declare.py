"""Declaring incidents on /incidents, and who commands each open P1/P2 (/incidents and the wall).

A manager declares an incident from nothing (the form) or from a firing alert (its button); each is the
write ``incident.declare``, recorded through ``auth.audited`` by ``dashboard.command.declared``, and a
caller without it gets 403, the refusal audited. The poller then lists the incident (source
``opscenter``) within one refresh. ``command_line`` is "IC wang · updated 12 min ago", amber once the
incident has gone without an update for longer than the config allows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dash
import pandas as pd
from dash import ALL, Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.analytics import rollup
from dashboard.command import actions, declared
from dashboard.i18n import t
from dashboard.security import auth, policy
from dashboard.security import callbacks as callback_access

ACTION = "incident.declare"
MAX_ALERTS = 20
AGE_TEMPLATES = {"m": "wall.age_m", "h": "wall.age_h", "d": "wall.age_d"}


def may_declare() -> bool:
    """Whether the person asking may declare incidents (the controls are shown to them only)."""
    identity = auth.current_identity()
    return identity is not None and policy.may_write(identity.roles, ACTION)


def age_text(since: pd.Timestamp, now: pd.Timestamp, lang: str) -> str:
    """How long ago ``since`` was, as the wall's ages read: "12 min", "1 h 5 min", "2 d 3 h"."""
    minutes = max(int((now - since).total_seconds() // 60), 0)
    parts = {"d": minutes // 1440, "h": minutes // 60 % 24, "m": minutes % 60}
    key = "d" if parts["d"] else ("h" if parts["h"] else "m")
    return t(AGE_TEMPLATES[key], lang, **parts)


def command_line(watch: pd.DataFrame, source: str, incident_id: str, now: pd.Timestamp, lang: str):
    """ "IC wang · updated 12 min ago" for a watched incident (``watch``: ``oversight.watched``), else None."""
    key = (source, incident_id)
    if key not in watch.index:
        return None
    row = watch.loc[key]
    return command_span(row["commander"], row["updated_at"], row["stale_at"], now, lang)


def command_span(commander: str | None, updated_at: pd.Timestamp, stale_at: pd.Timestamp, now: pd.Timestamp, lang: str):
    """ "IC wang · updated 12 min ago", amber from ``stale_at``; ``data-since`` and ``data-stale-at`` let the
    wall's clock keep it current."""
    who = t("oversight.commander", lang, user=commander) if commander else t("oversight.no_commander", lang)
    before, _, after = t("oversight.updated", lang, age="\0").partition("\0")
    since = int(updated_at.timestamp() * 1000)
    age = html.Span(age_text(updated_at, now, lang), className="oc-age", **{"data-since": since})
    return html.Span(
        [html.Span(who, className="oc-ic"), " · ", html.Span([before, age, after], className="oc-oversight-age")],
        className="oc-oversight oc-overdue" if stale_at <= now else "oc-oversight",
        **{"data-stale-at": int(stale_at.timestamp() * 1000)},
    )


def alert_key(alert) -> str:
    return f"{alert['source']}|{alert['alert_id']}"


def alerts_panel(alerts: pd.DataFrame, lang: str) -> html.Section | None:
    """The firing alerts, each with its "Declare incident" button; None for those who may not declare."""
    if not may_declare():
        return None
    firing = rollup.firing_alerts(alerts).head(MAX_ALERTS)
    if firing.empty:
        return html.Section(
            [html.H2(t("declare.alerts", lang)), html.P(t("declare.no_alerts", lang), className="oc-empty")],
            className="oc-panel oc-declare-alerts",
        )
    rows = [
        html.Li(
            [
                html.Span(alert["severity"], className=f"oc-sev oc-sev-{alert['severity']}"),
                html.A(alert["name"], href=alert["url"], target="_blank", rel="noopener")
                if alert["url"]
                else html.Span(alert["name"]),
                html.Span(alert["service"] or "–", className="oc-declare-alert-service"),
                html.Button(
                    t("declare.from_alert", lang),
                    id={"type": ids.DECLARE_ALERT, "alert": alert_key(alert)},
                    className="oc-command-button",
                ),
            ],
            className="oc-declare-alert-row",
            **{"data-alert": alert["alert_id"]},
        )
        for _, alert in firing.iterrows()
    ]
    return html.Section(
        [html.H2(t("declare.alerts", lang)), html.Ul(rows, className="oc-declare-alert-list")],
        className="oc-panel oc-declare-alerts",
    )


def form(services: pd.DataFrame, lang: str) -> html.Section | None:
    """The form declaring an incident from nothing; None for those who may not declare."""
    if not may_declare():
        return None
    return html.Section(
        [
            html.H2(t("declare.title", lang)),
            html.Div(
                [
                    dcc.Input(
                        id=ids.DECLARE_TITLE,
                        type="text",
                        maxLength=declared.MAX_TITLE,
                        placeholder=t("declare.what", lang),
                        className="oc-declare-what",
                    ),
                    dcc.Dropdown(
                        id=ids.DECLARE_SERVICE,
                        options=sorted(services["service"].unique()),
                        placeholder=t("declare.service", lang),
                    ),
                    dcc.Dropdown(
                        id=ids.DECLARE_PRIORITY,
                        options=[{"label": f"P{p}", "value": p} for p in (1, 2, 3, 4, 5)],
                        value=2,
                        clearable=False,
                        searchable=False,
                    ),
                    html.Button(t("declare.act", lang), id=ids.DECLARE_BUTTON, className="oc-command-button"),
                ],
                className="oc-command-line",
            ),
            dcc.Textarea(
                id=ids.DECLARE_SUMMARY,
                maxLength=actions.MAX_TEXT,
                placeholder=t("declare.summary", lang),
                className="oc-command-note oc-declare-summary",
            ),
            html.Div(
                [
                    html.Span(id=ids.DECLARE_MESSAGE, className="oc-command-message"),
                    html.Span(id=ids.DECLARE_ALERT_MESSAGE, className="oc-command-message"),
                ],
                className="oc-command-line",
            ),
        ],
        className="oc-panel oc-command-form oc-declare",
    )


def declared_from(incident: pd.Series, lang: str):
    """ "Declared from alert <name>" with its link, for an incident declared from an alert; else None."""
    if incident.get("source") != declared.SOURCE or not isinstance(incident.get("x_alert_name"), str):
        return None
    name, url = incident["x_alert_name"], incident.get("x_alert_url")
    link = html.A(name, href=url, target="_blank", rel="noopener") if isinstance(url, str) else name
    return html.P([t("declare.declared_from", lang), " ", link], className="oc-declared-from")


def _declare(fields: dict, lang: str, target: str) -> str:
    """Record one declaration through the audited write path; the message for the page."""
    try:
        with auth.audited(ACTION, target, {k: v for k, v in fields.items() if v is not None}) as connection:
            incident_id = declared.declare(connection, auth.current_identity().name, fields, datetime.now(UTC))
    except declared.AlreadyDeclared as exc:
        return t("declare.duplicate", lang, incident_id=exc.incident_id)
    except ValueError:
        return t("declare.incomplete", lang)
    return t("declare.done", lang, incident_id=incident_id)


def declare_new(n_clicks, lang, title, service, priority, summary) -> str:
    """Declare an incident from the form."""
    if not n_clicks:
        raise dash.exceptions.PreventUpdate
    fields = {"title": title, "service": service, "priority": priority, "summary": summary}
    return _declare(fields, lang or "en", "new")


def declare_from_alert(clicks, lang) -> str:
    """Declare an incident from the firing alert whose button was clicked."""
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, dict) or not any(clicks or []):
        raise dash.exceptions.PreventUpdate
    source, _, alert_id = str(trigger["alert"]).partition("|")
    alerts = context.current().store.frame("alerts")
    found = alerts[(alerts["source"] == source) & (alerts["alert_id"] == alert_id) & (alerts["state"] == "firing")]
    if found.empty:
        auth.audit(ACTION, trigger["alert"])  # a refusal answers 403 here, audited, before saying it is gone
        return t("declare.gone", lang or "en")
    return _declare(declared.from_alert(found.iloc[0].to_dict()), lang or "en", trigger["alert"])


def register(app: dash.Dash, lang_store: str) -> None:
    """Register the two declaring callbacks on ``app`` (inside the page's callbacks); ``lang_store``: the
    page's store of its language."""
    with callback_access.writes(app, ACTION, target=lambda *_: "new"):
        app.callback(
            Output(ids.DECLARE_MESSAGE, "children"),
            Input(ids.DECLARE_BUTTON, "n_clicks"),
            State(lang_store, "data"),
            State(ids.DECLARE_TITLE, "value"),
            State(ids.DECLARE_SERVICE, "value"),
            State(ids.DECLARE_PRIORITY, "value"),
            State(ids.DECLARE_SUMMARY, "value"),
            prevent_initial_call=True,
        )(declare_new)
    with callback_access.writes(app, ACTION, target=lambda *_: "alert"):
        app.callback(
            Output(ids.DECLARE_ALERT_MESSAGE, "children"),
            Input({"type": ids.DECLARE_ALERT, "alert": ALL}, "n_clicks"),
            State(lang_store, "data"),
            prevent_initial_call=True,
        )(declare_from_alert)
