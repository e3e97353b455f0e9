"""A chain now: each step's rolled-up status over the latest minutes and the bottleneck those minutes name."""

import pandas as pd

from dashboard.analytics import chainnow, health, rollup
from datasources.base import empty_frame

T0 = pd.Timestamp("2026-11-18 06:00", tz="UTC")
STEPS = pd.DataFrame({"chain": "c", "chain_name": "C", "step": [1, 2, 3], "service": ["gate", "risk", "ledger"]})
SERVICES = pd.DataFrame({"service": ["gate", "risk", "ledger"], "display_name": ["G", "R", "L"], "tier": 1})
HEALTH = {
    "tiers": {1: {"p95_ms": 100.0, "error_ratio": 0.01}, 3: {"p95_ms": 500.0, "error_ratio": 0.05}},
    "amber_at": 0.8,
}


def metrics(episode: str | None, at_minute: int = 55) -> pd.DataFrame:
    """An hour of minutes: ``gate`` fails 8 % of its calls for the first 15 minutes; from ``at_minute`` on,
    ``episode`` ("slow") makes ``risk`` slow."""
    rows = []
    for minute in range(60):
        for service in ("gate", "risk", "ledger"):
            errors = 0.08 if service == "gate" and minute < 15 else 0.001
            p95 = 400.0 if service == "risk" and episode == "slow" and minute >= at_minute else 20.0
            rows.append(
                {
                    "ts": T0 + pd.Timedelta(minutes=minute),
                    "service": service,
                    "requests_per_s": 100.0,
                    "error_ratio": errors,
                    "latency_p50_ms": p95 / 3,
                    "latency_p95_ms": p95,
                    "latency_p99_ms": p95 * 2,
                }
            )
    return pd.DataFrame(rows)


def now_of(frame: pd.DataFrame, alerts: pd.DataFrame | None = None) -> chainnow.ChainNow:
    evaluated = health.evaluate(SERVICES, frame, HEALTH)
    rolled = rollup.services(
        evaluated,
        empty_frame("alerts") if alerts is None else alerts,
        empty_frame("anomalies"),
        empty_frame("resource_metrics"),
        empty_frame("instances"),
        pd.DataFrame(columns=["site", "status", "kind", "share"]),
        HEALTH["amber_at"],
        frame["ts"].max(),
    )
    return chainnow.chain_now(STEPS, evaluated, rolled, frame)


def test_a_step_unhealthy_now_is_the_bottleneck_not_the_window_s_old_episode():
    now = now_of(metrics("slow"))
    assert list(now.steps["status"]) == ["ok", "crit", "ok"]
    assert now.steps["reasons"].iloc[1][0].kind == "latency"
    assert now.steps["latency_p95_ms"].iloc[1] == 400.0
    assert (now.bottleneck.service, now.bottleneck.reason, now.bottleneck.now) == ("risk", "latency", True)
    assert now.bottleneck.share > 0.8


def test_all_healthy_now_names_no_bottleneck_of_its_own():
    now = now_of(metrics(None))
    assert set(now.steps["status"]) == {"ok"} and now.bottleneck is None


def test_a_step_in_trouble_only_by_its_alert_is_named_by_its_status():
    alerts = pd.DataFrame(
        [
            {
                "alert_id": "A1",
                "name": "DiskFull",
                "service": "ledger",
                "severity": "critical",
                "state": "firing",
                "starts_at": T0,
                "ends_at": pd.NaT,
                "summary": "",
                "runbook_url": None,
                "source": "am",
                "url": None,
            }
        ]
    )
    now = now_of(metrics(None), alerts)
    assert list(now.steps["status"]) == ["ok", "ok", "crit"]
    assert (now.bottleneck.service, now.bottleneck.reason) == ("ledger", "status")


def test_a_step_without_metrics_now_is_nodata_and_names_no_bottleneck():
    frame = metrics(None)
    now = now_of(frame[frame["service"] != "ledger"])
    assert list(now.steps["status"]) == ["ok", "ok", "nodata"] and now.bottleneck is None


def test_a_site_s_trouble_lowers_every_step_but_names_none():
    frame = metrics(None)
    evaluated = health.evaluate(SERVICES, frame, HEALTH)
    instances = pd.DataFrame({"service": ["gate", "risk", "ledger"], "instance": ["g-2", "r-2", "l-2"], "site": "dc2"})
    drained = pd.DataFrame([{"site": "dc2", "status": "crit", "kind": "drained", "share": 0.02}])
    rolled = rollup.services(
        evaluated,
        empty_frame("alerts"),
        empty_frame("anomalies"),
        empty_frame("resource_metrics"),
        instances,
        drained,
        HEALTH["amber_at"],
        frame["ts"].max(),
    )
    now = chainnow.chain_now(STEPS, evaluated, rolled, frame)
    assert set(now.steps["status"]) == {"warn"} and now.bottleneck is None
