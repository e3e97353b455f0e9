"""Service level objectives per business chain, counted over trading sessions only (definitions: docs/slo.md).

A chain has two objectives. **availability**: its events are the requests its steps serve (each step's
requests per second times the sample's seconds) and the bad ones those its steps fail (times the step's error
ratio), so a chain's error ratio is the requests-weighted error ratio of its steps. **latency**: its events are
session minutes, each sample counting its step's minutes, bad when any step's p99 is over the chain's
``latency_p99_ms``. A sample thus weighs its step (the median gap between the samples given), and an hour
read at a coarser step (the backfill's, from a source's history) counts about the events a poll's one-minute
samples count: the two views of an hour compare, and the fuller is kept. Only samples taken while the
chain's market is in a trading phase count (``calendar.in_session``: not the lunch break, nights, weekends,
holidays or declared closures); an outage at night consumes no budget.

The budget of an objective is ``(1 - target)`` of the events of the last ``window_days``; what is left is
``1 - bad / budget`` (below 0: overspent). The burn rate over a window is the window's bad ratio over
``1 - target`` (1: the budget lasts exactly the period); windows are clock time ending at ``now``, and a
window without session events has no burn rate. An alert is raised, as the SRE workbook's multi-window
alerts are, when both its long and its short window burn at least its rate (14.4x over 1 h and 5 min:
page; 6x over 6 h and 30 min: ticket); an objective without events in the budget's window has no alert to
judge but ``nodata`` (nothing measured is not "none raised"). Everything here is a pure function of the
``service_metrics`` and ``chains`` frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard.analytics import calendar

OBJECTIVES = ("availability", "latency")
ALERTS = ("none", "ticket", "page")  # least urgent first
NO_DATA = "nodata"  # the alert of an objective without events in the budget's window
ALERT_STATUS = {NO_DATA: "nodata", "none": "ok", "ticket": "warn", "page": "crit"}  # an alert's status shape
BURN_WINDOWS_MIN = (5, 30, 60, 360)  # the windows the status carries a burn rate for
EVENT_COLUMNS = ["chain", "objective", "ts", "total", "bad"]
DAY_COLUMNS = ["chain", "objective", "day", "total", "bad"]
LOW_BUDGET = 0.25  # under this share of the budget left, a chain's badge turns amber
ORDER = ("ok", "warn", "crit")  # the badge's statuses, least urgent first


@dataclass(frozen=True)
class BurnAlert:
    """Raised as ``severity`` when the burn rate over both ``long_min`` and ``short_min`` is at least ``burn``."""

    severity: str
    burn: float
    long_min: int
    short_min: int


@dataclass(frozen=True)
class Objectives:
    """One chain's objectives: the market whose sessions count, the availability target (a ratio), the p99
    ceiling in ms and the share of session minutes that must keep under it."""

    market: str = "cn"
    availability: float = 0.995
    latency_p99_ms: float = 500.0
    latency_target: float = 0.99

    def target(self, objective: str) -> float:
        return self.availability if objective == "availability" else self.latency_target


@dataclass(frozen=True)
class SloSettings:
    """The ``slo:`` section: the default objectives, each chain's own, the budget window and the alerts."""

    default: Objectives = field(default_factory=Objectives)
    chains: dict[str, Objectives] = field(default_factory=dict)
    window_days: int = 30
    alerts: tuple[BurnAlert, ...] = (BurnAlert("page", 14.4, 60, 5), BurnAlert("ticket", 6.0, 360, 30))

    def of(self, chain: str) -> Objectives:
        return self.chains.get(chain, self.default)


def _step_s(stamps: pd.Series) -> float:
    """The sampling step of ``stamps`` in seconds: the median gap between distinct stamps (60 for one)."""
    distinct = np.unique(pd.DatetimeIndex(stamps).asi8)
    return float(np.median(np.diff(distinct)) / 1e9) if len(distinct) > 1 else 60.0


