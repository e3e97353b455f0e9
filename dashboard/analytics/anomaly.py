"""Anomaly detection on service and resource metrics, with a trading-calendar baseline.

A point is compared with history in the same *condition*: the A-share phase it falls in
(``calendar.PHASES``: call auctions, morning, lunch, afternoon, closed -- weekends, exchange
holidays and the closures an administrator declares (``calendar.Closure``: a typhoon signal, a
market-wide halt) are closed, so a holiday morning is judged with closed days, not as a missing
morning session) and the market's
activity level at that moment (the estate's request rate relative to its usual level,
binned on a log scale). The 09:30 open is compared with previous opens, a quiet lunch
break with previous lunch breaks. The baseline is the median of the condition's history
and its spread the MAD, on a log scale for positive, multiplicative metrics (latency,
error ratio, request rate). Plain time-of-day slots are not used: a problem that recurs
at the same time every day (a batch job, the demo's scripted cycle) would become its
own baseline.

A run of at least ``MIN_POINTS`` consecutive points beyond ``THRESHOLD`` robust
standard deviations is one anomaly (a row of the ``anomalies`` frame).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.analytics.calendar import Closure, session_codes
from datasources.base import empty_frame, validate

MARKET = "cn"
THRESHOLD = 6.0
MIN_POINTS = 3
ONE_MINUTE = pd.Timedelta(minutes=1)
MIN_HISTORY = 5  # points of history a condition needs before it judges anything
LEVEL_WIDTH = 0.15  # activity bins, in natural-log units
MAD_TO_SIGMA = 1.4826
TRIM = 3.0  # history beyond this many sigmas of the first estimate is left out of the baseline
SERVICES_PER_BATCH = 50  # services whose baselines are learnt together


@dataclass(frozen=True)
class Metric:
    """How one metric column is judged."""

    frame: str
    column: str
    log_offset: float | None  # judged as log(value + offset); None: on its own scale
    floor: float  # smallest spread (robust sigma) on the judged scale
    directions: tuple[str, ...]


METRICS = (
    Metric("service_metrics", "requests_per_s", 0.1, 0.05, ("up", "down")),
    Metric("service_metrics", "error_ratio", 1e-4, 0.3, ("up",)),
    Metric("service_metrics", "latency_p95_ms", 0.1, 0.05, ("up",)),
    Metric("service_metrics", "latency_p99_ms", 0.1, 0.05, ("up",)),
    Metric("resource_metrics", "cpu_ratio", None, 0.02, ("up", "down")),
    Metric("resource_metrics", "memory_ratio", None, 0.01, ("up",)),
)
_BY_COLUMN = {m.column: m for m in METRICS}
KEYS = ["service", "instance", "metric", "session", "level"]


def typical_rates(service_metrics: pd.DataFrame) -> pd.Series:
    """Each service's median request rate: the yardstick of market activity."""
    return service_metrics.groupby("service")["requests_per_s"].median().replace(0, np.nan)


def activity(service_metrics: pd.DataFrame, typical: pd.Series) -> pd.Series:
    """Market activity per timestamp: the median over services of their rate relative to ``typical``."""
    if service_metrics.empty:
        return pd.Series(dtype="float64")
    relative = service_metrics["requests_per_s"] / service_metrics["service"].map(typical)
    return relative.groupby(service_metrics["ts"]).median().rename("activity")


def long_points(service_metrics: pd.DataFrame, resource_metrics: pd.DataFrame) -> pd.DataFrame:
    """Every judged metric as rows of ts, service, instance ('' for a service), metric, value."""
    parts = []
    for name, frame in (("service_metrics", service_metrics), ("resource_metrics", resource_metrics)):
        columns = [m.column for m in METRICS if m.frame == name and m.column in frame]
        if frame.empty or not columns:
            continue
        ids = ["ts", "service"] + (["instance"] if name == "resource_metrics" else [])
        melted = frame[ids + columns].melt(id_vars=ids, var_name="metric", value_name="value")
        if "instance" not in melted:
            melted["instance"] = ""
        parts.append(melted.dropna(subset=["value"]))
    if not parts:
        return pd.DataFrame(columns=["ts", "service", "instance", "metric", "value"])
    return pd.concat(parts, ignore_index=True)


def _per_metric(metric: pd.Series, value_of: Callable[[Metric], float]) -> np.ndarray:
    """``value_of`` each row's metric, worked out once per distinct metric (NaN for an unknown one)."""
    codes, names = pd.factorize(metric)
    table = [value_of(_BY_COLUMN[name]) if name in _BY_COLUMN else np.nan for name in names]
    return np.array(table + [np.nan], dtype="float64")[codes]


