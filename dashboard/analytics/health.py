"""Health rules: how a service's latest metrics turn into ok, warn, crit or nodata.

A service is ``crit`` when its p95 latency is above its target or its error ratio
is above its target, ``warn`` when either is above ``amber_at`` times its target,
``ok`` otherwise, and ``nodata`` without recent metrics. Targets come from the
config per service, else from the service's tier.
"""

from __future__ import annotations

import pandas as pd

RECENT_MINUTES = 5
STATUS_ORDER = {"crit": 0, "warn": 1, "nodata": 2, "ok": 3}


def latest(service_metrics: pd.DataFrame, minutes: int = RECENT_MINUTES) -> pd.DataFrame:
    """Mean of each service's metrics over the last ``minutes`` of data, one row per service."""
    columns = ["requests_per_s", "error_ratio", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms"]
    if service_metrics.empty:
        return pd.DataFrame(columns=["service", *columns])
    cutoff = service_metrics["ts"].max() - pd.Timedelta(minutes=minutes)
    recent = service_metrics[service_metrics["ts"] > cutoff]
    return recent.groupby("service", as_index=False)[columns].mean()


def targets(services: pd.DataFrame, health: dict) -> pd.DataFrame:
    """Per-service p95 and error-ratio targets: the service's own, else its tier's."""
    tiers, overrides = health["tiers"], health.get("services", {})
    rows = []
    for service, tier in zip(services["service"], services["tier"]):
        target = {**tiers.get(int(tier), tiers[3]), **overrides.get(service, {})}
        rows.append({"service": service, "p95_target_ms": target["p95_ms"], "error_target": target["error_ratio"]})
    return pd.DataFrame(rows, columns=["service", "p95_target_ms", "error_target"])


def evaluate(services: pd.DataFrame, service_metrics: pd.DataFrame, health: dict) -> pd.DataFrame:
    """Return one row per service: its recent metrics, targets, status and the rule that set it."""
    frame = targets(services, health).merge(latest(service_metrics), on="service", how="left")
    amber = health.get("amber_at", 0.8)
    p95, err = frame["latency_p95_ms"], frame["error_ratio"]
    p95_t, err_t = frame["p95_target_ms"], frame["error_target"]
    crit = (p95 > p95_t) | (err > err_t)
    warn = (p95 > amber * p95_t) | (err > amber * err_t)
    frame["status"] = "ok"
    frame.loc[warn, "status"] = "warn"
    frame.loc[crit, "status"] = "crit"
    frame.loc[p95.isna() & err.isna(), "status"] = "nodata"
    frame["rule"] = [
        f"red above p95 {pt:.0f} ms or errors {et:.1%}; amber above {amber * pt:.0f} ms or {amber * et:.1%}"
        for pt, et in zip(p95_t, err_t)
    ]
    return frame


def overall(statuses: pd.Series) -> str:
    """The worst status of a set of services (``nodata`` only when there is nothing else)."""
    present = [s for s in statuses if s != "nodata"]
    if not present:
        return "nodata"
    return min(present, key=STATUS_ORDER.__getitem__)
