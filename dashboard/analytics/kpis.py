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


def availability(service_metrics: pd.DataFrame, since: pd.Timestamp) -> tuple[float | None, int]:
    """Share of requests served without error since ``since``."""
    today = service_metrics[service_metrics["ts"] >= since]
    requests = today["requests_per_s"].sum()
    if not len(today) or requests <= 0:
        return None, len(today)
    failed = (today["requests_per_s"] * today["error_ratio"].fillna(0.0)).sum()
    return float(1 - failed / requests), len(today)


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
