"""Business figures: a chain's totals, its headline's status against the config's thresholds, breakdowns."""

import pandas as pd
import pytest

from dashboard.analytics import business
from datasources.base import BUSINESS_DIMENSIONS, validate

T0 = pd.Timestamp("2026-12-04 02:10", tz="UTC")
RULES = {
    "equity-trading": {"metric": "order_success_ratio", "warn": 0.99, "crit": 0.97},
    "accounts": {"metric": "transfer_success_ratio", "warn": 0.99, "crit": 0.95},
    "margin": {"metric": "orders_per_s", "warn": 10, "crit": 1},
}


def _figures(*rows):
    """Rows of (minutes after T0, chain, metric, value, dimensions...)."""
    records = [
        {
            "ts": T0 + pd.Timedelta(minutes=m),
            "chain": chain,
            "service": "svc",
            "metric": metric,
            "value": value,
            **dict.fromkeys(BUSINESS_DIMENSIONS),
            **dims,
        }
        for m, chain, metric, value, dims in rows
    ]
    return validate("business_metrics", pd.DataFrame(records).astype({d: object for d in BUSINESS_DIMENSIONS}))


FIGURES = _figures(
    (0, "equity-trading", "order_success_ratio", 0.995, {}),
    (1, "equity-trading", "order_success_ratio", 0.96, {}),
    (1, "equity-trading", "order_success_ratio", 0.87, {"counter": "central-b"}),
    (1, "equity-trading", "order_success_ratio", 0.996, {"counter": "fast-1"}),
    (1, "equity-trading", "order_rejects_per_s", 30.0, {"counter": "central-b", "reason": "risk_limit"}),
    (1, "equity-trading", "order_rejects_per_s", 2.0, {"counter": "fast-1", "reason": "price_limit"}),
    (1, "equity-trading", "counter_latency_p99_ms", 9.0, {"counter": "central-b"}),
    (1, "equity-trading", "counter_latency_p99_ms", 1.6, {"counter": "fast-1"}),
    (-60, "accounts", "transfer_success_ratio", 0.999, {}),
)


def test_totals_take_the_total_row_else_sum_rates_and_take_the_worst_breakdown():
    found = business.totals(FIGURES).set_index(["chain", "metric", "ts"])["value"]
    at = T0 + pd.Timedelta(minutes=1)
    assert found[("equity-trading", "order_success_ratio", at)] == 0.96  # the given total, not the worst counter
    assert found[("equity-trading", "order_rejects_per_s", at)] == 32.0
    assert found[("equity-trading", "counter_latency_p99_ms", at)] == 9.0


@pytest.mark.parametrize(
    ("metric", "value", "rule", "expected"),
    [
        ("order_success_ratio", 0.995, RULES["equity-trading"], "ok"),
        ("order_success_ratio", 0.98, RULES["equity-trading"], "warn"),
        ("order_success_ratio", 0.96, RULES["equity-trading"], "crit"),
        ("counter_latency_p99_ms", 12.0, {"warn": 10, "crit": 20}, "warn"),
        ("counter_latency_p99_ms", 25.0, {"warn": 10, "crit": 20}, "crit"),
        ("counter_latency_p99_ms", 5.0, {"warn": 10, "crit": 20}, "ok"),
    ],
)
def test_lower_is_worse_when_warn_is_above_crit(metric, value, rule, expected):
    assert business.status(metric, value, rule) == expected


def test_headlines_judge_the_current_figure_and_keep_an_old_one_unjudged():
    heads = business.headlines(FIGURES, RULES).set_index("chain")
    assert heads.loc["equity-trading", ["value", "status"]].tolist() == [0.96, "crit"]
    assert heads.loc["accounts", "status"] == "nodata" and heads.loc["accounts", "value"] == 0.999  # an hour old
    assert heads.loc["margin", "status"] == "nodata" and pd.isna(heads.loc["margin", "value"])  # never reported
    validate("chain_business", heads.reset_index())


def test_chain_figures_and_the_worst_breakdown():
    shown = business.chain_figures(FIGURES, "equity-trading")
    assert [f["metric"] for f in shown] == ["order_success_ratio", "order_rejects_per_s", "counter_latency_p99_ms"]
    assert shown[0]["values"] == [0.995, 0.96]
    worst = business.breakdown(FIGURES, "equity-trading", "order_success_ratio", "counter")
    assert worst["counter"].tolist() == ["central-b", "fast-1"]
    assert (
        business.breakdown(FIGURES, "equity-trading", "order_rejects_per_s", "reason")["reason"].iloc[0] == "risk_limit"
    )
