"""Change freezes: which changes and chaos runs ran while they should not have.

A change is frozen out while its service's market is in session (``Rules.sessions``: from the first phase
of a trading day to its close, the lunch break included, declared closures left out; a futures night
session for a service of the ``futures`` market) and during the freeze windows the config names (the
trading days before a long holiday, an index rebalancing day), each for every service or only for those
of its ``markets`` and on its ``chains``. A change counts from its actual start to its actual end; one not
started yet, or still running, to its planned end (planned times when it has not started). A change that
was cancelled or closed without starting never ran and is left out.

Emergency changes are listed but not flagged: they are the remedy, not the risk. Standard changes are
flagged like normal ones: pre-approval says how to make the change, not when, and a freeze stops them
too. A chaos run (from its start to its end, or its start while running) is flagged the same way.
A breach names the first freeze it fell in: a named window before a market's session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from dashboard.analytics import calendar
from datasources.base import CONTRACTS, empty_frame

COLUMNS = tuple(c.name for c in CONTRACTS["freeze_breaches"])
MARKET_NAMES = (*calendar.MARKETS, "futures")  # the markets a service may belong to
NEVER_RAN = ("cancelled", "closed")  # change states that, without an actual start, mean it was not made
MAX_DAYS = 400  # the days of sessions looked at, at most, ending with the latest end


@dataclass(frozen=True)
class Window:
    """A named freeze from ``start`` to ``end`` (tz-aware), for the services of ``markets`` on ``chains``
    (empty: every market, every chain)."""

    name: str
    start: datetime
    end: datetime
    markets: tuple[str, ...] = ()
    chains: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    """What is frozen: the sessions of each service's market (``market``, or its own in ``service_markets``)
    when ``sessions``, and the ``windows``; ``markets`` the market definitions shown (the futures night with
    its configured hours), ``closures`` those declared now."""

    sessions: bool = True
    windows: tuple[Window, ...] = ()
    market: str = "cn"
    service_markets: dict[str, str] = field(default_factory=dict)
    markets: dict[str, calendar.Market] = field(default_factory=dict)
    closures: tuple[calendar.Closure, ...] = ()

    def market_of(self, service) -> str:
        return self.service_markets.get(service, self.market) if isinstance(service, str) else self.market

    def spec(self, key: str) -> calendar.Market:
        if key in self.markets:
            return self.markets[key]
        return calendar.futures_night() if key == "futures" else calendar.market(key)


def _ns(stamps: pd.Series) -> np.ndarray:
    return pd.to_datetime(stamps, utc=True).to_numpy(dtype="datetime64[ns]").astype("int64")


def overlapping(starts: np.ndarray, ends: np.ndarray, span_starts: np.ndarray, span_ends: np.ndarray) -> np.ndarray:
    """Whether each interval [start, end) (nanoseconds; the moment ``start`` when they are equal) meets one of the
    sorted, disjoint spans [span_start, span_end)."""
    if not len(span_starts):
        return np.zeros(len(starts), dtype=bool)
    after = np.searchsorted(span_ends, starts, side="right")  # the first span ending after the start
    found = after < len(span_starts)
    first = span_starts[np.minimum(after, len(span_starts) - 1)]
    return found & ((first < ends) | ((starts == ends) & (first <= starts)))


def _in_sessions(rules: Rules, markets: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    hit = np.zeros(len(starts), dtype=bool)
    for key in np.unique(markets):
        rows = markets == key
        spec = rules.spec(str(key))
        last = pd.Timestamp(ends[rows].max(), tz="UTC").tz_convert(spec.tz)
        first = max(pd.Timestamp(starts[rows].min(), tz="UTC").tz_convert(spec.tz), last - pd.Timedelta(days=MAX_DAYS))
        spans = calendar.session_spans(spec, (first - pd.Timedelta(days=1)).date(), last.date(), rules.closures)
        span_starts = np.array([s.value for s, _ in spans], dtype="int64")
        span_ends = np.array([e.value for _, e in spans], dtype="int64")
        hit[rows] = overlapping(starts[rows], ends[rows], span_starts, span_ends)
    return hit


def _window_applies(window: Window, services: pd.Series, markets: np.ndarray, chains: pd.DataFrame) -> np.ndarray:
    applies = np.ones(len(services), dtype=bool)
    if window.markets:
        applies &= np.isin(markets, window.markets)
    if window.chains:
        on = chains.loc[chains["chain"].isin(window.chains), "service"].unique()
        applies &= services.isin(on).to_numpy()
    return applies


def classify(
    kind: str, rows: pd.DataFrame, starts: pd.Series, ends: pd.Series, rules: Rules, chains: pd.DataFrame
) -> pd.DataFrame:
    """The breaches among ``rows`` (of ``kind``) running from ``starts`` to ``ends``: rows with ``id``, ``title``,
    ``type`` and ``source``, ``service`` and ``url`` columns."""
    known = starts.notna().to_numpy()
    rows, starts, ends = rows[known], starts[known], ends[known]
    if rows.empty:
        return empty_frame("freeze_breaches")
    start_ns = _ns(starts)
    end_ns = np.maximum(_ns(ends.fillna(starts)), start_ns)
    services = rows["service"].reset_index(drop=True)
    markets = np.array([rules.market_of(s) for s in services], dtype=object)
    reason = np.full(len(rows), None, dtype=object)
    name = np.full(len(rows), None, dtype=object)
    for window in rules.windows:
        span = np.array([pd.Timestamp(window.start).value]), np.array([pd.Timestamp(window.end).value])
        inside = overlapping(start_ns, end_ns, *span)
        hit = inside & _window_applies(window, services, markets, chains) & (reason == None)  # noqa: E711
        reason[hit], name[hit] = "window", window.name
    if rules.sessions:
        hit = _in_sessions(rules, markets, start_ns, end_ns) & (reason == None)  # noqa: E711
        reason[hit], name[hit] = "session", markets[hit]
    found = reason != None  # noqa: E711
    frozen = rows[found].reset_index(drop=True)
    return pd.DataFrame(
        {
            "kind": kind,
            "id": frozen["id"].astype(str),
            "source": frozen["source"],
            "title": frozen["title"],
            "service": frozen["service"],
            "type": frozen["type"],
            "reason": reason[found],
            "freeze": name[found],
            "flagged": (frozen["type"] != "emergency").to_numpy(dtype=bool),
            "ts": pd.to_datetime(starts[found], utc=True).reset_index(drop=True),
            "url": frozen["url"],
        },
        columns=list(COLUMNS),
    )


def change_breaches(changes: pd.DataFrame, rules: Rules, chains: pd.DataFrame) -> pd.DataFrame:
    """The changes made (or planned) during a freeze, emergency ones not flagged."""
    ran = changes["actual_start"].notna() | ~changes["state"].isin(NEVER_RAN)
    changes = changes[ran]
    starts = changes["actual_start"].fillna(changes["planned_start"])
    ends = changes["actual_end"].where(changes["actual_end"].notna(), changes["planned_end"])
    rows = changes.rename(columns={"change_id": "id"})
    return classify("change", rows, starts, ends, rules, chains)


def chaos_breaches(runs: pd.DataFrame, rules: Rules, chains: pd.DataFrame) -> pd.DataFrame:
    """The chaos runs made during a freeze, every one flagged."""
    runs = runs[runs["status"] != "not_run"]
    rows = runs.rename(columns={"run_id": "id"}).assign(title=runs["experiment"], type=None)
    return classify("chaos", rows, runs["started_at"], runs["ended_at"], rules, chains)


def breaches(changes: pd.DataFrame, runs: pd.DataFrame, chains: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """The ``freeze_breaches`` frame: the changes and chaos runs made during a freeze, newest first."""
    found = [f for f in (change_breaches(changes, rules, chains), chaos_breaches(runs, rules, chains)) if len(f)]
    if not found:
        return empty_frame("freeze_breaches")
    return pd.concat(found, ignore_index=True).sort_values("ts", ascending=False, kind="stable").reset_index(drop=True)


def recent(breaches: pd.DataFrame, now: pd.Timestamp, days: int = 30) -> pd.DataFrame:
    """The breaches started in the ``days`` up to ``now``."""
    return breaches[(breaches["ts"] > now - pd.Timedelta(days=days)) & (breaches["ts"] <= now)]
