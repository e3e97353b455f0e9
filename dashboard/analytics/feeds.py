"""The wall's market strip from ``feed_status``: per market, whether its feeds are live, late or quiet.

A feed is late when its market is live at the moment of the frame (``calendar.feed_live``: an auction or
continuous trading, a declared closure excepted) and its last tick is older than ``late_s``; outside a
session every feed's age grows, and the market is ``closed``, never late. A market live again for less
than ``late_s`` (at the open, after lunch) is not late yet: its feeds have had less than that to tick. A
site is late when its oldest feed is; the market names its late sites, the oldest first. Judged at the
frame's own time, so the poller and a worker computing the same view agree.
"""

from __future__ import annotations

import math

import pandas as pd

from dashboard.analytics.calendar import FEED_MARKETS, Closure, feed_live

LATE_S = 30.0  # the default of the config's ``health.feed_late_s``
COLUMNS = ("market", "state", "sites", "tick_age_s")


def _market_row(market: str, rows: pd.DataFrame, late_s: float, closures: tuple[Closure, ...]) -> tuple:
    if rows.empty:
        return (market, "nodata", "", math.nan)
    at = rows["ts"].max()
    if not feed_live(market, at.to_pydatetime(), closures):
        return (market, "closed", "", math.nan)
    oldest = rows[rows["ts"] == at].groupby("site")["tick_age_s"].max().dropna().sort_values(ascending=False)
    if oldest.empty:
        return (market, "nodata", "", math.nan)
    opened = not feed_live(market, (at - pd.Timedelta(seconds=late_s)).to_pydatetime(), closures)
    late = oldest.iloc[0:0] if opened else oldest[oldest > late_s]  # just live again: its first tick may yet come
    return (market, "late" if len(late) else "ok", ", ".join(late.index), float(oldest.iloc[0]))


def market_states(
    feed_status: pd.DataFrame, late_s: float = LATE_S, closures: tuple[Closure, ...] = ()
) -> pd.DataFrame:
    """One row per market of ``FEED_MARKETS`` in its order: market, state (ok, late, closed, nodata), the late
    sites (comma-separated, the oldest first; empty unless late) and the oldest tick age of a live market."""
    by_market = dict(tuple(feed_status.groupby("market"))) if len(feed_status) else {}
    empty = feed_status.iloc[0:0]
    rows = [_market_row(m, by_market.get(m, empty), late_s, closures) for m in FEED_MARKETS]
    return pd.DataFrame(rows, columns=list(COLUMNS))
