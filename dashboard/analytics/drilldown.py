"""Pure computations behind the drill-down pages: frames in, frames or small records out.

- Per-step statistics of a business chain over a window, and its bottleneck.
- A trace laid out as a waterfall: depth, offsets, self time, critical path.
- The "what made this call slow" verdict: the span with the most self time and whether
  its instance was saturated while it ran.
- The slowest and failed calls of a service, and the events drawn on its time axis.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.analytics.incidents import end_times

SATURATED_CPU = 0.85
SATURATED_MEMORY = 0.90
CALLS_SHOWN = 50
STAT_COLUMNS = ("requests_per_s", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_ratio")
_KEPT_SLOTS = 16
_kept: OrderedDict[tuple, tuple[tuple[pd.DataFrame, ...], object]] = OrderedDict()


# ---------------------------------------------------------------- row lookup


def _once(frames: tuple[pd.DataFrame, ...], what: str, compute):
    """``compute()``, once per ``frames`` objects (the store hands out one object per frame version, never
    changed): the latest few results are kept."""
    key = (*map(id, frames), what)
    hit = _kept.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], frames)):
        return hit[1]
    value = compute()
    _kept[key] = (frames, value)
    while len(_kept) > _KEPT_SLOTS:
        _kept.popitem(last=False)
    return value


def _positions(frame: pd.DataFrame, column: str) -> dict:
    """Row positions of each value of ``column``, computed once per frame object."""
    return _once((frame,), column, lambda: frame.groupby(column, sort=False).indices if len(frame) else {})


def rows_for(frame: pd.DataFrame, column: str, values) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` is one of ``values``, in frame order."""
    index = _positions(frame, column)
    found = [index[v] for v in values if v in index]
    return frame.take(np.sort(np.concatenate(found))) if found else frame.iloc[0:0]


def nanoseconds(instants: pd.Series) -> np.ndarray:
    """UTC instants as int64 nanoseconds; NaT as the smallest int64 (never within a window; not to be negated)."""
    return instants.to_numpy(dtype="datetime64[ns]").view("i8")


def within(frame: pd.DataFrame, column: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Rows whose ``column`` (UTC instants) falls in [start, end]."""
    stamps = nanoseconds(frame[column])
    return frame[(stamps >= start.value) & (stamps <= end.value)]


# ---------------------------------------------------------------- chains


def chain_steps(chains: pd.DataFrame, chain: str) -> pd.DataFrame:
    """The steps of ``chain`` in order (empty when the chain is unknown)."""
    return rows_for(chains, "chain", [chain]).sort_values("step", kind="stable").reset_index(drop=True)


def window_stats(metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per service over the rows given: mean requests/s, request-weighted error ratio and percentiles.

    Percentiles of a window cannot be recovered from per-interval percentiles; the
    request-weighted mean of them is what is shown (intervals without traffic count equally
    when the whole window had none).
    """
    if metrics.empty:
        return pd.DataFrame(columns=["service", *STAT_COLUMNS])
    codes, services = pd.factorize(metrics["service"])

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=values, minlength=len(services))

    rate = metrics["requests_per_s"].to_numpy(float)
    weights = np.clip(rate, 0.0, None)
    out = {"service": np.asarray(services, dtype=object), "requests_per_s": total(rate) / total(np.ones(len(rate)))}
    for column in STAT_COLUMNS[1:]:
        values = metrics[column].to_numpy(float)
        present = ~np.isnan(values)
        values = np.where(present, values, 0.0)
        weight, count = total(weights * present), total(present.astype(float))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[column] = np.where(weight > 0, total(values * weights) / weight, total(values) / count)
    return pd.DataFrame(out)


def step_stats(steps: pd.DataFrame, metrics: pd.DataFrame) -> pd.DataFrame:
    """Each step's statistics over ``metrics`` (the window's rows of the steps' services) plus its
    share of the chain's p95 latency and of its errors."""
    stats = window_stats(metrics).set_index("service").reindex(steps["service"]).reset_index()
    stats.insert(0, "step", steps["step"].to_numpy())
    for column, share in (("latency_p95_ms", "latency_share"), ("error_ratio", "error_share")):
        total = stats[column].sum(min_count=1)
        stats[share] = stats[column] / total if total and total > 0 else 0.0
    return stats


@dataclass(frozen=True)
class Bottleneck:
    """The step that holds the chain back, and why."""

    step: int
    service: str
    reason: str  # latency | errors | status (named by its rolled-up status alone)
    share: float
    now: bool = False  # from the latest minutes (``chainnow``), not the whole window


def bottleneck(stats: pd.DataFrame, error_targets: dict[str, float]) -> Bottleneck | None:
    """The step with the largest share of errors when any step breaks its error target, else of p95 latency."""
    breaking = stats["error_ratio"] > stats["service"].map(error_targets)
    reason, column = ("errors", "error_share") if breaking.any() else ("latency", "latency_share")
    shares = pd.to_numeric(stats[column], errors="coerce")
    if shares.isna().all() or not shares.max() > 0:
        return None
    row = stats.loc[shares.idxmax()]
    return Bottleneck(int(row["step"]), str(row["service"]), reason, float(row[column]))


