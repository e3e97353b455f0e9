"""Resilience computations on hand-made frames: score, chain roll-up, coverage, links."""

import pandas as pd
import pytest

from dashboard.analytics import resilience
from datasources.base import empty_frame

NOW = pd.Timestamp("2026-11-18 02:00", tz="UTC")


def runs(*rows):
    """rows: (service, status, probe ratio, days ago[, weight])"""
    records = []
    for i, (service, status, ratio, days_ago, *weight) in enumerate(rows):
        started = NOW - pd.Timedelta(days=days_ago)
        records.append(
            {
                "run_id": f"r{i}",
                "experiment": f"exp {i}",
                "service": service,
                "fault": "pod-kill",
                "started_at": started,
                "ended_at": started + pd.Timedelta(minutes=5),
                "status": status,
                "deviated": status == "failed",
                "probe_success_ratio": ratio,
                "recovery_s": 30.0 + i,
                "source": "test",
                "url": None,
                "x_weight": weight[0] if weight else None,
            }
        )
    return pd.DataFrame(records).astype({"probe_success_ratio": "float64", "x_weight": "float64"})


CHAINS = pd.DataFrame(
    {
        "chain": ["trade"] * 3 + ["money"] * 2,
        "chain_name": ["Trading"] * 3 + ["Money"] * 2,
        "step": [1, 2, 3, 1, 2],
        "service": ["login", "quote", "order", "login", "ledger"],
    }
)


def test_score_is_litmus_weighted_probe_success():
    frame = runs(
        ("quote", "passed", 1.0, 1, 2),
        ("quote", "failed", 0.5, 2, 8),
        ("quote", "not_run", None, 3),
        ("quote", "aborted", 0.0, 4),
        ("login", "passed", 1.0, 1),
    )
    scores = resilience.service_scores(frame)
    assert scores["quote"] == pytest.approx(100 * (2 * 1.0 + 8 * 0.5) / 10)
    assert scores["login"] == 100.0


def test_score_without_weights_is_the_mean():
    frame = runs(("quote", "passed", 1.0, 1), ("quote", "failed", 0.4, 2)).drop(columns="x_weight")
    assert resilience.service_scores(frame)["quote"] == pytest.approx(70.0)


def test_pass_rate_counts_only_verdicts():
    frame = runs(
        ("a", "passed", 1.0, 1),
        ("a", "failed", 0.5, 1),
        ("a", "not_run", None, 1),
        ("a", "aborted", None, 1),
        ("a", "passed", 1.0, 1),
    )
    assert resilience.pass_rate(frame) == pytest.approx(2 / 3)
    assert resilience.pass_rate(runs(("a", "running", None, 0))) is None


def test_service_summary():
    frame = runs(("quote", "passed", 1.0, 5), ("quote", "failed", 0.5, 1), ("login", "not_run", None, 2))
    summary = resilience.service_summary(frame).set_index("service")
    assert summary.loc["quote", ["runs", "passed", "failed", "pass_rate", "score"]].tolist() == [2, 1, 1, 0.5, 75.0]
    assert summary.loc["quote", "last_status"] == "failed" and summary.loc["quote", "recovery_s"] == 30.5
    assert summary.loc["login", "not_run"] == 1 and pd.isna(summary.loc["login", "score"])
    assert list(summary.index) == ["quote", "login"]  # lowest score first, unscored last


def test_chain_takes_its_weakest_step():
    scores = pd.Series({"login": 95.0, "quote": 60.0, "order": 88.0})
    chains = resilience.chain_scores(CHAINS, scores).set_index("chain")
    assert list(chains.index) == ["trade", "money"]
    assert chains.loc["trade", ["score", "weakest_service", "weakest_step", "scored_steps"]].tolist() == [
        60.0,
        "quote",
        2,
        3,
    ]
    assert chains.loc["money", ["score", "weakest_service", "scored_steps", "steps"]].tolist() == [95.0, "login", 1, 2]
    untested = resilience.chain_scores(CHAINS, pd.Series(dtype="float64")).set_index("chain")
    assert untested["score"].isna().all() and untested["weakest_service"].isna().all()


def test_coverage_recent_stale_never():
    frame = runs(("login", "passed", 1.0, 3), ("quote", "failed", 0.5, 45), ("order", "not_run", None, 1))
    cov = resilience.coverage(CHAINS, frame, NOW)
    trade = cov[cov["chain"] == "trade"].set_index("service")["coverage"].to_dict()
    assert trade == {"login": "recent", "quote": "stale", "order": "never"}
    assert cov[cov["chain"] == "money"].set_index("service")["coverage"].to_dict() == {
        "login": "recent",
        "ledger": "never",
    }


def test_coverage_without_any_chaos_run_is_never_everywhere():
    cov = resilience.coverage(CHAINS, empty_frame("chaos_runs"), NOW)
    assert len(cov) == len(CHAINS) and set(cov["coverage"]) == {"never"}


def test_timeline_rows_follow_chains_and_steps():
    frame = runs(("ledger", "passed", 1.0, 1), ("orphan", "passed", 1.0, 1), ("login", "failed", 0.5, 2))
    rows = resilience.timeline_rows(CHAINS, frame)
    assert list(zip(rows["chain_name"], rows["service"])) == [
        ("Trading", "login"),
        ("Money", "login"),
        ("Money", "ledger"),
        ("-", "orphan"),
    ]


def test_impact_link_spans_the_run_with_a_margin():
    start = pd.Timestamp("2026-11-18 01:35", tz="UTC")
    link = resilience.impact_link("quote-service", start, start + pd.Timedelta(minutes=10))
    assert link == "/service/quote-service?from=2026-11-18T01%3A25%3A00Z&to=2026-11-18T01%3A55%3A00Z"
    assert resilience.impact_link("quote-service", start, None).endswith("&to=now")


def test_impact_link_window_is_understood_by_the_service_page():
    from urllib.parse import parse_qs, urlsplit

    from dashboard.core.timewindow import resolve

    start = pd.Timestamp("2026-11-18 01:35", tz="UTC")
    query = parse_qs(urlsplit(resilience.impact_link("q", start, start + pd.Timedelta(minutes=10))).query)
    window = resolve(query["from"][0], query["to"][0], now=NOW.to_pydatetime())
    assert (window.start, window.end) == (start - resilience.LINK_MARGIN, start + pd.Timedelta(minutes=20))


@pytest.mark.parametrize(
    "score, status",
    [(95.0, "ok"), (90.0, "ok"), (75.0, "warn"), (40.0, "crit"), (None, "nodata"), (float("nan"), "nodata")],
)
def test_score_status(score, status):
    assert resilience.score_status(score) == status