def _log_offset(metric: Metric) -> float:
    return np.nan if metric.log_offset is None else metric.log_offset


def _judged(values: pd.Series, offsets: np.ndarray) -> np.ndarray:
    """Values on the scale they are judged on (``offsets``: each row's ``_log_offset``)."""
    out = values.to_numpy(dtype="float64").copy()
    logged = ~np.isnan(offsets)
    out[logged] = np.log(np.maximum(out[logged], 0) + offsets[logged])
    return out


def _conditions(points: pd.DataFrame, level: pd.Series, closures: tuple[Closure, ...]) -> pd.DataFrame:
    """Add the session (closed within ``closures``) and the activity bin of each point's timestamp."""
    stamps = pd.DatetimeIndex(points["ts"])
    points = points.assign(session=session_codes(MARKET, stamps, closures))
    bins = np.round(np.log(level.clip(lower=1e-3)) / LEVEL_WIDTH)
    points["level"] = stamps.map(bins).to_numpy(dtype="float64")
    return points.dropna(subset=["level"])


def _robust(judged: np.ndarray, group: np.ndarray, groups: int, floors: np.ndarray) -> tuple[np.ndarray, ...]:
    """Median, robust sigma and size of ``judged`` per group number."""
    by_group = pd.Series(judged).groupby(group)
    median = by_group.median().reindex(range(groups)).to_numpy()
    mad = pd.Series(np.abs(judged - median[group])).groupby(group).median().reindex(range(groups)).to_numpy()
    size = by_group.size().reindex(range(groups), fill_value=0).to_numpy()
    return median, np.maximum(mad * MAD_TO_SIGMA, floors), size


def baseline(history: pd.DataFrame, level: pd.Series, closures: tuple[Closure, ...] = ()) -> pd.DataFrame:
    """Median and robust sigma per series and condition, from ``long_points`` of history (``closures``: the
    declared closures it spans).

    Two passes: points beyond ``TRIM`` sigmas of the first estimate (past anomalies, which
    may recur often enough to widen the spread) are left out of the second.
    """
    if history.empty:
        return pd.DataFrame(columns=KEYS + ["median", "sigma"])
    points = _conditions(history, level, closures)
    judged = _judged(points["value"], _per_metric(points["metric"], _log_offset))
    grouping = points.groupby(KEYS, sort=False)
    group, keys = grouping.ngroup().to_numpy(), grouping.size().reset_index()[KEYS]
    floors = _per_metric(keys["metric"], lambda m: m.floor)
    median, sigma, _size = _robust(judged, group, len(keys), floors)
    typical = np.abs(judged - median[group]) <= TRIM * sigma[group]
    median, sigma, size = _robust(judged[typical], group[typical], len(keys), floors)
    stats = keys.assign(median=median, sigma=sigma)
    return stats[size >= MIN_HISTORY].reset_index(drop=True)