# ---------------------------------------------------------------- traces


def _covered_ms(intervals: list[tuple[float, float]], low: float, high: float) -> float:
    """Length of the union of ``intervals`` clipped to [low, high]."""
    covered, reach = 0.0, low
    for a, b in sorted((max(a, low), min(b, high)) for a, b in intervals):
        if b <= reach:
            continue
        covered += b - max(a, reach)
        reach = b
    return covered


def trace_table(spans: pd.DataFrame) -> pd.DataFrame:
    """The spans in waterfall order (depth first, by start) with ``depth``, ``offset_ms``,
    ``end_ms``, ``self_ms`` and ``critical`` (on the critical path) columns.

    Self time is a span's duration minus the time covered by its children. The critical path
    starts at the longest root: from a span's end walking back, the child that finished last,
    then the child that finished last before that one started, and so on, recursively.
    A span whose parent is not in the trace is taken as a root.
    """
    s = spans.drop_duplicates("span_id").reset_index(drop=True)
    if s.empty:
        return s.assign(depth=[], offset_ms=[], end_ms=[], self_ms=[], critical=[])
    offset = ((s["start"] - s["start"].min()) / pd.Timedelta(milliseconds=1)).to_numpy(float)
    end = offset + s["duration_ms"].to_numpy(float)
    position = {span_id: i for i, span_id in enumerate(s["span_id"])}
    parent = [position.get(p) if isinstance(p, str) else None for p in s["parent_id"]]
    children: dict[int | None, list[int]] = {}
    for i, p in enumerate(parent):
        children.setdefault(p if p != i else None, []).append(i)
    for kids in children.values():
        kids.sort(key=lambda i: (offset[i], i))

    order, depth, stack = [], np.zeros(len(s), int), [(i, 0) for i in reversed(children.get(None, []))]
    while stack:
        i, d = stack.pop()
        order.append(i)
        depth[i] = d
        stack.extend((k, d + 1) for k in reversed(children.get(i, [])))

    self_ms = np.array(
        [
            end[i] - offset[i] - _covered_ms([(offset[k], end[k]) for k in children.get(i, [])], offset[i], end[i])
            for i in range(len(s))
        ]
    )

    critical = np.zeros(len(s), bool)
    roots = children.get(None, [])
    walk = [max(roots, key=lambda i: (end[i] - offset[i], -offset[i]))] if roots else []
    while walk:
        i = walk.pop()
        critical[i] = True
        cursor = end[i]
        for k in sorted(children.get(i, []), key=lambda k: -min(end[k], end[i])):
            if min(end[k], end[i]) <= cursor and offset[k] < cursor:
                walk.append(k)
                cursor = offset[k]

    s = s.assign(depth=depth, offset_ms=offset, end_ms=end, self_ms=self_ms, critical=critical)
    return s.iloc[order].reset_index(drop=True)


