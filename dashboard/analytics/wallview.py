"""Pure builders of what the wall draws: number formats, the tiles' rows, the event lists.

Per tile (in layout order) its rolled-up status (``rollup``) and its figures formatted, which
``wallmodel`` puts in the tile model with its reasons in words, and the sparkline points newer than
the ones the browser already has. They are deliberately compact: at 200 services a refresh is a few
kilobytes. Names are shown in the page's language where the frames carry one
(``x_display_name_zh``, ``x_chain_name_zh``), else in the frames' own.
"""

from __future__ import annotations

import json
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from dashboard.analytics.incidents import without_ticket_copies
from dashboard.formats import fmt_ms, fmt_pct, fmt_rate

SPARK_MINUTES = 60
ACTIVE_INCIDENT_STATES = ("new", "in_progress", "on_hold")


def duration_parts(value: pd.Timedelta) -> tuple[str, float]:
    """A duration as (unit, amount) in the largest unit that keeps it at least 1: min, h or d."""
    minutes = value.total_seconds() / 60
    if minutes < 60:
        return "min", minutes
    return ("h", minutes / 60) if minutes < 24 * 60 else ("d", minutes / 1440)


def age_parts(opened: pd.Timestamp, now: pd.Timestamp) -> dict[str, int]:
    """Whole days, hours and minutes since ``opened`` (the browser keeps counting)."""
    minutes = max(int((now - opened).total_seconds() // 60), 0)
    return {"d": minutes // 1440, "h": minutes // 60 % 24, "m": minutes % 60, "total_m": minutes}


def preplan_name(url: str | None) -> str | None:
    """The emergency pre-plan's name: the last segment of its URL."""
    if not url:
        return None
    path = urlparse(url).path.rstrip("/")
    return path.rsplit("/", 1)[-1] or urlparse(url).netloc


def _in_language(frame: pd.DataFrame, column: str, lang: str) -> pd.Series:
    """``column``, or where the frame carries it its ``x_<column>_<lang>`` translation."""
    names = _as_text(frame[column])
    translated = f"x_{column}_{lang}"
    if translated in frame.columns:
        names = _as_text(frame[translated].where(frame[translated].notna() & (frame[translated] != ""), names))
    return names


def _as_text(values: pd.Series) -> pd.Series:
    """``values`` as text; a text column as it is (converting it again costs a copy of every string)."""
    return values if isinstance(values.dtype, pd.StringDtype) and not values.hasnans else values.astype(str)


def display_names(services: pd.DataFrame, lang: str) -> dict[str, str]:
    """Each service's display name in ``lang`` where known, else its display name."""
    return dict(zip(services["service"].tolist(), _in_language(services, "display_name", lang).tolist()))


def structure(chains: pd.DataFrame, services: pd.DataFrame, lang: str = "en") -> list[dict]:
    """The chains as drawn: id, name (in ``lang`` where known) and the known services of its steps in order."""
    ordered = chains.sort_values(["step"], kind="stable")
    names = dict(
        zip(ordered["chain"].tolist()[::-1], _in_language(ordered, "chain_name", lang).tolist()[::-1])
    )  # first wins
    known = ordered[ordered["service"].isin(services["service"])]
    members: dict[str, list[str]] = {}
    for chain, service in zip(known["chain"].tolist(), known["service"].tolist()):
        members.setdefault(chain, []).append(service)
    return [
        {"chain": c, "name": names[c], "services": members[c]}
        for c in dict.fromkeys(ordered["chain"].tolist())
        if c in members
    ]


def tile_order(layout: list[dict]) -> list[str]:
    """Every tile's service, in layout order (a service on two chains has two tiles)."""
    return [s for chain in layout for s in chain["services"]]


def tile_figures(evaluated: pd.DataFrame, rolled: pd.DataFrame, order: list[str], logs: list[str]) -> pd.DataFrame:
    """Per tile in ``order``, what is the same in every language: service, status, its main figure
    (``main``) and which metric that is (``latency`` or ``errors``), requests/s, the other figure, and
    the error-log rate ``logs`` gives it, all formatted."""
    figures = evaluated.drop_duplicates("service").set_index("service").reindex(order)
    states = rolled.drop_duplicates("service").set_index("service").reindex(order)
    metric = states["metric"].fillna("latency").tolist()
    latency = [fmt_ms(v) for v in figures["latency_p95_ms"].tolist()]
    errors = [fmt_pct(v) for v in figures["error_ratio"].tolist()]
    on_errors = [m == "errors" for m in metric]
    return pd.DataFrame(
        {
            "service": list(order),
            "status": states["status"].fillna("nodata").tolist(),
            "metric": metric,
            "main": [e if flag else lt for flag, lt, e in zip(on_errors, latency, errors)],
            "rate": [fmt_rate(v) for v in figures["requests_per_s"].tolist()],
            "other": [lt if flag else e for flag, lt, e in zip(on_errors, latency, errors)],
            "logs": list(logs),
        }
    )


def tile_rows(figures: pd.DataFrame, reasons: dict[str, list[str]]) -> list[list]:
    """Per tile of ``tile_figures``: status, its main figure and which metric that is, requests/s, the
    other figure, and its reasons in words (``reasons``: per service)."""
    columns = (figures[c].tolist() for c in ("service", "status", "main", "metric", "rate", "other"))
    return [
        [status, main, metric, rate, other, reasons.get(service, [])]
        for service, status, main, metric, rate, other in zip(*columns)
    ]


def spark_frame(metrics: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """The sparklines' data: per timestamp of ``metrics`` in the ``SPARK_MINUTES`` up to its newest, by
    timestamp, the p95 (the mean of its samples) of every tile of ``order``, as the JSON array the browser
    draws: three significant digits, null without a sample. Columns ts, points."""
    if metrics.empty:
        return pd.DataFrame({"ts": metrics["ts"], "points": pd.Series([], dtype="str")})
    stamps = metrics["ts"]
    recent = metrics.loc[stamps > stamps.max() - pd.Timedelta(minutes=SPARK_MINUTES)]
    means = recent.groupby(["ts", "service"], sort=True)["latency_p95_ms"].mean()
    grid = means.unstack("service").reindex(columns=order)  # per timestamp and tile, NaN without a sample
    points = [
        json.dumps([None if v != v else float(f"{v:.3g}") for v in line], separators=(",", ":"))
        for line in grid.to_numpy().tolist()
    ]
    return pd.DataFrame({"ts": grid.index, "points": pd.Series(points, dtype="str")})


def spark_points(spark: pd.DataFrame, after_ms: int | None) -> dict:
    """The sparkline points of ``spark_frame``: all of it (``reset``), or only those after ``after_ms`` (all
    of it when ``after_ms`` is older than its first point).

    Returns ``{"reset": bool, "t": [epoch ms, ...], "v": [[value per tile], ...]}``, one row of values per
    timestamp.
    """
    if spark.empty:
        return {"reset": after_ms is None, "t": [], "v": []}
    times = spark["ts"].array.as_unit("ns").asi8 // MS_NS  # epoch ms, as sent; the rows are by timestamp
    reset = after_ms is None or after_ms < times[0]
    first = 0 if reset else int(np.searchsorted(times, after_ms, side="right"))
    return {
        "reset": reset,
        "t": times[first:].tolist(),
        "v": [json.loads(points) for points in spark["points"].to_numpy(dtype=object)[first:]],
    }


MS_NS = 1_000_000


def sent_ms(value) -> int | None:
    """``value`` if it is an epoch millisecond a browser may have been sent (a sparkline's last time), else
    None: what comes back from a browser is checked before it is used."""
    return value if type(value) is int and 0 <= value < 2**53 else None


def active_incidents(incidents: pd.DataFrame) -> pd.DataFrame:
    """Open incidents, most urgent first: by priority, then oldest first (a declared incident's ticket once)."""
    incidents = without_ticket_copies(incidents)
    active = incidents[incidents["state"].isin(ACTIVE_INCIDENT_STATES)]
    return active.sort_values(["priority", "opened_at", "incident_id"], kind="stable")


def major_incidents(incidents: pd.DataFrame) -> pd.DataFrame:
    """Open P1 incidents, unacknowledged ones first."""
    p1 = active_incidents(incidents)
    p1 = p1[p1["priority"] == 1]
    return p1.assign(_acked=p1["acknowledged_at"].notna()).sort_values(["_acked", "opened_at"]).drop(columns="_acked")


def incident_status(incidents: pd.DataFrame) -> str:
    """What open incidents say about the estate: ``crit`` with a P1 open, ``warn`` with a P2, else ``ok``."""
    open_priorities = set(incidents.loc[incidents["state"].isin(ACTIVE_INCIDENT_STATES), "priority"].tolist())
    return "crit" if 1 in open_priorities else ("warn" if 2 in open_priorities else "ok")


def changes_in_progress(changes: pd.DataFrame) -> pd.DataFrame:
    """Changes being implemented: started and not ended, emergency ones first."""
    running = changes[
        (changes["state"] == "implement")
        | (
            changes["actual_start"].notna()
            & changes["actual_end"].isna()
            & ~changes["state"].isin(["closed", "cancelled"])
        )
    ]
    return (
        running.assign(_rank=(running["type"] != "emergency"))
        .sort_values(["_rank", "actual_start"])
        .drop(columns="_rank")
    )


def next_change(changes: pd.DataFrame, now: pd.Timestamp) -> pd.Series | None:
    """The next scheduled change to start, if any."""
    upcoming = changes[(changes["state"] == "scheduled") & (changes["planned_start"] >= now)]
    return upcoming.sort_values("planned_start").iloc[0] if len(upcoming) else None


def latest_chaos_runs(chaos_runs: pd.DataFrame, count: int) -> pd.DataFrame:
    """The ``count`` most recently started chaos runs, newest first."""
    return chaos_runs.sort_values(["started_at", "run_id"], ascending=False, kind="stable").head(count)
