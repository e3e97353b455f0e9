"""The wall's market strip: a chip per market whose feeds matter now, its state as colour, shape and words, naming
the sites whose feeds are late ("SSE · late at sh-dc2 · 42 s"); the closed markets said once, together, in one
muted line after them ("Closed: SSE, SZSE, HKEX"), since the header already gives each market's session. Formats
the few rows of the ``wall_markets`` view (``analytics.feeds``) in plain Python; nothing is judged here."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dash import html

from dashboard.i18n import t

STATE_CLASS = {"ok": "oc-ok", "late": "oc-crit", "nodata": "oc-nodata"}  # the states a chip is drawn in


@dataclass(frozen=True)
class Strip:
    """What the strip shows: a chip per ``wall_markets`` row not closed (late, live or without data), in the view's
    order, and the closed markets, in the same order, for one line."""

    chips: tuple[dict, ...]
    closed: tuple[str, ...]


def strip(rows: list[dict]) -> Strip:
    """The strip of the ``wall_markets`` rows."""
    return Strip(
        tuple(row for row in rows if row["state"] != "closed"),
        tuple(row["market"] for row in rows if row["state"] == "closed"),
    )


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


def closed_text(markets: tuple[str, ...], lang: str) -> str:
    """The closed markets in one phrase: "Closed: SSE, SZSE, HKEX"."""
    names = t("list.sep", lang).join(t(f"feeds.market.{market}", lang) for market in markets)
    return t("feeds.closed_markets", lang, markets=names)


def _chip(row: dict, lang: str) -> html.Span:
    return html.Span(
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


def chips(rows: list[dict], lang: str) -> list:
    """The strip of the ``wall_markets`` rows: a chip per market not closed, then the closed ones' line; nothing
    when no source delivers ``feed_status``."""
    shown = strip(rows)
    closed = [
        html.Span(
            [html.Span(className="oc-shape"), closed_text(shown.closed, lang)],
            className="oc-feeds-closed",
            **{"data-markets": " ".join(shown.closed), "data-state": "closed"},
        )
    ]
    return [_chip(row, lang) for row in shown.chips] + (closed if shown.closed else [])
