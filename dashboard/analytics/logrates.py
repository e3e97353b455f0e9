"""Error-log rates from the log_rates frame: lines per minute, pure functions of the frame."""

from __future__ import annotations

import pandas as pd

RECENT_MINUTES = 5


def errors_per_minute(log_rates: pd.DataFrame, minutes: int = RECENT_MINUTES) -> pd.Series:
    """Each service's error lines per minute over the last ``minutes`` of the frame."""
    errors = log_rates[log_rates["level"] == "error"]
    if errors.empty:
        return pd.Series(dtype="float64")
    newest = errors["ts"].max()
    recent = errors[errors["ts"] > newest - pd.Timedelta(minutes=minutes)]
    return recent.groupby("service")["count"].sum() / minutes


def error_series(log_rates: pd.DataFrame, services, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Error lines per minute of ``services`` in [start, end]: columns ts, service, count."""
    rows = log_rates[
        (log_rates["level"] == "error")
        & log_rates["service"].isin(list(services))
        & log_rates["ts"].between(start, end)
    ]
    per_minute = rows.groupby([rows["ts"].dt.floor("min"), "service"])["count"].sum()
    return per_minute.rename("count").reset_index()


def tooltip_rates(rates: pd.Series, order: list[str]) -> list[str]:
    """Per tile, its error-log rate formatted ('' for a service without log counts)."""
    known = rates.reindex(order).tolist()
    return ["" if rate != rate else f"{rate:,.1f}" for rate in known]
