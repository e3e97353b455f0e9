"""A chain's business figures as key figures: the value now, a small trend, the worst breakdown.

The chain page shows them first, its headline (the config's ``health.business``) leading and coloured by
its status; the wall shows the headline alone in the chain's row (``headline_text``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
from dash import html

from dashboard import formats
from dashboard.analytics import business
from dashboard.i18n import CATALOG, t

WORST_BY = {  # the dimension whose worst value a figure names under it
    "order_success_ratio": "counter",
    "order_rejects_per_s": "reason",
    "counter_latency_p99_ms": "counter",
    "transfer_success_ratio": "channel",
}


def value_text(metric: str, value: float | None) -> str:
    """A business figure as the pages show it: ratios as percentages, rates per second, latencies in ms."""
    if metric.endswith("_ratio"):
        return formats.fmt_pct(value)
    return formats.fmt_ms(value) if metric.endswith("_ms") else formats.fmt_rate(value)


def _trend(values: list[float]) -> html.Div:
    """The figure's last points as bars, scaled between their lowest and highest."""
    low, high = min(values), max(values)
    span = high - low or 1.0
    return html.Div(
        [html.Span(style={"height": f"{15 + 85 * (v - low) / span:.0f}%"}) for v in values],
        className="oc-biz-trend",
        **{"aria-hidden": "true"},
    )


def _worst(figures: pd.DataFrame, chain: str, metric: str, lang: str) -> str:
    dimension = WORST_BY.get(metric)
    if dimension is None:
        return ""
    rows = business.breakdown(figures, chain, metric, dimension)
    if len(rows) < 2:
        return ""
    label = str(rows[dimension].iloc[0])
    if f"business.reason.{label}" in CATALOG:
        label = t(f"business.reason.{label}", lang)
    return t("business.worst", lang, name=label, value=value_text(metric, float(rows["value"].iloc[0])))


def chain_row(figures: pd.DataFrame, chain: str, rule: dict | None, lang: str, tz: str) -> list:
    """The key figures of ``chain``, its headline first: a card each, or a line saying there are none."""
    shown = business.chain_figures(figures, chain)
    if not shown:
        return [html.Div(t("business.none", lang), className="oc-biz-none")]
    headline = rule["metric"] if rule else None
    shown.sort(key=lambda f: f["metric"] != headline)
    newest = max(f["at"] for f in shown)
    cards = []
    for figure in shown:
        metric, current = figure["metric"], figure["at"] >= newest - pd.Timedelta(minutes=business.CURRENT_MIN)
        lead = metric == headline
        status = business.status(metric, figure["value"], rule) if lead and current else "nodata"
        when = "" if current else t("business.last", lang, time=figure["at"].tz_convert(ZoneInfo(tz)).strftime("%H:%M"))
        cards.append(
            html.Div(
                [
                    html.Div(t(f"business.{metric}", lang), className="oc-biz-label"),
                    html.Div(value_text(metric, figure["value"]), className="oc-biz-value"),
                    html.Div(when or _worst(figures, chain, metric, lang), className="oc-biz-note"),
                    _trend(figure["values"]),
                ],
                className=f"oc-biz-card oc-{status}" + (" oc-biz-lead" if lead else ""),
                title=t("business.rule", lang, **_limits(metric, rule)) if lead else "",
                **{"data-metric": metric, "data-status": status},
            )
        )
    return cards


def _limits(metric: str, rule: dict) -> dict[str, str]:
    return {"warn": value_text(metric, rule["warn"]), "crit": value_text(metric, rule["crit"])}


def wall_headlines(rows: list[dict], layout: list[dict], lang: str, tz: ZoneInfo) -> list[list[str] | None]:
    """Per chain in the wall's ``layout``, its headline from the ``chain_business`` rows as the browser paints
    it (status, label, value, tooltip), None for a chain without one."""
    found = {row["chain"]: row for row in rows}
    painted = []
    for chain in layout:
        row = found.get(chain["chain"])
        if row is None:
            painted.append(None)
            continue
        metric, value = row["metric"], row["value"]
        text = value_text(metric, value)
        title = f"{t(f'business.{metric}', lang)} {text}"
        if row["status"] == "nodata" and not pd.isna(row["at"]):
            title += " · " + t("business.last", lang, time=pd.Timestamp(row["at"]).tz_convert(tz).strftime("%H:%M"))
        painted.append([row["status"], t(f"business.{metric}.short", lang), text, title])
    return painted
