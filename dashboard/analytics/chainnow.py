"""A business chain now: each step's status over the latest minutes, by the wall's own roll-up, and the
bottleneck those minutes name.

A step's status and reasons are ``rollup.services`` of its service (health rules on the last
``health.RECENT_MINUTES`` of metrics, firing alerts, recent anomalies, saturated instances, troubled
sites), so the chain page and the wall never disagree about now. When a step needs attention now
(warn or crit), the bottleneck is taken from the latest minutes among the steps at the worst status whose
trouble is in their metrics (a latency or error rule): the largest share of the chain's errors (when one
breaks its error target) or of its p95 latency over those minutes. A step at the worst status by an alert
or a saturated host alone is named by its status and reasons. A site's trouble (drained, thinned, silent)
lowers every step with instances there and singles out none, so it names no bottleneck. A window whose
worst hour is long past names no bottleneck over a live problem.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.analytics import drilldown, health, rollup

METRIC_KINDS = ("latency", "errors")  # roll-up reasons that the metrics' shares can rank
COLUMNS = ["step", "service", "status", "reasons", "requests_per_s", "latency_p95_ms", "error_ratio"]


@dataclass(frozen=True)
class ChainNow:
    """Each step now (``COLUMNS``: the rolled-up status, its reasons worst first, the latest figures) and, when
    a step needs attention, the bottleneck of the latest minutes."""

    steps: pd.DataFrame
    bottleneck: drilldown.Bottleneck | None


def latest_rows(metrics: pd.DataFrame, minutes: int = health.RECENT_MINUTES) -> pd.DataFrame:
    """The rows of the latest ``minutes`` of ``metrics`` (those ``health.latest`` averages)."""
    if metrics.empty:
        return metrics
    return metrics[metrics["ts"] > metrics["ts"].max() - pd.Timedelta(minutes=minutes)]


def chain_now(steps: pd.DataFrame, evaluated: pd.DataFrame, rolled: pd.DataFrame, metrics: pd.DataFrame) -> ChainNow:
    """The chain ``steps`` now, from ``evaluated`` (``health.evaluate`` of their services), ``rolled``
    (``rollup.services`` of those) and ``metrics`` (the steps' services' metrics, not cut to a window)."""
    by_service = rolled.drop_duplicates("service").set_index("service")
    figures = evaluated.drop_duplicates("service").set_index("service")
    now = pd.DataFrame(
        {
            "step": steps["step"].to_numpy(),
            "service": steps["service"].to_numpy(),
            "status": [by_service.at[s, "status"] if s in by_service.index else "nodata" for s in steps["service"]],
            "reasons": [list(by_service.at[s, "reasons"]) if s in by_service.index else [] for s in steps["service"]],
            **{
                c: steps["service"].map(figures[c]).to_numpy(float) if c in figures else float("nan")
                for c in ("requests_per_s", "latency_p95_ms", "error_ratio")
            },
        },
        columns=COLUMNS,
    )
    own = now["reasons"].map(
        lambda reasons: rollup.worst([r.status for r in reasons if not r.kind.startswith("site_")]) if reasons else "ok"
    )
    worst = rollup.worst(own)
    if worst not in rollup.ATTENTION:
        return ChainNow(now, None)
    latest = drilldown.step_stats(steps, latest_rows(metrics))
    at_worst = (own == worst).to_numpy()
    in_metrics = now["reasons"].map(lambda reasons: any(r.kind in METRIC_KINDS for r in reasons)).to_numpy()
    targets = dict(zip(figures.index, figures["error_target"]))
    found = drilldown.bottleneck(latest[at_worst & in_metrics], targets) if (at_worst & in_metrics).any() else None
    if found is None:  # the trouble is not in the metrics (an alert, a saturated host): name the step by its status
        pick = drilldown.bottleneck(latest[at_worst], targets)
        first = latest[at_worst].iloc[0]
        found = drilldown.Bottleneck(
            pick.step if pick else int(first["step"]), pick.service if pick else str(first["service"]), "status", 0.0
        )
    return ChainNow(now, drilldown.Bottleneck(found.step, found.service, found.reason, found.share, now=True))
