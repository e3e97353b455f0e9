"""The wall's market strip: one chip per market with its feeds' state as colour, shape and words, naming the
sites whose feeds are late ("SSE · late at sh-dc2 · 42 s"). Formats the few rows of the ``wall_markets`` view
(``analytics.feeds``) in plain Python; nothing is judged here."""

from __future__ import annotations

import math

from dash import html

from dashboard.i18n import t

STATE_CLASS = {"ok": "oc-ok", "late": "oc-crit", "closed": "oc-feed-closed", "nodata": "oc-nodata"}


def age_text(seconds: float, lang: str) -> str:
    """A tick age: seconds under two minutes, then minutes, then hours."""
    if seconds < 120:
        return t("feeds.age_s", lang, value=f"{seconds:.0f}")
    if seconds < 7200:
        return t("unit.min", lang, value=f"{seconds / 60:.0f}")
    return t("unit.h", lang, value=f"{seconds / 3600:.0f}")


def chip_text(row: dict, lang: str) -> str:
    """What a chip says after the market's name: its state, where it is late and how late."""
    if row["state"] == "late":
        return t("feeds.late_at", lang, sites=row["sites"], age=age_text(row["tick_age_s"], lang))
    return t(f"feeds.{row['state']}", lang)


def chips(rows: list[dict], lang: str) -> list:
    """A chip per ``wall_markets`` row, in its order; none when no source delivers ``feed_status``."""
    return [
        html.Span(
            [
                html.Span(className="oc-shape"),
                html.Span(t(f"feeds.market.{row['market']}", lang), className="oc-feed-market"),
                html.Span(chip_text(row, lang), className="oc-feed-state"),
            ],
            className=f"oc-feed {STATE_CLASS[row['state']]}",
            title=""
            if row["tick_age_s"] is None or math.isnan(row["tick_age_s"])
            else t("feeds.oldest", lang, age=age_text(row["tick_age_s"], lang)),
            **{"data-market": row["market"], "data-state": row["state"]},
        )
        for row in rows
    ]
