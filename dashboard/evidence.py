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

from dashboard import incident_stats, kpis, resilience

MONTH = pd.Timedelta(days=30)


@dataclass(frozen=True)
class Rule:
    """A rule kind: its function, its parameters (with defaults), the frames it reads and its text."""

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


def _rule(measure, frames, text, **defaults) -> Rule:
    params = measure.__code__.co_varnames[3:measure.__code__.co_argcount]
    return Rule(measure, tuple(frames), text, tuple(params), defaults)


RULES: dict[str, Rule] = {
    "metrics_coverage": _rule(metrics_coverage, ["service_metrics"], "share of {scope} services with service metrics >= {min:.0%}"),
    "resource_coverage": _rule(resource_coverage, ["resource_metrics"], "share of {scope} services with resource metrics >= {min:.0%}"),
    "trace_coverage": _rule(trace_coverage, ["calls"], "share of {scope} services seen in traced calls >= {min:.0%}"),
    "sources_healthy": _rule(sources_healthy, ["source_status"], "share of sources whose last poll succeeded >= {min:.0%}"),
    "alert_runbooks": _rule(alert_runbooks, ["alerts"], "share of alerts on {scope} services naming a runbook >= {min:.0%}"),
    "service_runbooks": _rule(service_runbooks, ["services"], "share of {scope} services with a runbook URL >= {min:.0%}"),
    "service_owners": _rule(service_owners, ["services"], "share of {scope} services with an owner >= {min:.0%}"),
    "services_known": _rule(services_known, ["services"], "number of services in the inventory >= {min:g}"),
    "chains_defined": _rule(chains_defined, ["chains", "services"], "at least one business chain, every step a known service"),
    "dependencies_known": _rule(dependencies_known, ["edges"], "observed calls between services > 0"),
    "incidents_recorded": _rule(incidents_recorded, ["incidents"], "incidents opened in the last {days:g} days > 0"),
    "changes_recorded": _rule(changes_recorded, ["changes"], "changes planned within {days:g} days of now > 0"),
    "resolution_tracked": _rule(resolution_tracked, ["incidents"],
                                "share of finished P1-P{max_priority:g} incidents of the last {days:g} days with a resolution time >= {min:.0%}"),
    "incident_runbooks": _rule(incident_runbooks, ["incidents"],
                               "share of P1-P{max_priority:g} incidents of the last {days:g} days naming a runbook >= {min:.0%}"),
    "mtta_max": _rule(mtta_max, ["incidents"], "mean time to acknowledge P{priority:g} over {days:g} days <= {max_min:g} min"),
    "mttr_max": _rule(mttr_max, ["incidents"], "mean time to restore P{priority:g} over {days:g} days <= {max_min:g} min"),
    "change_success_rate": _rule(change_success_rate, ["changes", "incidents"],
                                 "successful changes among those ended in {days:g} days with a known outcome >= {min:.0%}"),
    "change_induced_max": _rule(change_induced_max, ["changes", "incidents"],
                                "share of incidents of the last {days:g} days caused by a change <= {max:.0%}"),
    "changes_measured_monthly": _rule(changes_measured_monthly, ["changes"],
                                      "30-day periods (of the last {months:g}) with changes of known outcome = {months:g}"),
    "standard_changes": _rule(standard_changes, ["changes"], "share of standard changes in {days:g} days >= {min:.0%}"),
    "emergency_changes_max": _rule(emergency_changes_max, ["changes"], "share of emergency changes in {days:g} days <= {max:.0%}"),
    "cpu_headroom": _rule(cpu_headroom, ["resource_metrics"],
                          "share of {scope} services with p{quantile:.0%} CPU <= {max:.0%} >= {min:.0%}"),
    "memory_headroom": _rule(memory_headroom, ["resource_metrics"],
                             "share of {scope} services with p{quantile:.0%} memory <= {max:.0%} >= {min:.0%}"),
    "multi_instance": _rule(multi_instance, ["resource_metrics"],
                            "share of {scope} services on at least {min_instances:g} instances >= {min:.0%}"),
    "availability_min": _rule(availability_min, ["service_metrics"], "request-weighted success over the last day >= {min:.2%}"),
    "latency_max": _rule(latency_max, ["service_metrics"], "share of {scope} services with mean p95 latency <= {max_ms:g} ms >= {min:.0%}"),
    "error_ratio_max": _rule(error_ratio_max, ["service_metrics"], "share of {scope} services with mean error ratio <= {max:.1%} >= {min:.0%}"),
    "chaos_monthly": _rule(chaos_monthly, ["chaos_runs"],
                           "share of {scope} services with a chaos run in each of the last {months:g} 30-day periods >= {min:.0%}"),
    "chaos_pass_rate": _rule(chaos_pass_rate, ["chaos_runs"], "chaos runs passed among those ended in 30 days >= {min:.0%}"),
    "chaos_recovery_max": _rule(chaos_recovery_max, ["chaos_runs"], "median recovery of chaos runs in {days:g} days <= {max_s:g} s"),
    "resilience_score_min": _rule(resilience_score_min, ["chaos_runs"],
                                  "share of {scope} services with a resilience score >= {min_score:g} >= {min:.0%}"),
    "chain_chaos_coverage": _rule(chain_chaos_coverage, ["chains", "chaos_runs"],
                                  "share of chain steps with a chaos run in 30 days >= {min:.0%}"),
    "history_depth": _rule(history_depth, ["incidents"], "days of incident history >= {days:g}"),
}

SCOPES = {(1,): "tier-1", (1, 2): "tier-1/2", (1, 2, 3): "all"}


def digest(frames: dict[str, pd.DataFrame], names) -> str:
    """SHA-256 over the named frames' rows (content only, in row order)."""
    sha = hashlib.sha256()
    for name in sorted(set(names)):
        frame = frames[name]
        sha.update(name.encode())
        sha.update(",".join(frame.columns).encode())
        sha.update(np.ascontiguousarray(pd.util.hash_pandas_object(frame, index=False).to_numpy()).tobytes())
    return sha.hexdigest()


def query_text(item) -> str:
    """The rule of ``item`` in words, with its parameters and scope."""
    rule = RULES[item.rule["kind"]]
    params = {**rule.defaults, **{k: v for k, v in item.rule.items() if k != "kind"}}
    return f"{item.rule['kind']}: " + rule.text.format(scope=SCOPES[item.tiers], **params)


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
