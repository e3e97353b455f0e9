"""The incident page's notifications: each level notified, on which channel, to whom, with the outcome of
its last attempt (the error as its tooltip); and the same as points on the incident's timeline."""

from __future__ import annotations

import pandas as pd
from dash import html

from dashboard import ids
from dashboard.i18n import t

TIME_FORMAT = "%m-%d %H:%M"


def _people(row, lang: str) -> str:
    return ", ".join(p["name"] for p in row.recipients) or t("notify.nobody", lang)


def timeline_points(sent: pd.DataFrame, lang: str) -> list[tuple[pd.Timestamp, str]]:
    """Each notification as (time, what) for the timeline figure: when it was sent, else when it was queued."""
    return [
        (
            row.sent_at if pd.notna(row.sent_at) else row.created_at,
            t(
                "notify.point",
                lang,
                level=row.level,
                channel=row.channel,
                status=t(f"notify.status.{row.status}", lang),
            ),
        )
        for row in sent.itertuples()
    ]


def section(sent: pd.DataFrame, tz: str, lang: str) -> html.Section:
    """The panel listing the incident's notifications, oldest first."""
    rows = [
        html.Li(
            [
                html.Span(
                    pd.Timestamp(row.sent_at if pd.notna(row.sent_at) else row.created_at)
                    .tz_convert(tz)
                    .strftime(TIME_FORMAT),
                    className="oc-notice-at",
                ),
                html.Span(t("notify.row", lang, level=row.level, channel=row.channel, people=_people(row, lang))),
                html.Span(
                    t(f"notify.status.{row.status}", lang),
                    className="oc-notice-status",
                    title=row.last_error or "",
                ),
            ],
            className=f"oc-notice oc-notice-{row.status}",
        )
        for row in sent.itertuples()
    ]
    body = html.Ol(rows, className="oc-notices") if rows else html.P(t("notify.none", lang), className="oc-empty")
    return html.Section([html.H2(t("notify.section", lang)), body], id=ids.INCIDENT_NOTICES, className="oc-panel")
