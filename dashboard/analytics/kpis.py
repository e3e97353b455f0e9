"""The wall's key figures, computed from contract frames at a given moment.

Each function returns ``(value, count)``: the figure (None when nothing qualifies)
and how many records or samples it was computed from.

- availability today: request-weighted success since local midnight,
  ``1 - sum(requests_per_s * error_ratio) / sum(requests_per_s)`` over every metrics sample;
- MTTA: mean of ``acknowledged_at - opened_at`` over incidents opened in the window;
- MTTR: mean of ``resolved_at - opened_at`` over incidents resolved in the window;
- change success rate: ``success`` over changes that ended in the window with a known
  outcome (success, failed, rolled_back);
- chaos pass rate: ``passed`` over runs that ended in the window as passed, failed or aborted.

Cancelled incidents count in neither MTTA nor MTTR. The window is the 30 days up to now.
Each of the last four is computed from its events (``events``: when each one falls in or out of the
window, and its value), which do not depend on the moment: the poller derives them once per poll,
and a wall refresh takes the mean of those in its window (``figures``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WINDOW = pd.Timedelta(days=30)
KNOWN_OUTCOMES = ("success", "failed", "rolled_back")
FINISHED_RUNS = ("passed", "failed", "aborted")


def start_of_day(now: pd.Timestamp, tz: str) -> pd.Timestamp:
    """Local midnight of ``now`` in ``tz``, in UTC."""
    return pd.Timestamp(now).tz_convert(tz).normalize().tz_convert("UTC")


def request_totals(service_metrics: pd.DataFrame) -> pd.DataFrame:
    """Per timestamp of ``service_metrics``: the requests and failed requests per second of every service
    summed, and how many samples they sum (what availability is computed from, whatever ``since``)."""
    failed = service_metrics["requests_per_s"] * service_metrics["error_ratio"].fillna(0.0)
    totals = (
        service_metrics[["ts", "requests_per_s"]]
        .assign(failed_per_s=failed, samples=1)
        .groupby("ts", sort=True)
        .sum()
        .reset_index()
    )
    return totals.astype({"samples": "int64"})


def availability(service_metrics: pd.DataFrame, since: pd.Timestamp) -> tuple[float | None, int]:
    """Share of requests served without error since ``since``."""
    return availability_of(request_totals(service_metrics), since)


def availability_of(totals: pd.DataFrame, since: pd.Timestamp) -> tuple[float | None, int]:
    """Share of requests served without error since ``since``, from ``request_totals``."""
    today = totals[totals["ts"] >= since]
    requests, samples = float(today["requests_per_s"].sum()), int(today["samples"].sum())
    if not samples or requests <= 0:
        return None, samples
    return float(1 - today["failed_per_s"].sum() / requests), samples


FIGURES = ("mtta", "mttr", "changes", "chaos")  # the figures of ``events``


def _events(at: pd.Series, value: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"at": pd.to_datetime(at, utc=True).dt.as_unit("ns"), "value": value.astype("float64")})


def mtta_events(incidents: pd.DataFrame) -> pd.DataFrame:
    """When each acknowledged incident opened (what the window selects) and its nanoseconds to acknowledge."""
    rows = incidents[incidents["acknowledged_at"].notna() & (incidents["state"] != "cancelled")]
    return _events(rows["opened_at"], _nanoseconds(rows["acknowledged_at"] - rows["opened_at"]))


def mttr_events(incidents: pd.DataFrame) -> pd.DataFrame:
    """When each incident was resolved and its nanoseconds to restore."""
    rows = incidents[incidents["resolved_at"].notna() & (incidents["state"] != "cancelled")]
    return _events(rows["resolved_at"], _nanoseconds(rows["resolved_at"] - rows["opened_at"]))


def change_events(changes: pd.DataFrame) -> pd.DataFrame:
    """When each change with a known outcome ended, and 1 where it succeeded."""
    rows = changes[changes["actual_end"].notna() & changes["outcome"].isin(KNOWN_OUTCOMES)]
    return _events(rows["actual_end"], rows["outcome"] == "success")


def chaos_events(chaos_runs: pd.DataFrame) -> pd.DataFrame:
    """When each finished chaos run ended, and 1 where it passed."""
    rows = chaos_runs[chaos_runs["ended_at"].notna() & chaos_runs["status"].isin(FINISHED_RUNS)]
    return _events(rows["ended_at"], rows["status"] == "passed")


def events(acknowledged: pd.DataFrame, incidents: pd.DataFrame, changes: pd.DataFrame, chaos_runs: pd.DataFrame):
    """What the four figures are computed from at any moment, one row per event: figure, at (the time the
    window selects by) and value (``*_events``); MTTA from ``acknowledged``, the incidents with opscenter's
    acknowledgements."""
    parts = {
        "mtta": mtta_events(acknowledged),
        "mttr": mttr_events(incidents),
        "changes": change_events(changes),
        "chaos": chaos_events(chaos_runs),
    }
    frames = [part.assign(figure=figure) for figure, part in parts.items()]
    return pd.concat(frames, ignore_index=True)[["figure", "at", "value"]]


def figures(events: pd.DataFrame, now: pd.Timestamp) -> dict[str, tuple]:
    """Each of ``FIGURES`` over the 30 days up to ``now``, as (value, count), from ``events``."""
    kinds, (inside, values) = events["figure"].to_numpy(dtype=object), _windowed(events, now)
    return {f: _mean(f, values[inside & (kinds == f)]) for f in FIGURES}


def _windowed(events: pd.DataFrame, now: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Which ``events`` are in the 30 days up to ``now``, and their values, as arrays."""
    at = pd.DatetimeIndex(events["at"]).as_unit("ns").asi8
    return (at > (now - WINDOW).value) & (at <= now.value), events["value"].to_numpy(dtype="float64")


def _figure(figure: str, events: pd.DataFrame, now: pd.Timestamp) -> tuple:
    """``figure`` over the window up to ``now`` from its ``events``."""
    inside, values = _windowed(events, now)
    return _mean(figure, values[inside])


def _mean(figure: str, values: np.ndarray) -> tuple:
    """The mean of ``values`` (a duration for MTTA and MTTR; None without any) and their count."""
    if not len(values):
        return None, 0
    mean = values.mean()
    return (pd.Timedelta(int(mean), unit="ns") if figure in ("mtta", "mttr") else float(mean)), len(values)


def _nanoseconds(durations: pd.Series) -> pd.Series:
    return durations.dt.as_unit("ns").astype("int64")


def mtta(incidents: pd.DataFrame, now: pd.Timestamp) -> tuple[pd.Timedelta | None, int]:
    """Mean time to acknowledge incidents opened in the last 30 days."""
    return _figure("mtta", mtta_events(incidents), now)


def mttr(incidents: pd.DataFrame, now: pd.Timestamp) -> tuple[pd.Timedelta | None, int]:
    """Mean time to restore incidents resolved in the last 30 days."""
    return _figure("mttr", mttr_events(incidents), now)


def change_success_rate(changes: pd.DataFrame, now: pd.Timestamp) -> tuple[float | None, int]:
    """Share of successful changes among those that ended in the last 30 days with a known outcome."""
    return _figure("changes", change_events(changes), now)


def chaos_pass_rate(chaos_runs: pd.DataFrame, now: pd.Timestamp) -> tuple[float | None, int]:
    """Share of passed runs among those that ended in the last 30 days."""
    return _figure("chaos", chaos_events(chaos_runs), now)