def _unjudge(offsets: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """Judged values back on the metrics' own scale."""
    logged = ~np.isnan(offsets)
    out = np.asarray(judged, dtype="float64").copy()
    out[logged] = np.maximum(np.exp(out[logged]) - offsets[logged], 0.0)
    return out


def score(
    recent: pd.DataFrame, level: pd.Series, base: pd.DataFrame, closures: tuple[Closure, ...] = ()
) -> pd.DataFrame:
    """Each recent point with its baseline, band (``THRESHOLD`` sigmas) and signed score."""
    columns = ["ts", "service", "instance", "metric", "value", "baseline", "low", "high", "score"]
    if recent.empty or base.empty:
        return pd.DataFrame(columns=columns)
    points = _conditions(recent, level, closures).merge(base, on=KEYS, how="inner")
    offsets = _per_metric(points["metric"], _log_offset)
    median, sigma = points["median"].to_numpy(), points["sigma"].to_numpy()
    points["score"] = (_judged(points["value"], offsets) - median) / sigma
    band = THRESHOLD * sigma
    points["baseline"] = _unjudge(offsets, median)
    points["low"] = _unjudge(offsets, median - band)
    points["high"] = _unjudge(offsets, median + band)
    return points[columns].sort_values(["service", "instance", "metric", "ts"], kind="stable").reset_index(drop=True)


def detect(scored: pd.DataFrame, step: pd.Timedelta = ONE_MINUTE) -> pd.DataFrame:
    """Runs of ``MIN_POINTS`` or more consecutive points beyond the threshold, as the anomalies frame."""
    if scored.empty:
        return empty_frame("anomalies")
    score = scored["score"].to_numpy()
    up = (score >= THRESHOLD) & (_per_metric(scored["metric"], lambda m: "up" in m.directions) > 0)
    down = (score <= -THRESHOLD) & (_per_metric(scored["metric"], lambda m: "down" in m.directions) > 0)
    direction = np.where(up, "up", np.where(down, "down", ""))
    new_series = np.zeros(len(scored), dtype=bool)
    for column in ("service", "instance", "metric"):
        new_series |= (scored[column] != scored[column].shift()).to_numpy()
    gap = scored["ts"].diff() > step * 1.5
    new_run = (direction != np.roll(direction, 1)) | new_series | gap.to_numpy()
    new_run[0] = True
    flagged = scored.assign(direction=direction, run=np.cumsum(new_run), size=abs(scored["score"]))
    flagged = flagged[flagged["direction"] != ""]
    if flagged.empty:
        return empty_frame("anomalies")
    peak = flagged.loc[flagged.groupby("run")["size"].idxmax()].set_index("run")
    runs = flagged.groupby("run").agg(start=("ts", "min"), last=("ts", "max"), points=("ts", "size"))
    runs = runs.join(peak[["service", "instance", "metric", "value", "baseline", "low", "high", "score", "direction"]])
    runs = runs[runs["points"] >= MIN_POINTS]
    frame = pd.DataFrame(
        {
            "start": runs["start"],
            "end": runs["last"] + step,
            "service": runs["service"].astype(str),
            "instance": runs["instance"].where(runs["instance"] != "", None),
            "metric": runs["metric"].astype(str),
            **{c: runs[c].astype("float64") for c in ("value", "baseline", "low", "high", "score")},
            "direction": runs["direction"].astype(str),
        }
    )
    frame["instance"] = frame["instance"].astype(object)
    return validate("anomalies", frame.sort_values(["start", "service"], kind="stable").reset_index(drop=True))


@dataclass(frozen=True)
class Model:
    """What history teaches: the baseline per series and condition, and the services' usual rates."""

    base: pd.DataFrame
    typical: pd.Series


def learn(
    history: dict[str, pd.DataFrame], batch: int = SERVICES_PER_BATCH, closures: tuple[Closure, ...] = ()
) -> Model:
    """The model from history's ``service_metrics`` and ``resource_metrics`` (``closures``: the declared
    closures it spans).

    Baselines are per series, so they are learnt ``batch`` services at a time: the long
    form of a week of a large estate's metrics never exists whole.
    """
    service_metrics = history.get("service_metrics", empty_frame("service_metrics"))
    resource_metrics = history.get("resource_metrics", empty_frame("resource_metrics"))
    typical = typical_rates(service_metrics)
    level = activity(service_metrics, typical)
    services = pd.Index(service_metrics["service"].unique()).union(resource_metrics["service"].unique())
    batch_of = pd.Series(np.arange(len(services)) // batch, index=services)
    frames = (service_metrics, resource_metrics)
    rows = [frame.groupby(frame["service"].map(batch_of), sort=False).indices for frame in frames]
    none = np.array([], dtype=np.intp)
    parts = [  # each batch's rows taken as it comes: history is never held twice
        baseline(long_points(*(f.take(r.get(b, none)) for f, r in zip(frames, rows))), level, closures)
        for b in range(-(-len(services) // batch))
    ]
    base = pd.concat(parts, ignore_index=True) if parts else baseline(pd.DataFrame(), level)
    return Model(base, typical)


def spacing(frames: list[pd.DataFrame]) -> pd.Timedelta:
    """The step between the points of ``frames`` (a source's resolution: the smallest gap between two
    timestamps); one minute when no two points tell."""
    stamps = pd.concat([frame["ts"] for frame in frames if len(frame)] or [pd.Series(dtype="datetime64[ns, UTC]")])
    gaps = stamps.drop_duplicates().sort_values().diff().dropna()
    return gaps.min() if len(gaps) else pd.Timedelta(minutes=1)


def find(model: Model, recent: dict[str, pd.DataFrame], closures: tuple[Closure, ...] = ()) -> pd.DataFrame:
    """The anomalies frame of the ``recent`` metric frames, their runs at the frames' own step (``closures``:
    the declared closures they span)."""
    service_metrics = recent.get("service_metrics", empty_frame("service_metrics"))
    resource_metrics = recent.get("resource_metrics", empty_frame("resource_metrics"))
    level = activity(service_metrics, model.typical)
    step = spacing([service_metrics, resource_metrics])
    return detect(score(long_points(service_metrics, resource_metrics), level, model.base, closures), step)


def for_service(anomalies: pd.DataFrame, service: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """The anomalies of one service (its instances included) overlapping [start, end]."""
    keep = (anomalies["service"] == service) & (anomalies["end"] >= start) & (anomalies["start"] <= end)
    return anomalies[keep]
