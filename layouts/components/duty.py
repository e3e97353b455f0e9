"""The wall header's "on duty" line: each escalation level's people now, until their hand-over; redrawn
only when the roster's answer changes (a hand-over, an edited roster file, a new on-call read).

A level taken from an ITSM's on-call group shows the poller's last read of it from the store (never asking
the ITSM): "not read yet" before the first, and the last good people marked "as of HH:MM, not answering"
while the reads fail, never a stale name as if current."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.command.roster import OnDuty, on_call_answer, on_duty
from dashboard.core.store import ONCALL_SOURCE
from dashboard.i18n import t


def now_on_duty() -> list[dict]:
    """Each level's title, people and hand-over time (local HH:MM) now; empty without a roster."""
    app = context.current()
    notify, tz = app.settings.notifications, app.settings.display_tz
    if notify is None:
        return []
    roster, now = notify.current_roster(), app.clock()
    answer = None
    if roster.oncall_groups():
        answer = on_call_answer(app.store.frame("on_call"), app.store.status(ONCALL_SOURCE), now)
    return entries(on_duty(roster, now, tz, answer), tz)


def entries(levels: list[OnDuty], tz: str) -> list[dict]:
    """What the block shows of each level; an on-call group's ``read``: None (a current read), "unread"
    (none yet) or "stale" (``as_of``: the last good read, local HH:MM, or None when none succeeded)."""
    shown = []
    for d in levels:
        read = None
        if d.itsm is not None and d.stale:
            read = "stale"
        elif d.itsm is not None and d.read_at is None:
            read = "unread"
        shown.append(
            {
                "level": d.level,
                "title": d.title,
                "title_zh": d.title_zh,
                "people": [p.name for p in d.people],
                "until": d.until.strftime("%H:%M") if d.until else None,
                "itsm": d.itsm,
                "read": read,
                "as_of": d.read_at.astimezone(ZoneInfo(tz)).strftime("%H:%M") if read and d.read_at else None,
            }
        )
    return shown


def read_note(level: dict, lang: str) -> str:
    """What the block says of an on-call group not read (yet, or lately)."""
    if level["read"] == "unread":
        return t("duty.unread", lang, source=level["itsm"])
    if level["as_of"]:
        return t("duty.stale", lang, source=level["itsm"], time=level["as_of"])
    return t("duty.stale_never", lang, source=level["itsm"])


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
                    *([html.Span(read_note(level, lang), className="oc-duty-stale")] if level.get("read") else []),
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