def trace_interval(table: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First start and last end of the trace's spans."""
    first = table["start"].min()
    return first, first + pd.Timedelta(milliseconds=float(table["end_ms"].max()))


@dataclass(frozen=True)
class Verdict:
    """What made a call slow: its span with the most self time, and that span's instance."""

    span_id: str
    service: str
    operation: str
    instance: str | None
    self_ms: float
    share: float  # of the whole call
    cpu_peak: float | None
    memory_peak: float | None

    @property
    def saturated(self) -> bool | None:
        """True or False when the instance's resources are known during the span, else None."""
        if self.cpu_peak is None and self.memory_peak is None:
            return None
        return bool((self.cpu_peak or 0) >= SATURATED_CPU or (self.memory_peak or 0) >= SATURATED_MEMORY)


def resource_peaks(
    resources: pd.DataFrame, instance: str, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[float | None, float | None]:
    """Peak CPU and memory ratios of ``instance`` over the samples that cover [start, end]
    (``resources``: the rows around the call, already narrowed).

    A sample stands for the interval up to its timestamp, so the first sample at or after
    ``end`` and every sample after ``start`` count.
    """
    rows = resources[resources["instance"] == instance]
    if rows.empty:
        return None, None
    stamps = rows["ts"]
    after_end = stamps[stamps >= end]
    last = after_end.min() if len(after_end) else stamps.max()
    covering = rows[(stamps > start) & (stamps <= last)] if last > start else rows.iloc[0:0]
    if covering.empty:
        return None, None
    cpu, memory = covering["cpu_ratio"].max(), covering["memory_ratio"].max()
    return (None if pd.isna(cpu) else float(cpu)), (None if pd.isna(memory) else float(memory))


def what_made_it_slow(table: pd.DataFrame, resources: pd.DataFrame) -> Verdict | None:
    """The verdict for a trace laid out by ``trace_table``; None for an empty trace."""
    if table.empty:
        return None
    row = table.loc[table["self_ms"].idxmax()]
    total = float(table["end_ms"].max() - table["offset_ms"].min()) or 1.0
    instance = row["instance"] if isinstance(row["instance"], str) else None
    cpu = memory = None
    if instance:
        start = row["start"]
        cpu, memory = resource_peaks(
            resources, instance, start, start + pd.Timedelta(milliseconds=float(row["duration_ms"]))
        )
    return Verdict(
        str(row["span_id"]),
        str(row["service"]),
        str(row["operation"]),
        instance,
        float(row["self_ms"]),
        float(row["self_ms"]) / total,
        cpu,
        memory,
    )


# ---------------------------------------------------------------- services


def slow_and_failed_calls(rows: pd.DataFrame, limit: int = CALLS_SHOWN, failed_first: bool = False) -> pd.DataFrame:
    """Of ``rows`` (one service's calls in the window), the ``limit`` slowest and the ``limit``
    latest failed calls, one row per trace, slowest first (the failed ones before the others when
    ``failed_first``). Picked on arrays: one selection of ``rows``, not pandas' cost per step."""
    duration = rows["duration_ms"].to_numpy(float)
    failed = (rows["status"] == "error").to_numpy()
    start = nanoseconds(rows["start"])
    dated = rows["start"].notna().to_numpy()
    picked = np.concatenate(
        [_largest(duration, np.arange(len(rows)), limit), _largest(start, np.flatnonzero(failed & dated), limit)]
    )
    slowest_first = -duration[picked]
    order = np.lexsort((slowest_first, ~failed[picked])) if failed_first else np.argsort(slowest_first, kind="stable")
    seen, kept = set(), []
    for position, trace in zip(picked[order].tolist(), rows["trace_id"].to_numpy()[picked[order]].tolist()):
        if trace not in seen:
            seen.add(trace)
            kept.append(position)
    return rows.take(kept).reset_index(drop=True)


def _largest(values: np.ndarray, positions: np.ndarray, limit: int) -> np.ndarray:
    """The ``limit`` of ``positions`` with the largest ``values``, largest first, ties in frame order (``values``
    negated: no NaT among them)."""
    return positions[np.lexsort((positions, -values[positions]))][:limit]


EVENT_COLUMNS = ("kind", "ident", "label", "start", "end", "detail", "url")


def service_events(
    service: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    alerts: pd.DataFrame,
    incidents: pd.DataFrame,
    changes: pd.DataFrame,
    chaos_runs: pd.DataFrame,
) -> pd.DataFrame:
    """Alerts, incidents, changes and chaos runs on ``service`` overlapping the window, as
    intervals (open ones end at the window's end; an ended incident at its end, ``incidents.end_times``),
    by start."""
    frames = (alerts, incidents, changes, chaos_runs)
    by_service = _once(frames, "events", dict)  # per frames, each service's events read when first asked for
    if service not in by_service:
        by_service[service] = _events_of(*(rows_for(frame, "service", [service]) for frame in frames))
    on_service = by_service[service]
    events = [e[:4] + (end if e[4] is None else e[4],) + e[5:] for e in on_service]
    kept = sorted((e for e in events if e[3] <= end and e[4] >= start), key=lambda e: e[3])
    return pd.DataFrame(kept, columns=list(EVENT_COLUMNS))


def _events_of(
    alerts: pd.DataFrame, incidents: pd.DataFrame, changes: pd.DataFrame, chaos_runs: pd.DataFrame
) -> list[tuple]:
    """The events with a start of one service's rows, as ``EVENT_COLUMNS`` tuples (the end None while open), in
    the frames' order: read column by column, without pandas' cost per row."""
    events = [
        *(
            ("alert", ident, name, began, ended, _or(summary, ""), url)
            for ident, name, began, ended, summary, url in _columns(
                alerts, "alert_id", "name", "starts_at", "ends_at", "summary", "url"
            )
        ),
        *(
            ("incident", ident, f"P{priority} {ident}", opened, ended, title, url)
            for (ident, priority, opened, title, url), ended in zip(
                _columns(incidents, "incident_id", "priority", "opened_at", "title", "url"),
                end_times(incidents).tolist(),
            )
        ),
        *(
            ("change", ident, f"{ident} {outcome}", _or(actual, planned), _or(actual_end, planned_end), title, url)
            for ident, outcome, actual, planned, actual_end, planned_end, title, url in _columns(
                changes,
                "change_id",
                "outcome",
                "actual_start",
                "planned_start",
                "actual_end",
                "planned_end",
                "title",
                "url",
            )
        ),
        *(
            ("chaos", ident, f"{_or(fault, 'chaos')} {status}", began, ended)
            + (_or(experiment, "") + (" (deviated)" if _or(deviated, False) else ""), url)
            for ident, fault, status, began, ended, experiment, deviated, url in _columns(
                chaos_runs, "run_id", "fault", "status", "started_at", "ended_at", "experiment", "deviated", "url"
            )
        ),
    ]
    return [(*event[:4], _or(event[4], None), *event[5:]) for event in events if pd.notna(event[3])]


def _columns(frame: pd.DataFrame, *names: str):
    """The rows of ``frame``'s columns ``names`` as tuples of Python values."""
    return zip(*(frame[name].tolist() for name in names))


def _or(value, default):
    """``value``, or ``default`` when it is missing (None, NaN, NaT or NA)."""
    return default if pd.isna(value) else value
