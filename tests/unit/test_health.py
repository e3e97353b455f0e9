"""Health rules: red above target, amber above amber_at x target, per-service overrides."""

import pandas as pd

from dashboard.analytics.health import evaluate, overall

HEALTH = {
    "tiers": {
        1: {"p95_ms": 100.0, "error_ratio": 0.01},
        2: {"p95_ms": 500.0, "error_ratio": 0.02},
        3: {"p95_ms": 1000.0, "error_ratio": 0.05},
    },
    "services": {"special": {"p95_ms": 1000.0}},
    "amber_at": 0.8,
}


def _metrics(rows):
    ts = pd.Timestamp("2026-11-18 02:00", tz="UTC")
    return pd.DataFrame(
        [
            {
                "ts": ts,
                "service": s,
                "requests_per_s": 10.0,
                "error_ratio": e,
                "latency_p50_ms": p / 2,
                "latency_p95_ms": p,
                "latency_p99_ms": p * 2,
            }
            for s, p, e in rows
        ]
    )


def test_statuses_and_rule_text():
    services = pd.DataFrame(
        {"service": ["fine", "slowish", "slow", "erring", "special", "silent"], "tier": [1, 1, 1, 1, 1, 2]}
    )
    metrics = _metrics(
        [("fine", 50, 0.0), ("slowish", 90, 0.0), ("slow", 150, 0.0), ("erring", 50, 0.02), ("special", 900, 0.0)]
    )
    result = evaluate(services, metrics, HEALTH).set_index("service")
    assert result["status"].to_dict() == {
        "fine": "ok",
        "slowish": "warn",
        "slow": "crit",
        "erring": "crit",
        "special": "warn",
        "silent": "nodata",
    }
    assert "red above p95 100 ms or errors 1.0%" in result.loc["slow", "rule"]
    assert "amber above 80 ms" in result.loc["slow", "rule"]


def test_overall_is_worst():
    assert overall(["ok", "warn", "nodata"]) == "warn"
    assert overall(["ok", "crit", "warn"]) == "crit"
    assert overall(["nodata"]) == "nodata"
