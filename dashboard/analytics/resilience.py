"""Resilience from chaos runs: pass rate, recovery, scores per service and chain, and coverage.

Pure functions from frames to frames. Only runs with a verdict on the hypothesis
(``passed``, ``failed``) count towards pass rate and score; ``aborted``, ``not_run`` and
``running`` runs count as runs, and ``not_run`` is not a test for coverage either.

The resilience score of a service follows LitmusChaos: each run weighs its fault's weight
``w`` (the ``x_weight`` column, else 10) and scores its probe success ratio ``p``:
``score = 100 * sum(w * p) / sum(w)`` over the service's scored runs in the window. A chain
scores its weakest step: the lowest score among its services (untested steps do not
score, they show as coverage gaps).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd

from datasources.chaos import DEFAULT_WEIGHT

WINDOW = pd.Timedelta(days=30)
LINK_MARGIN = pd.Timedelta(minutes=10)
VERDICTS = ("passed", "failed")
TESTED = ("passed", "failed", "aborted", "running")
OUTSIDE_CHAINS = "-"
SCORE_OK, SCORE_WARN = 90.0, 70.0


def score_status(score: float | None) -> str:
    """Health colour of a score: ``ok`` from 90, ``warn`` from 70, ``crit`` below, ``nodata`` without one."""
    if score is None or pd.isna(score):
        return "nodata"
    return "ok" if score >= SCORE_OK else "warn" if score >= SCORE_WARN else "crit"


def in_window(runs: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Runs that started within [start, end]."""
    return runs[(runs["started_at"] >= start) & (runs["started_at"] <= end)]


def pass_rate(runs: pd.DataFrame) -> float | None:
    """Share of passed among runs with a verdict; None without any."""
    decided = runs["status"].isin(VERDICTS)
    return float((runs.loc[decided, "status"] == "passed").mean()) if decided.any() else None


def _weights(runs: pd.DataFrame) -> pd.Series:
    if "x_weight" not in runs:
        return pd.Series(DEFAULT_WEIGHT, index=runs.index, dtype="float64")
    return runs["x_weight"].astype("float64").fillna(DEFAULT_WEIGHT)


def service_scores(runs: pd.DataFrame) -> pd.Series:
    """Resilience score (0-100) per service: weighted probe success of its scored runs."""
    scored = runs[runs["status"].isin(VERDICTS) & runs["probe_success_ratio"].notna() & runs["service"].notna()]
    weights = _weights(scored)
    weighted = (weights * scored["probe_success_ratio"]).groupby(scored["service"]).sum()
    total = weights.groupby(scored["service"]).sum()
    return (100 * weighted / total[total > 0]).dropna().rename("score")


def service_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per service: runs, outcome counts, pass rate, score, median recovery, last run and its status."""
    runs = runs[runs["service"].notna()].sort_values("started_at")
    columns = [
        "service",
        "runs",
        "passed",
        "failed",
        "aborted",
        "not_run",
        "running",
        "pass_rate",
        "score",
        "recovery_s",
        "last_run",
        "last_status",
    ]
    if runs.empty:
        return pd.DataFrame(columns=columns)
    grouped = runs.groupby("service")
    counts = pd.crosstab(runs["service"], runs["status"]).reindex(columns=list(columns[2:7]), fill_value=0)
    summary = counts.assign(
        runs=grouped.size(),
        pass_rate=grouped.apply(pass_rate, include_groups=False).astype("float64"),
        score=service_scores(runs),
        recovery_s=grouped["recovery_s"].median(),
        last_run=grouped["started_at"].max(),
        last_status=grouped["status"].last(),
    )
    return summary.reset_index()[columns].sort_values(["score", "service"], na_position="last").reset_index(drop=True)


def chain_scores(chains: pd.DataFrame, scores: pd.Series) -> pd.DataFrame:
    """Per chain, in the chains' order: the weakest step's score and service, and how many steps have a score."""
    steps = chains.assign(score=chains["service"].map(scores))
    rows = []
    for (chain, name), group in steps.groupby(["chain", "chain_name"], sort=False):
        scored = group.dropna(subset=["score"]).sort_values("step")
        weakest = scored.loc[scored["score"].idxmin()] if len(scored) else None
        rows.append(
            {
                "chain": chain,
                "chain_name": name,
                "steps": len(group),
                "scored_steps": len(scored),
                "score": None if weakest is None else float(weakest["score"]),
                "weakest_service": None if weakest is None else weakest["service"],
                "weakest_step": None if weakest is None else int(weakest["step"]),
            }
        )
    return pd.DataFrame(
        rows, columns=["chain", "chain_name", "steps", "scored_steps", "score", "weakest_service", "weakest_step"]
    ).astype({"score": "float64"})


def coverage(
    chains: pd.DataFrame, runs: pd.DataFrame, now: pd.Timestamp, window: pd.Timedelta = WINDOW
) -> pd.DataFrame:
    """Each chain step with its service's last chaos run and ``recent`` (within ``window``), ``stale`` or ``never``."""
    tested = runs[runs["status"].isin(TESTED) & runs["service"].notna()]
    last = tested.groupby("service")["started_at"].max()
    steps = chains.sort_values(["chain", "step"]).assign(
        last_run=lambda f: last.reindex(f["service"]).set_axis(f.index)
    )
    steps["coverage"] = "never"
    steps.loc[steps["last_run"].notna(), "coverage"] = "stale"
    steps.loc[steps["last_run"] >= now - window, "coverage"] = "recent"
    return steps[["chain", "chain_name", "step", "service", "last_run", "coverage"]].reset_index(drop=True)


def timeline_rows(chains: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """Runs placed on (chain name, service) rows, in chain and step order; a service of several
    chains appears in each, services outside every chain under ``OUTSIDE_CHAINS``."""
    steps = chains[["chain", "chain_name", "step", "service"]]
    placed = runs.merge(steps, on="service", how="left")
    placed["chain_name"] = placed["chain_name"].fillna(OUTSIDE_CHAINS)
    order = {name: i for i, name in enumerate(chains["chain_name"].unique())}
    placed["_chain_order"] = placed["chain_name"].map(order).fillna(len(order))
    return placed.sort_values(["_chain_order", "step", "service", "started_at"]).drop(columns="_chain_order")


def _stamp(value: pd.Timestamp) -> str:
    return value.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def impact_link(
    service: str, started: pd.Timestamp, ended: pd.Timestamp | None, margin: pd.Timedelta = LINK_MARGIN
) -> str:
    """The service page over the run, ``margin`` either side; a run still going ends at now."""
    until = "now" if ended is None or pd.isna(ended) else _stamp(ended + margin)
    return f"/service/{service}?" + urlencode({"from": _stamp(started - margin), "to": until})
