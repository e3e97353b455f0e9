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
"""

from __future__ import annotations

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


def _in_window(times: pd.Series, now: pd.Timestamp) -> pd.Series:
    return (times > now - WINDOW) & (times <= now)


def mtta(incidents: pd.DataFrame, now: pd.Timestamp) -> tuple[pd.Timedelta | None, int]:
    """Mean time to acknowledge incidents opened in the last 30 days."""
    rows = incidents[
        _in_window(incidents["opened_at"], now)
        & incidents["acknowledged_at"].notna()
        & (incidents["state"] != "cancelled")
    ]
    return _mean(rows["acknowledged_at"] - rows["opened_at"])


def mttr(incidents: pd.DataFrame, now: pd.Timestamp) -> tuple[pd.Timedelta | None, int]:
    """Mean time to restore incidents resolved in the last 30 days."""
    rows = incidents[_in_window(incidents["resolved_at"], now) & (incidents["state"] != "cancelled")]
    return _mean(rows["resolved_at"] - rows["opened_at"])


def change_success_rate(changes: pd.DataFrame, now: pd.Timestamp) -> tuple[float | None, int]:
    """Share of successful changes among those that ended in the last 30 days with a known outcome."""
    rows = changes[_in_window(changes["actual_end"], now) & changes["outcome"].isin(KNOWN_OUTCOMES)]
    return _share(rows["outcome"] == "success")


def chaos_pass_rate(chaos_runs: pd.DataFrame, now: pd.Timestamp) -> tuple[float | None, int]:
    """Share of passed runs among those that ended in the last 30 days."""
    rows = chaos_runs[_in_window(chaos_runs["ended_at"], now) & chaos_runs["status"].isin(FINISHED_RUNS)]
    return _share(rows["status"] == "passed")


def _mean(durations: pd.Series) -> tuple[pd.Timedelta | None, int]:
    return (durations.mean() if len(durations) else None), len(durations)


def _share(hits: pd.Series) -> tuple[float | None, int]:
    return (float(hits.mean()) if len(hits) else None), len(hits)
