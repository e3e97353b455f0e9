"""Business figures: each chain's totals over time, its headline figure now and that figure's status.

A chain's total of a figure at a time is its row without dimensions; where a source gives only
breakdowns, rates (``*_per_s``) are summed and other figures take the worst breakdown (the lowest
ratio, the highest latency). The headline of a chain is the figure the config's ``health.business``
names for it, judged against its ``warn`` and ``crit`` thresholds: lower is worse when ``warn`` is
above ``crit`` (a success ratio), higher otherwise (a latency). A figure whose latest point is older
than ``CURRENT_MIN`` minutes before the frame's newest (no order flows: the market is closed) is
shown as it last was, with status ``nodata``.
"""

from __future__ import annotations

import pandas as pd

from datasources.base import BUSINESS_DIMENSIONS, BUSINESS_METRICS, empty_frame

CURRENT_MIN = 10
TREND_POINTS = 60  # the points of a figure's trend: its last hour at a minute's step
LOWER_IS_WORSE = ("order_success_ratio", "transfer_success_ratio", "orders_per_s", "transfers_per_s")
HEADLINE_COLUMNS = ("chain", "metric", "value", "status", "at")


def totals(figures: pd.DataFrame) -> pd.DataFrame:
    """Per (chain, metric, ts): the chain's total (ts, chain, metric, value), in time order."""
    if figures.empty:
        return pd.DataFrame({"ts": pd.Series(dtype="datetime64[ns, UTC]"), "chain": [], "metric": [], "value": []})
    whole = figures[list(BUSINESS_DIMENSIONS)].isna().all(axis=1)
    keys = ["chain", "metric", "ts"]
    given = figures.loc[whole, keys + ["value"]].drop_duplicates(keys, keep="last")
    parts = figures[~whole].merge(given[keys], on=keys, how="left", indicator=True)
    parts = parts[parts["_merge"] == "left_only"]
    summed = parts[parts["metric"].str.endswith("_per_s")].groupby(keys, as_index=False)["value"].sum()
    lower = parts["metric"].isin(LOWER_IS_WORSE) & ~parts["metric"].str.endswith("_per_s")
    lowest = parts[lower].groupby(keys, as_index=False)["value"].min()
    rest = parts[~lower & ~parts["metric"].str.endswith("_per_s")]
    highest = rest.groupby(keys, as_index=False)["value"].max()
    found = pd.concat([given, summed, lowest, highest], ignore_index=True)
    return found.sort_values(["chain", "metric", "ts"], kind="stable", ignore_index=True)[
        ["ts", "chain", "metric", "value"]
    ]


def status(metric: str, value: float, rule: dict) -> str:
    """``ok``, ``warn`` or ``crit`` for ``value`` against the rule's ``warn`` and ``crit`` thresholds."""
    warn, crit = float(rule["warn"]), float(rule["crit"])
    lower_worse = warn > crit if warn != crit else metric in LOWER_IS_WORSE
    worse = (lambda limit: value < limit) if lower_worse else (lambda limit: value > limit)
    return "crit" if worse(crit) else "warn" if worse(warn) else "ok"


def headlines(figures: pd.DataFrame, rules: dict[str, dict]) -> pd.DataFrame:
    """Per chain named in ``rules`` (chain -> metric, warn, crit): its headline figure's latest value, when
    it was, and its status; chains without a point of it get a null value and ``nodata``."""
    found = totals(figures)
    newest = found["ts"].max() if len(found) else None
    rows = []
    for chain, rule in rules.items():
        series = found[(found["chain"] == chain) & (found["metric"] == rule["metric"])]
        if series.empty:
            rows.append((chain, rule["metric"], None, "nodata", pd.NaT))
            continue
        last = series.iloc[-1]
        current = last["ts"] >= newest - pd.Timedelta(minutes=CURRENT_MIN)
        judged = status(rule["metric"], float(last["value"]), rule) if current else "nodata"
        rows.append((chain, rule["metric"], float(last["value"]), judged, last["ts"]))
    frame = pd.DataFrame(rows, columns=list(HEADLINE_COLUMNS))
    frame["value"] = frame["value"].astype("float64")
    frame["at"] = pd.to_datetime(frame["at"], utc=True).astype("datetime64[ns, UTC]")
    return frame if len(frame) else empty_frame("chain_business")


def chain_figures(figures: pd.DataFrame, chain: str) -> list[dict]:
    """The chain's figures for its page, in ``BUSINESS_METRICS`` order: metric, latest value, when, and the
    trend (the last ``TREND_POINTS`` totals as ts and value lists)."""
    found = totals(figures[figures["chain"] == chain])
    shown = []
    for metric in BUSINESS_METRICS:
        series = found[found["metric"] == metric].tail(TREND_POINTS)
        if len(series):
            shown.append(
                {
                    "metric": metric,
                    "value": float(series["value"].iloc[-1]),
                    "at": series["ts"].iloc[-1],
                    "ts": series["ts"].tolist(),
                    "values": series["value"].tolist(),
                }
            )
    return shown


def breakdown(figures: pd.DataFrame, chain: str, metric: str, dimension: str) -> pd.DataFrame:
    """The latest value of ``metric`` per value of ``dimension`` on ``chain`` (summed over the other
    dimensions for rates, else the worst), worst first: dimension, value."""
    rows = figures[(figures["chain"] == chain) & (figures["metric"] == metric) & figures[dimension].notna()]
    if rows.empty:
        return pd.DataFrame({dimension: [], "value": []})
    rows = rows[rows["ts"] == rows["ts"].max()]
    lower = metric in LOWER_IS_WORSE
    grouped = rows.groupby(dimension)["value"]
    if metric.endswith("_per_s"):
        values = grouped.sum()
    else:
        values = grouped.min() if lower else grouped.max()
    return values.sort_values(ascending=lower).reset_index()
