"""What the wall, /incidents and the service page show of change freezes: a flag beside a change or run made
during one, and the list of the last 30 days' breaches, from the poller's ``freeze_breaches`` frame."""

from __future__ import annotations

import pandas as pd
from dash import html

from dashboard import ids
from dashboard.analytics import freeze
from dashboard.core.store import DERIVED_SOURCE
from dashboard.i18n import t

DAYS = 30
LISTED = 12  # breaches /incidents lists, at most


def by_id(breaches: pd.DataFrame) -> dict[tuple[str, str], dict]:
    """Each breach as a dict, by (kind, id): what a list looks its rows up in."""
    columns = ("kind", "id", "reason", "freeze", "flagged")
    return {
        (kind, ident): {"reason": reason, "freeze": name, "flagged": bool(flagged)}
        for kind, ident, reason, name, flagged in zip(*(breaches[c].tolist() for c in columns))
    }


def why(breach: dict, lang: str) -> str:
    """The freeze a breach fell in, in words: a market's trading session or a named window."""
    if breach["reason"] == "window":
        return t("freeze.window", lang, name=breach["freeze"])
    market = breach["freeze"]
    return t("freeze.session", lang, market=t(f"market.{market}", lang) if market in freeze.MARKET_NAMES else market)


def flag(breach: dict | None, lang: str) -> html.Span | None:
    """A flagged breach's mark (a warning triangle, amber), an emergency change's (a hollow diamond, grey:
    listed, not flagged), or None outside a freeze; the tooltip says which freeze."""
    if breach is None:
        return None
    if breach["flagged"]:
        return html.Span(
            ["⚠ ", t("freeze.flag", lang)],
            className="oc-freeze oc-freeze-flagged",
            title=t("freeze.why", lang, why=why(breach, lang)),
        )
    return html.Span(
        ["◇ ", t("freeze.flag", lang)],
        className="oc-freeze oc-freeze-listed",
        title=t("freeze.why_listed", lang, why=why(breach, lang)),
    )


def delivered(statuses: dict[str, dict]) -> bool:
    """Whether the poller has written ``freeze_breaches`` (its derived step's status record says so)."""
    return "freeze_breaches" in (statuses.get(DERIVED_SOURCE, {}).get("frames") or ())


def panel(
    breaches: pd.DataFrame, now: pd.Timestamp, tz: str, lang: str, delivered: bool = True, services: bool = True
) -> html.Section:
    """/incidents' section: how many non-emergency changes and chaos runs ran during a freeze in the last
    ``DAYS`` days, and the latest of them with the emergency changes listed beside them (``services``: with a
    column naming each one's service)."""
    recent = freeze.recent(breaches, now, DAYS)
    flagged = int(recent["flagged"].sum())
    head = html.H2(
        [t("freeze.title", lang, days=DAYS), " ", html.Span(str(flagged), className="oc-count-badge oc-freeze-count")]
    )
    if not delivered:
        return html.Section([head, html.Div(t("freeze.waiting", lang), className="oc-empty")], id=ids.FREEZE_PANEL)
    if recent.empty:
        body = [html.Div(t("freeze.none", lang, days=DAYS), className="oc-empty")]
    else:
        body = [
            html.P(
                [
                    t("freeze.count", lang, count=flagged),
                    *(
                        [" · ", t("freeze.listed_count", lang, count=len(recent) - flagged)]
                        if len(recent) > flagged
                        else []
                    ),
                ],
                className="oc-freeze-summary",
            ),
            _table(recent.head(LISTED), tz, lang, services),
            *(
                [html.Div(t("freeze.more", lang, count=len(recent) - LISTED), className="oc-more")]
                if len(recent) > LISTED
                else []
            ),
        ]
    return html.Section([head, *body], id=ids.FREEZE_PANEL, className="oc-panel oc-freeze-panel")


def _table(rows: pd.DataFrame, tz: str, lang: str, services: bool) -> html.Table:
    columns = ("time", "what", "service", "freeze") if services else ("time", "what", "freeze")
    head = html.Tr([html.Th("")] + [html.Th(t(f"freeze.col.{c}", lang)) for c in columns])
    body = []
    for row in rows.to_dict("records"):
        label = t(f"freeze.kind.{row['kind']}", lang) + f" {row['id']}"
        body.append(
            html.Tr(
                [
                    html.Td(flag(row, lang)),
                    html.Td(pd.Timestamp(row["ts"]).tz_convert(tz).strftime("%Y-%m-%d %H:%M")),
                    html.Td(
                        [
                            html.A(label, href=row["url"], target="_blank", rel="noopener")
                            if isinstance(row["url"], str)
                            else label,
                            html.Div(row["title"], className="oc-freeze-title"),
                        ]
                    ),
                    *([html.Td(row["service"] if isinstance(row["service"], str) else "–")] if services else []),
                    html.Td(why(row, lang)),
                ],
                className="oc-freeze-row" + ("" if row["flagged"] else " oc-freeze-row-listed"),
                **{"data-freeze": row["id"]},
            )
        )
    return html.Table([html.Thead(head), html.Tbody(body)], className="oc-span-table oc-freeze-table")