def events(metrics: pd.DataFrame, chains: pd.DataFrame, settings: SloSettings, closures: tuple = ()) -> pd.DataFrame:
    """Each chain's in-session events per sample: ``chain, objective, ts, total, bad`` (availability in
    requests, latency in minutes)."""
    steps = chains[["chain", "service"]].drop_duplicates()
    rows = steps.merge(metrics[["ts", "service", "requests_per_s", "error_ratio", "latency_p99_ms"]], on="service")
    if rows.empty:  # no chain, no metrics, or metrics of services on no chain (another source's estate)
        return pd.DataFrame(columns=EVENT_COLUMNS).astype({"total": float, "bad": float})
    step_s = _step_s(metrics["ts"])
    rows["requests"] = rows["requests_per_s"].fillna(0.0).clip(lower=0.0) * step_s
    rows["failed"] = rows["requests"] * rows["error_ratio"].fillna(0.0).clip(0.0, 1.0)
    per = rows.groupby(["chain", "ts"], sort=True).agg(
        requests=("requests", "sum"), failed=("failed", "sum"), p99=("latency_p99_ms", "max")
    )
    per = per.reset_index()
    objectives = {chain: settings.of(chain) for chain in per["chain"].unique()}
    ceiling = per["chain"].map({c: o.latency_p99_ms for c, o in objectives.items()}).astype(float)
    keep = np.zeros(len(per), dtype=bool)
    for market in {o.market for o in objectives.values()}:
        mine = per["chain"].map({c: o.market == market for c, o in objectives.items()}).to_numpy(dtype=bool)
        stamps = pd.DatetimeIndex(per.loc[mine, "ts"].array)
        keep[mine] = calendar.in_session(calendar_market(market), stamps, closures)
    per, ceiling = per[keep], ceiling[keep]
    minutes = step_s / 60.0
    availability = per.assign(objective="availability", total=per["requests"], bad=per["failed"])
    latency = per.assign(objective="latency", total=minutes, bad=np.where(per["p99"] > ceiling, minutes, 0.0))
    out = pd.concat([availability[EVENT_COLUMNS], latency[EVENT_COLUMNS]], ignore_index=True)
    return out.astype({"total": float, "bad": float})


def calendar_market(key: str) -> calendar.Market:
    """The trading calendar's market of ``key``: ``cn``, ``hk`` or ``futures`` (its default night session)."""
    return calendar.futures_night() if key == "futures" else calendar.market(key)


def hourly(frame: pd.DataFrame) -> pd.DataFrame:
    """``events`` summed per chain, objective and UTC hour: ``chain, objective, hour, total, bad``."""
    hours = frame.assign(hour=pd.DatetimeIndex(frame["ts"]).floor("h"))
    out = hours.groupby(["chain", "objective", "hour"], as_index=False)[["total", "bad"]].sum()
    return out[["chain", "objective", "hour", "total", "bad"]]


def merge_hours(stored: pd.DataFrame, recent: pd.DataFrame) -> pd.DataFrame:
    """Stored and recent hours together; where both hold an hour, the fuller view (more events) wins."""
    both = pd.concat([stored, recent], ignore_index=True).sort_values("total", kind="stable")
    return both.drop_duplicates(["chain", "objective", "hour"], keep="last").sort_values(
        ["chain", "objective", "hour"], ignore_index=True
    )


def daily(hours: pd.DataFrame, settings: SloSettings) -> pd.DataFrame:
    """Hours summed per local day of each chain's market (the day's start, in UTC): ``DAY_COLUMNS``."""
    zones = hours["chain"].map(lambda c: calendar_market(settings.of(c).market).tz)
    days = pd.Series(pd.NaT, index=hours.index, dtype="datetime64[ns, UTC]")
    for zone in zones.unique():
        mine = zones == zone
        days[mine] = pd.DatetimeIndex(hours.loc[mine, "hour"].array).tz_convert(zone).normalize().tz_convert("UTC")
    out = hours.assign(day=days).groupby(["chain", "objective", "day"], as_index=False)[["total", "bad"]].sum()
    return out[DAY_COLUMNS].astype({"total": float, "bad": float})


def window(days: pd.DataFrame, now: pd.Timestamp, settings: SloSettings) -> pd.DataFrame:
    """The rows of ``days`` in the budget's window: the ``window_days`` local days ending with today."""
    return days[days["day"] > now - pd.Timedelta(days=settings.window_days)]


