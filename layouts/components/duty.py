"""The wall header's "on duty" line: each escalation level's people now, until their hand-over; redrawn
only when the roster's answer changes (a hand-over, an edited roster file)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.command.roster import on_duty
from dashboard.i18n import t


def now_on_duty() -> list[dict]:
    """Each level's title, people and hand-over time (local HH:MM) now; empty without a roster."""
    app = context.current()
    notify, tz = app.settings.notifications, app.settings.display_tz
    if notify is None:
        return []
    return [
        {
            "level": d.level,
            "title": d.title,
            "title_zh": d.title_zh,
            "people": [p.name for p in d.people],
            "until": d.until.strftime("%H:%M") if d.until else None,
        }
        for d in on_duty(notify.current_roster(), app.clock(), tz)
    ]


def _levels(shown: list[dict], lang: str) -> list:
    if not shown:
        return []
    items = [html.Span(t("duty.label", lang), className="oc-duty-label")]
    for level in shown:
        title = level["title_zh"] if lang == "zh" and level["title_zh"] else level["title"]
        items.append(
            html.Span(
                [
                    html.Span(t("duty.level", lang, level=level["level"]), className="oc-duty-level", title=title),
                    html.Span(", ".join(level["people"]) or "–", className="oc-duty-people"),
                    html.Span(
                        t("duty.until", lang, time=level["until"]) if level["until"] else "", className="oc-duty-until"
                    ),
                ],
                className="oc-duty",
                **{"data-level": str(level["level"])},
            )
        )
    return items


def wall_block(lang: str) -> html.Div:
    """The header's block, with the store of what it shows."""
    shown = now_on_duty()
    return html.Div(
        [dcc.Store(id=ids.WALL_DUTY_SHOWN, data=shown), html.Div(_levels(shown, lang), id=ids.WALL_DUTY)],
        className="oc-duties",
    )


def refresh(_tick, shown: list | None, lang: str):
    """Redraw only when who is on duty changed."""
    now = now_on_duty()
    if now == shown:
        raise dash.exceptions.PreventUpdate
    return _levels(now, lang), now


def register_wall(app: dash.Dash, lang_store: str) -> None:
    """The block's refresh on the shell's tick (called from the wall's ``register``)."""
    app.callback(
        Output(ids.WALL_DUTY, "children"),
        Output(ids.WALL_DUTY_SHOWN, "data"),
        Input(ids.TICK, "n_intervals"),
        State(ids.WALL_DUTY_SHOWN, "data"),
        State(lang_store, "data"),
        prevent_initial_call=True,
    )(refresh)
