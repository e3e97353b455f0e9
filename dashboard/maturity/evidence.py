"""Evidence rules: what each catalogue rule measures on the frames, as pure functions.

A rule takes the frames (live frames, with incidents, changes and chaos runs completed from
history), the services the item applies to and the moment, and returns ``(value, passed)``;
``passed`` is None when there is nothing to judge (no service in scope, no incident in the
window). ``evaluate`` adds the rule's text with its parameters and a SHA-256 digest of the
frames it read, so a stored evaluation says what was asked and of which data.

"Each of the last N months" means each of the N 30-day periods ending now.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from dashboard.analytics import incidents as incident_stats, kpis, resilience
from dashboard.i18n import t, template

MONTH = pd.Timedelta(days=30)


@dataclass(frozen=True)
class Rule:
    """A rule kind: its function, its parameters (with defaults), the frames it reads and its text (English,
    from ``i18n``'s ``rule.<kind>``)."""

    measure: Callable[..., tuple[float | None, bool | None]]
    frames: tuple[str, ...]
    text: str
    params: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of one item's rule."""

    item_id: str
    rule: str
    query: str
    value: float | None
    passed: bool | None
    digest: str


def _share(hits: pd.Series) -> float | None:
    return float(hits.mean()) if len(hits) else None


def _at_least(value: float | None, minimum: float) -> tuple[float | None, bool | None]:
    return value, None if value is None else bool(value >= minimum - 1e-12)


def _at_most(value: float | None, maximum: float) -> tuple[float | None, bool | None]:
    return value, None if value is None else bool(value <= maximum + 1e-12)


def _covered(scope: pd.Index, present) -> float | None:
    return _share(pd.Series(scope.isin(pd.Index(present)))) if len(scope) else None


def metrics_coverage(f, scope, now, min):
    return _at_least(_covered(scope, f["service_metrics"]["service"].unique()), min)


def resource_coverage(f, scope, now, min):
    return _at_least(_covered(scope, f["resource_metrics"]["service"].unique()), min)


def trace_coverage(f, scope, now, min):
    return _at_least(_covered(scope, f["calls"]["service"].unique()), min)


def sources_healthy(f, scope, now, min):
    return _at_least(_share(f["source_status"]["ok"].astype(bool)), min)


def alert_runbooks(f, scope, now, min):
    alerts = f["alerts"][f["alerts"]["service"].isin(scope) | f["alerts"]["service"].isna()]
    return _at_least(_share(alerts["runbook_url"].notna() & (alerts["runbook_url"] != "")), min)


def _service_rows(f, scope) -> pd.DataFrame:
    return f["services"][f["services"]["service"].isin(scope)]


def service_runbooks(f, scope, now, min):
    rows = _service_rows(f, scope)
    return _at_least(_share(rows["runbook_url"].notna() & (rows["runbook_url"] != "")), min)


def service_owners(f, scope, now, min):
    rows = _service_rows(f, scope)
    return _at_least(_share(rows["owner"].notna() & (rows["owner"] != "")), min)


def services_known(f, scope, now, min):
    count = float(f["services"]["service"].nunique())
    return count, bool(count >= min)


def chains_defined(f, scope, now):
    chains = f["chains"]
    if not len(chains):
        return 0.0, False
    known = chains["service"].isin(f["services"]["service"])
    return float(chains["chain"].nunique()), bool(known.all())


def dependencies_known(f, scope, now):
    count = float(len(f["edges"]))
    return count, bool(count > 0)


def _opened_in(incidents: pd.DataFrame, now: pd.Timestamp, days: float, max_priority: int) -> pd.DataFrame:
    rows = incidents[(incidents["opened_at"] > now - pd.Timedelta(days=days)) & (incidents["opened_at"] <= now)]
    return rows[(rows["priority"] <= max_priority) & (rows["state"] != "cancelled")]


def incidents_recorded(f, scope, now, days):
    count = float(len(_opened_in(f["incidents"], now, days, 5)))
    return count, bool(count > 0)


def changes_recorded(f, scope, now, days):
    planned = f["changes"]["planned_start"]
    count = float(((planned > now - pd.Timedelta(days=days)) & (planned <= now + pd.Timedelta(days=days))).sum())
    return count, bool(count > 0)


def resolution_tracked(f, scope, now, days, max_priority, min):
    finished = _opened_in(f["incidents"], now, days, max_priority)
    finished = finished[~finished["state"].isin(incident_stats.ACTIVE_STATES)]
    return _at_least(_share(finished["resolved_at"].notna()), min)


def incident_runbooks(f, scope, now, days, max_priority, min):
    rows = _opened_in(f["incidents"], now, days, max_priority)
    return _at_least(_share(rows["runbook_url"].notna() & (rows["runbook_url"] != "")), min)


def _response(f, now, days, priority, column) -> float | None:
    times = incident_stats.response_times(f["incidents"], now, int(days))
    value = times.loc[times["priority"] == priority, column].iloc[0]
    return None if pd.isna(value) else float(value)


def mtta_max(f, scope, now, priority, days, max_min):
    return _at_most(_response(f, now, days, priority, "mtta_min"), max_min)


def mttr_max(f, scope, now, priority, days, max_min):
    return _at_most(_response(f, now, days, priority, "mttr_min"), max_min)


def change_success_rate(f, scope, now, days, min):
    return _at_least(incident_stats.change_rates(f["changes"], f["incidents"], now, int(days))["success_rate"], min)


def change_induced_max(f, scope, now, days, max):
    return _at_most(incident_stats.change_rates(f["changes"], f["incidents"], now, int(days))["change_induced_rate"], max)


def changes_measured_monthly(f, scope, now, months):
    changes = f["changes"]
    ended = changes.loc[changes["outcome"].isin(kpis.KNOWN_OUTCOMES), "actual_end"]
    per_period = [int(((ended > now - (i + 1) * MONTH) & (ended <= now - i * MONTH)).sum()) for i in range(int(months))]
    measured = sum(count > 0 for count in per_period)
    return float(measured), bool(measured == int(months))


def _recent_changes(f, now, days) -> pd.DataFrame:
    changes = f["changes"]
    when = changes["actual_start"].fillna(changes["planned_start"])
    return changes[(when > now - pd.Timedelta(days=days)) & (when <= now)]


def standard_changes(f, scope, now, days, min):
    return _at_least(_share(_recent_changes(f, now, days)["type"] == "standard"), min)


def emergency_changes_max(f, scope, now, days, max):
    return _at_most(_share(_recent_changes(f, now, days)["type"] == "emergency"), max)


def _quantile_per_service(frame: pd.DataFrame, column: str, scope: pd.Index, quantile: float) -> pd.Series:
    rows = frame[frame["service"].isin(scope)]
    return rows.groupby("service")[column].quantile(quantile)


def cpu_headroom(f, scope, now, quantile, max, min):
    per_service = _quantile_per_service(f["resource_metrics"], "cpu_ratio", scope, quantile)
    return _at_least(_share(per_service <= max), min)


def memory_headroom(f, scope, now, quantile, max, min):
    per_service = _quantile_per_service(f["resource_metrics"], "memory_ratio", scope, quantile)
    return _at_least(_share(per_service <= max), min)


def multi_instance(f, scope, now, min_instances, min):
    instances = f["resource_metrics"].groupby("service")["instance"].nunique()
    counts = pd.Series(scope, index=scope).map(instances).fillna(0)
    return _at_least(_share(counts >= min_instances) if len(scope) else None, min)


def availability_min(f, scope, now, min):
    value, _count = kpis.availability(f["service_metrics"], now - pd.Timedelta(days=1))
    return _at_least(value, min)


def _mean_per_service(f, column: str, scope: pd.Index) -> pd.Series:
    rows = f["service_metrics"][f["service_metrics"]["service"].isin(scope)]
    return rows.groupby("service")[column].mean()


def latency_max(f, scope, now, max_ms, min):
    return _at_least(_share(_mean_per_service(f, "latency_p95_ms", scope) <= max_ms), min)


def error_ratio_max(f, scope, now, max, min):
    return _at_least(_share(_mean_per_service(f, "error_ratio", scope) <= max), min)


def chaos_monthly(f, scope, now, months, min):
    runs = f["chaos_runs"]
    runs = runs[runs["status"].isin(resilience.TESTED) & runs["service"].isin(scope)]
    every = pd.Series(True, index=scope)
    for i in range(int(months)):
        period = runs[(runs["started_at"] > now - (i + 1) * MONTH) & (runs["started_at"] <= now - i * MONTH)]
        every &= pd.Series(scope.isin(period["service"]), index=scope)
    return _at_least(_share(every) if len(scope) else None, min)


def chaos_pass_rate(f, scope, now, min):
    value, _count = kpis.chaos_pass_rate(f["chaos_runs"], now)
    return _at_least(value, min)


def chaos_recovery_max(f, scope, now, days, max_s):
    runs = resilience.in_window(f["chaos_runs"], now - pd.Timedelta(days=days), now)
    recovery = runs["recovery_s"].dropna()
    return _at_most(float(recovery.median()) if len(recovery) else None, max_s)


def resilience_score_min(f, scope, now, min_score, min):
    runs = resilience.in_window(f["chaos_runs"], now - resilience.WINDOW, now)
    scores = pd.Series(scope, index=scope).map(resilience.service_scores(runs)).fillna(0.0)
    return _at_least(_share(scores >= min_score) if len(scope) else None, min)


def chain_chaos_coverage(f, scope, now, min):
    steps = resilience.coverage(f["chains"], f["chaos_runs"], now)
    return _at_least(_share(steps["coverage"] == "recent"), min)


def history_depth(f, scope, now, days):
    opened = f["incidents"]["opened_at"].dropna()
    depth = float((now - opened.min()).total_seconds() / 86400) if len(opened) else 0.0
    return depth, bool(depth >= days)


def _rule(measure, frames, **defaults) -> Rule:
    params = measure.__code__.co_varnames[3:measure.__code__.co_argcount]
    return Rule(measure, tuple(frames), template(f"rule.{measure.__name__}"), tuple(params), defaults)


RULES: dict[str, Rule] = {
    "metrics_coverage": _rule(metrics_coverage, ["service_metrics"]),
    "resource_coverage": _rule(resource_coverage, ["resource_metrics"]),
    "trace_coverage": _rule(trace_coverage, ["calls"]),
    "sources_healthy": _rule(sources_healthy, ["source_status"]),
    "alert_runbooks": _rule(alert_runbooks, ["alerts"]),
    "service_runbooks": _rule(service_runbooks, ["services"]),
    "service_owners": _rule(service_owners, ["services"]),
    "services_known": _rule(services_known, ["services"]),
    "chains_defined": _rule(chains_defined, ["chains", "services"]),
    "dependencies_known": _rule(dependencies_known, ["edges"]),
    "incidents_recorded": _rule(incidents_recorded, ["incidents"]),
    "changes_recorded": _rule(changes_recorded, ["changes"]),
    "resolution_tracked": _rule(resolution_tracked, ["incidents"]),
    "incident_runbooks": _rule(incident_runbooks, ["incidents"]),
    "mtta_max": _rule(mtta_max, ["incidents"]),
    "mttr_max": _rule(mttr_max, ["incidents"]),
    "change_success_rate": _rule(change_success_rate, ["changes", "incidents"]),
    "change_induced_max": _rule(change_induced_max, ["changes", "incidents"]),
    "changes_measured_monthly": _rule(changes_measured_monthly, ["changes"]),
    "standard_changes": _rule(standard_changes, ["changes"]),
    "emergency_changes_max": _rule(emergency_changes_max, ["changes"]),
    "cpu_headroom": _rule(cpu_headroom, ["resource_metrics"]),
    "memory_headroom": _rule(memory_headroom, ["resource_metrics"]),
    "multi_instance": _rule(multi_instance, ["resource_metrics"]),
    "availability_min": _rule(availability_min, ["service_metrics"]),
    "latency_max": _rule(latency_max, ["service_metrics"]),
    "error_ratio_max": _rule(error_ratio_max, ["service_metrics"]),
    "chaos_monthly": _rule(chaos_monthly, ["chaos_runs"]),
    "chaos_pass_rate": _rule(chaos_pass_rate, ["chaos_runs"]),
    "chaos_recovery_max": _rule(chaos_recovery_max, ["chaos_runs"]),
    "resilience_score_min": _rule(resilience_score_min, ["chaos_runs"]),
    "chain_chaos_coverage": _rule(chain_chaos_coverage, ["chains", "chaos_runs"]),
    "history_depth": _rule(history_depth, ["incidents"]),
}

SCOPES = {(1,): "tier1", (1, 2): "tier1-2", (1, 2, 3): "all"}  # tiers -> the scope's words, rule.scope.<key>


def digest(frames: dict[str, pd.DataFrame], names) -> str:
    """SHA-256 over the named frames' rows (content only, in row order)."""
    sha = hashlib.sha256()
    for name in sorted(set(names)):
        frame = frames[name]
        sha.update(name.encode())
        sha.update(",".join(frame.columns).encode())
        sha.update(np.ascontiguousarray(pd.util.hash_pandas_object(frame, index=False).to_numpy()).tobytes())
    return sha.hexdigest()


def query_text(item, lang: str = "en") -> str:
    """The rule of ``item`` in words (in ``lang``), with its parameters and scope; evaluations store it in English."""
    kind = item.rule["kind"]
    params = {**RULES[kind].defaults, **{k: v for k, v in item.rule.items() if k != "kind"}}
    return f"{kind}: " + t(f"rule.{kind}", lang, scope=t(f"rule.scope.{SCOPES[item.tiers]}", lang), **params)


def evaluate(item, frames: dict[str, pd.DataFrame], now: pd.Timestamp) -> Evaluation:
    """Evaluate one automatic item on ``frames`` at ``now``."""
    rule = RULES[item.rule["kind"]]
    params = {**rule.defaults, **{k: v for k, v in item.rule.items() if k != "kind"}}
    services = frames["services"]
    scope = pd.Index(services.loc[services["tier"].isin(item.tiers), "service"].unique())
    value, passed = rule.measure(frames, scope, now, **params)
    read = rule.frames + (("services",) if item.applies_to != "all" or "scope" in rule.text else ())
    return Evaluation(item.id, item.rule["kind"], query_text(item), None if value is None else float(value),
                      passed, digest(frames, read))


def evaluate_all(catalogue, frames: dict[str, pd.DataFrame], now: pd.Timestamp) -> list[Evaluation]:
    """Evaluate every automatic item of ``catalogue``."""
    return [evaluate(item, frames, now) for item in catalogue.items if item.automatic]