def burn_rates(frame: pd.DataFrame, now: pd.Timestamp, settings: SloSettings, minutes: int) -> pd.Series:
    """The burn rate of each (chain, objective) over the ``minutes`` ending at ``now``: the window's bad ratio
    over ``1 - target``; NaN when the window holds no session events."""
    inside = frame[(frame["ts"] > now - pd.Timedelta(minutes=minutes)) & (frame["ts"] <= now)]
    sums = inside.groupby(["chain", "objective"])[["total", "bad"]].sum()
    ratio = (sums["bad"] / sums["total"]).where(sums["total"] > 0)
    allowed = pd.Series([1 - settings.of(c).target(o) for c, o in sums.index], index=sums.index, dtype=float)
    return ratio / allowed


def alert(burns: dict[int, float], alerts: tuple[BurnAlert, ...]) -> str:
    """The most urgent of ``alerts`` whose long and short windows both burn at least its rate (``burns``: burn
    rate per window in minutes); ``none`` otherwise."""
    raised = [
        a.severity
        for a in alerts
        if burns.get(a.long_min, np.nan) >= a.burn and burns.get(a.short_min, np.nan) >= a.burn
    ]
    return max(raised, key=ALERTS.index, default="none")


def status(
    recent: pd.DataFrame, days: pd.DataFrame, chains: pd.DataFrame, now: pd.Timestamp, settings: SloSettings
) -> pd.DataFrame:
    """``slo_status``: per chain and objective its target, the window's events and bad events (from ``days``),
    the budget left (a ratio of the budget; NaN without events), the burn rates over ``BURN_WINDOWS_MIN``
    (from ``recent``, the ``events`` of the polled window) and the alert raised (``NO_DATA`` without events)."""
    windows = sorted({*BURN_WINDOWS_MIN, *(m for a in settings.alerts for m in (a.long_min, a.short_min))})
    burns = {m: burn_rates(recent, now, settings, m) for m in windows}
    spent = window(days, now, settings).groupby(["chain", "objective"])[["total", "bad"]].sum()
    rows = []
    for chain in chains["chain"].drop_duplicates():
        goals = settings.of(chain)
        for objective in OBJECTIVES:
            key = (chain, objective)
            total, bad = (float(spent.at[key, c]) for c in ("total", "bad")) if key in spent.index else (0.0, 0.0)
            allowed = (1 - goals.target(objective)) * total
            per_window = {m: float(b.get(key, np.nan)) for m, b in burns.items()}
            rows.append(
                {
                    "chain": chain,
                    "objective": objective,
                    "target": goals.target(objective),
                    "total": total,
                    "bad": bad,
                    "budget_left": 1 - bad / allowed if allowed > 0 else np.nan,
                    **{f"burn_{m}m": per_window[m] for m in BURN_WINDOWS_MIN},
                    "alert": alert(per_window, settings.alerts) if total > 0 else NO_DATA,
                }
            )
    columns = ["chain", "objective", "target", "total", "bad", "budget_left"]
    return pd.DataFrame(rows, columns=[*columns, *(f"burn_{m}m" for m in BURN_WINDOWS_MIN), "alert"])


def budget_status(left: float | None) -> str:
    """The status of a budget left: crit when spent, warn under ``LOW_BUDGET``, ok, nodata when unknown."""
    if left is None or pd.isna(left):
        return "nodata"
    return "crit" if left <= 0 else "warn" if left < LOW_BUDGET else "ok"


def badges(status: pd.DataFrame) -> dict[str, tuple[str, float | None, str]]:
    """Each chain's budget badge from the ``slo_status`` rows, in one pass over them: the status of its least
    budget left, raised to crit by a page and to warn by a ticket (nodata without events); that budget left;
    the most urgent alert (``NO_DATA`` when no objective of the chain has events)."""
    found: dict[str, tuple[float | None, str]] = {}
    for chain, left, alert in zip(status["chain"].tolist(), status["budget_left"].tolist(), status["alert"].tolist()):
        least, worst = found.get(chain, (None, NO_DATA))
        if left is not None and left == left:  # not NaN
            least = left if least is None else min(least, left)
        if alert in ALERTS:
            worst = alert if worst == NO_DATA else max(worst, alert, key=ALERTS.index)
        found[chain] = least, worst
    return {chain: _badge(least, alert) for chain, (least, alert) in found.items()}


def _badge(least: float | None, alert: str) -> tuple[str, float | None, str]:
    status, raised = budget_status(least), ALERT_STATUS[alert]
    if status != "nodata" and raised != "nodata" and ORDER.index(raised) > ORDER.index(status):
        status = raised
    return status, None if least is None else float(least), alert
