"""The incident page's command panel: who holds the incident roles, the last update, the actions taken in
opscenter with their write-back state, and (for those who may act) the controls that record new ones."""

from __future__ import annotations

import pandas as pd
from dash import dcc, html

from dashboard import ids
from dashboard.command import actions
from dashboard.command.actions import did
from dashboard.i18n import t

TIME_FORMAT = "%m-%d %H:%M"


def timeline_points(taken: pd.DataFrame, lang: str) -> list[tuple[pd.Timestamp, str]]:
    """The actions as (time, "actor: what") for the incident's timeline figure."""
    return [(row.at, f"{row.actor}: {did(row.action, row.detail, lang)}") for row in taken.itertuples()]


def state(taken: pd.DataFrame, source: str, now: pd.Timestamp, tz: str, lang: str) -> list:
    """The roles, the age of the last update and the action log, newest first (``taken``: one incident's)."""
    holders = actions.current_roles(taken)
    roles = html.Dl(
        [
            item
            for role in actions.ROLES
            for item in (
                html.Dt(t(f"command.role.{role}", lang)),
                html.Dd(holders.get(role) or t("command.unassigned", lang), className=f"oc-command-{role}"),
            )
        ],
        className="oc-facts oc-command-roles",
    )
    updated = actions.last_update(taken)
    age = (
        t("command.last_update", lang, minutes=int((now - updated).total_seconds() // 60))
        if updated is not None
        else t("command.no_update", lang)
    )
    log = [
        html.Li(
            [
                html.Span(pd.Timestamp(row.at).tz_convert(tz).strftime(TIME_FORMAT), className="oc-command-at"),
                html.Span(row.actor, className="oc-command-actor"),
                html.Span(did(row.action, row.detail, lang), className="oc-command-what"),
                html.Span(
                    t(f"command.writeback.{row.writeback}", lang, source=source),
                    className=f"oc-command-sync oc-sync-{row.writeback}",
                    title=row.last_error or "",
                ),
            ],
            className=f"oc-command-row oc-did-{row.action}",
        )
        for row in taken.iloc[::-1].itertuples()
    ]
    return [
        roles,
        html.P(age, className="oc-command-age"),
        html.H3(t("command.log", lang)),
        html.Ol(log, className="oc-command-log")
        if log
        else html.P(t("command.no_actions", lang), className="oc-empty"),
    ]


def _button(action: str, lang: str) -> html.Button:
    return html.Button(
        t(f"command.act.{action}", lang), id=ids.INCIDENT_ACT.format(action=action), className="oc-command-button"
    )


def _message(action: str) -> html.Span:
    return html.Span(id=ids.INCIDENT_ACT_MESSAGE.format(action=action), className="oc-command-message")


def form(priority: int, lang: str) -> html.Div:
    """The controls of the five actions, each button with its message; the priority control starts at the
    incident's ``priority``."""
    role_options = [{"label": t(f"command.role.{role}", lang), "value": role} for role in actions.ROLES]
    return html.Div(
        [
            html.Div(
                [_button("acknowledge", lang), _message("acknowledge"), _button("resolve", lang), _message("resolve")],
                className="oc-command-line",
            ),
            html.Div(
                [
                    dcc.Dropdown(
                        id=ids.INCIDENT_ROLE, options=role_options, value="commander", clearable=False, searchable=False
                    ),
                    dcc.Input(
                        id=ids.INCIDENT_USER,
                        type="text",
                        maxLength=actions.MAX_USER,
                        placeholder=t("command.user", lang),
                    ),
                    _button("assign", lang),
                    _message("assign"),
                ],
                className="oc-command-line",
            ),
            html.Div(
                [
                    dcc.Dropdown(
                        id=ids.INCIDENT_NEW_PRIORITY,
                        options=[{"label": f"P{p}", "value": p} for p in (1, 2, 3, 4, 5)],
                        value=int(priority),
                        clearable=False,
                        searchable=False,
                    ),
                    _button("priority", lang),
                    _message("priority"),
                ],
                className="oc-command-line",
            ),
            dcc.Textarea(
                id=ids.INCIDENT_NOTE,
                maxLength=actions.MAX_TEXT,
                placeholder=t("command.note", lang),
                className="oc-command-note",
            ),
            html.Div(
                [
                    dcc.Checklist(
                        id=ids.INCIDENT_PUBLIC,
                        options=[{"label": t("command.public", lang), "value": "public"}],
                        value=[],
                    ),
                    _button("note", lang),
                    _message("note"),
                ],
                className="oc-command-line",
            ),
        ],
        className="oc-command-form",
    )


def counters() -> list[dcc.Store]:
    """Per action, the count of those recorded from this page: the page refreshes when one changes (on every
    page, so that the refresh has all its inputs whether or not the form is shown)."""
    return [dcc.Store(id=ids.INCIDENT_ACTED.format(action=action), data=0) for action in actions.ACTIONS]
