"""Evidence rules: what each catalogue rule measures on the frames, as pure functions.

A rule takes the frames (live frames, with incidents, changes and chaos runs completed from
history), the services the item applies to and the moment, and returns ``(value, passed, findings)``;
``passed`` is None when there is nothing to judge (no service in scope, no incident in the
window), and ``findings`` (``dashboard.maturity.findings``) say what fails, only when it fails.
``evaluate`` adds the rule's text with its parameters and a SHA-256 digest of the frames it read,
so a stored evaluation says what was asked and of which data, and keeps at most ``findings.LIMIT``
findings.

"Each of the last N months" means each of the N 30-day periods ending now.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dashboard.analytics import freeze, kpis, resilience
from dashboard.analytics import incidents as incident_stats
from dashboard.command.checklist import COLUMNS as TICK_COLUMNS
from dashboard.command.preplans import FRAME_COLUMNS as PREPLAN_COLUMNS
from dashboard.i18n import t, template
from dashboard.maturity.findings import capped, finding

MONTH = pd.Timedelta(days=30)
OWN_FRAMES = {"preplans": PREPLAN_COLUMNS, "preplan_steps": TICK_COLUMNS}  # opscenter's own records: empty if not given
Measured = tuple[float | None, bool | None, list[dict]]  # what a rule returns


@dataclass(frozen=True)
class Rule:
    """A rule kind: its function, its parameters (with defaults), the frames it reads and its text (English,
    from ``i18n``'s ``rule.<kind>``)."""

    measure: Callable[..., Measured]
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
    findings: tuple[dict, ...] = ()


def _share(hits: pd.Series) -> float | None:
    return float(hits.mean()) if len(hits) else None


def _at_least(value: float | None, minimum: float, found=()) -> Measured:
    return _judged(value, None if value is None else bool(value >= minimum - 1e-12), found)


def _at_most(value: float | None, maximum: float, found=()) -> Measured:
    return _judged(value, None if value is None else bool(value <= maximum + 1e-12), found)


def _judged(value: float | None, passed: bool | None, found) -> Measured:
    """A result, with its findings only when it fails."""
    return value, passed, list(found) if passed is False else []


def _covered(scope: pd.Index, present) -> float | None:
    return _share(pd.Series(scope.isin(pd.Index(present)))) if len(scope) else None


def _missing(scope: pd.Index, present, measure: str, **params) -> list[dict]:
    """A finding per service in scope that is not ``present``."""
    return [finding(measure, service, **params) for service in sorted(scope.difference(pd.Index(present)))]


def _beyond(values: pd.Series, limit: float, measure: str, unit: str, op: str, **params) -> list[dict]:
    """A finding per entry of ``values`` on the wrong side of ``limit``, the farthest first."""
    wrong = values[values > limit + 1e-12] if op == ">" else values[values < limit - 1e-12]
    wrong = wrong.sort_index().sort_values(ascending=op == "<", kind="stable")
    return [finding(measure, str(key), value, limit, unit, op, **params) for key, value in wrong.items()]


def _coverage(f, scope, frame_name: str, measure: str, min):
    present = f[frame_name]["service"].unique()
    return _at_least(_covered(scope, present), min, _missing(scope, present, measure))


def metrics_coverage(f, scope, now, min):
    return _coverage(f, scope, "service_metrics", "no_service_metrics", min)


def resource_coverage(f, scope, now, min):
    return _coverage(f, scope, "resource_metrics", "no_resource_metrics", min)


def trace_coverage(f, scope, now, min):
    return _coverage(f, scope, "calls", "no_traced_calls", min)


def sources_healthy(f, scope, now, min):
    status = f["source_status"]
    ok = status["ok"].astype(bool)
    return _at_least(_share(ok), min, [finding("source_failing", s) for s in sorted(status.loc[~ok, "source"])])


def _without(rows: pd.DataFrame, column: str) -> pd.Series:
    return rows[column].isna() | (rows[column] == "")


def alert_runbooks(f, scope, now, min):
    alerts = f["alerts"][f["alerts"]["service"].isin(scope) | f["alerts"]["service"].isna()]
    lacking = alerts[_without(alerts, "runbook_url")]
    names = sorted({f"{a.name} ({a.service})" if isinstance(a.service, str) else a.name for a in lacking.itertuples()})
    return _at_least(_share(~_without(alerts, "runbook_url")), min, [finding("alert_no_runbook", n) for n in names])


def _service_rows(f, scope) -> pd.DataFrame:
    return f["services"][f["services"]["service"].isin(scope)]


def _service_field(f, scope, column: str, measure: str, min):
    rows = _service_rows(f, scope)
    lacking = sorted(rows.loc[_without(rows, column), "service"].unique())
    return _at_least(_share(~_without(rows, column)), min, [finding(measure, s) for s in lacking])


def service_runbooks(f, scope, now, min):
    return _service_field(f, scope, "runbook_url", "service_no_runbook", min)


def service_owners(f, scope, now, min):
    return _service_field(f, scope, "owner", "service_no_owner", min)


def services_known(f, scope, now, min):
    count = float(f["services"]["service"].nunique())
    return _at_least(count, min, [finding("services", value=count, limit=min, op="<")])


def chains_defined(f, scope, now):
    chains = f["chains"]
    if not len(chains):
        return 0.0, False, [finding("no_chains")]
    unknown = chains[~chains["service"].isin(f["services"]["service"])]
    found = [finding("unknown_service", f"{step.chain} › {step.service}") for step in unknown.itertuples()]
    return _judged(float(chains["chain"].nunique()), not found, found)


def dependencies_known(f, scope, now):
    count = float(len(f["edges"]))
    return _judged(count, count > 0, [finding("no_edges")])


def _opened_in(incidents: pd.DataFrame, now: pd.Timestamp, days: float, max_priority: int) -> pd.DataFrame:
    rows = incidents[(incidents["opened_at"] > now - pd.Timedelta(days=days)) & (incidents["opened_at"] <= now)]
    return rows[(rows["priority"] <= max_priority) & (rows["state"] != "cancelled")]


def incidents_recorded(f, scope, now, days):
    count = float(len(_opened_in(f["incidents"], now, days, 5)))
    return _judged(count, count > 0, [finding("no_incidents", days=days)])


def changes_recorded(f, scope, now, days):
    planned = f["changes"]["planned_start"]
    count = float(((planned > now - pd.Timedelta(days=days)) & (planned <= now + pd.Timedelta(days=days))).sum())
    return _judged(count, count > 0, [finding("no_changes", days=days)])


def _incident_ids(rows: pd.DataFrame, measure: str) -> list[dict]:
    return [finding(measure, str(i)) for i in rows.sort_values("opened_at", ascending=False)["incident_id"]]


def resolution_tracked(f, scope, now, days, max_priority, min):
    finished = _opened_in(f["incidents"], now, days, max_priority)
    finished = finished[~finished["state"].isin(incident_stats.ACTIVE_STATES)]
    return _at_least(
        _share(finished["resolved_at"].notna()),
        min,
        _incident_ids(finished[finished["resolved_at"].isna()], "no_resolution_time"),
    )


def incident_runbooks(f, scope, now, days, max_priority, min):
    rows = _opened_in(f["incidents"], now, days, max_priority)
    return _at_least(
        _share(~_without(rows, "runbook_url")),
        min,
        _incident_ids(rows[_without(rows, "runbook_url")], "incident_no_runbook"),
    )


def _response(f, now, days, priority, column) -> float | None:
    times = incident_stats.response_times(f["incidents"], now, int(days))
    value = times.loc[times["priority"] == priority, column].iloc[0]
    return None if pd.isna(value) else float(value)


def mtta_max(f, scope, now, priority, days, max_min):
    value = _response(f, now, days, priority, "mtta_min")
    return _at_most(value, max_min, [finding("mtta", f"P{priority:g}", value, max_min, "min", ">")])


def mttr_max(f, scope, now, priority, days, max_min):
    value = _response(f, now, days, priority, "mttr_min")
    return _at_most(value, max_min, [finding("mttr", f"P{priority:g}", value, max_min, "min", ">")])


def change_success_rate(f, scope, now, days, min):
    value = incident_stats.change_rates(f["changes"], f["incidents"], now, int(days))["success_rate"]
    return _at_least(value, min, [finding("change_success", None, value, min, "%", "<")])


def change_induced_max(f, scope, now, days, max):
    value = incident_stats.change_rates(f["changes"], f["incidents"], now, int(days))["change_induced_rate"]
    return _at_most(value, max, [finding("change_induced", None, value, max, "%", ">")])


def changes_measured_monthly(f, scope, now, months):
    changes = f["changes"]
    ended = changes.loc[changes["outcome"].isin(kpis.KNOWN_OUTCOMES), "actual_end"]
    periods = [(now - (i + 1) * MONTH, now - i * MONTH) for i in range(int(months))]
    empty = [(start, end) for start, end in periods if not ((ended > start) & (ended <= end)).any()]
    found = [finding("no_measured_changes", f"{start:%Y-%m-%d} – {end:%Y-%m-%d}") for start, end in empty]
    return _judged(float(len(periods) - len(empty)), not empty, found)


def _recent_changes(f, now, days) -> pd.DataFrame:
    changes = f["changes"]
    when = changes["actual_start"].fillna(changes["planned_start"])
    return changes[(when > now - pd.Timedelta(days=days)) & (when <= now)]


def standard_changes(f, scope, now, days, min):
    value = _share(_recent_changes(f, now, days)["type"] == "standard")
    return _at_least(value, min, [finding("standard_changes", None, value, min, "%", "<")])


def emergency_changes_max(f, scope, now, days, max):
    value = _share(_recent_changes(f, now, days)["type"] == "emergency")
    return _at_most(value, max, [finding("emergency_changes", None, value, max, "%", ">")])


def freeze_breaches_max(f, scope, now, days, max):
    """Non-emergency changes and chaos runs made during a change freeze (``analytics.freeze``) in ``days``;
    nothing to judge without a change or a chaos run known."""
    if f["changes"].empty and f["chaos_runs"].empty:
        return None, None, []
    recent = freeze.recent(f["freeze_breaches"], now, int(days))
    recent = recent[recent["flagged"].astype(bool)]
    found = [
        finding("freeze_window", f"{row.id} ({row.service})", name=row.freeze)
        if row.reason == "window"
        else finding("freeze_session", f"{row.id} ({row.service})", market=row.freeze)
        for row in recent.itertuples(index=False)
    ]
    return _at_most(float(len(recent)), max, found)


def _quantile_per_service(frame: pd.DataFrame, column: str, scope: pd.Index, quantile: float) -> pd.Series:
    rows = frame[frame["service"].isin(scope)]
    return rows.groupby("service")[column].quantile(quantile)


def _headroom(f, scope, column: str, measure: str, quantile, max, min):
    per_service = _quantile_per_service(f["resource_metrics"], column, scope, quantile)
    return _at_least(
        _share(per_service <= max), min, _beyond(per_service, max, measure, "%", ">", quantile=f"{quantile * 100:g}")
    )


def cpu_headroom(f, scope, now, quantile, max, min):
    return _headroom(f, scope, "cpu_ratio", "cpu", quantile, max, min)


def memory_headroom(f, scope, now, quantile, max, min):
    return _headroom(f, scope, "memory_ratio", "memory", quantile, max, min)


def multi_instance(f, scope, now, min_instances, min):
    instances = f["resource_metrics"].groupby("service")["instance"].nunique()
    counts = pd.Series(scope, index=scope).map(instances).fillna(0)
    return _at_least(
        _share(counts >= min_instances) if len(scope) else None,
        min,
        _beyond(counts, min_instances, "instances", "", "<"),
    )


def availability_min(f, scope, now, min):
    value, _count = kpis.availability(f["service_metrics"], now - pd.Timedelta(days=1))
    return _at_least(value, min, [finding("availability", None, value, min, "%", "<")])


def _mean_per_service(f, column: str, scope: pd.Index) -> pd.Series:
    rows = f["service_metrics"][f["service_metrics"]["service"].isin(scope)]
    return rows.groupby("service")[column].mean()


def latency_max(f, scope, now, max_ms, min):
    per_service = _mean_per_service(f, "latency_p95_ms", scope)
    return _at_least(_share(per_service <= max_ms), min, _beyond(per_service, max_ms, "p95", "ms", ">"))


def error_ratio_max(f, scope, now, max, min):
    per_service = _mean_per_service(f, "error_ratio", scope)
    return _at_least(_share(per_service <= max), min, _beyond(per_service, max, "error_ratio", "%", ">"))


def chaos_monthly(f, scope, now, months, min):
    runs = f["chaos_runs"]
    runs = runs[runs["status"].isin(resilience.TESTED) & runs["service"].isin(scope)]
    periods = pd.Series(0, index=scope)
    for i in range(int(months)):
        period = runs[(runs["started_at"] > now - (i + 1) * MONTH) & (runs["started_at"] <= now - i * MONTH)]
        periods += scope.isin(period["service"]).astype(int)
    return _at_least(
        _share(periods >= int(months)) if len(scope) else None,
        min,
        _beyond(periods, int(months), "chaos_periods", "", "<"),
    )


def chaos_pass_rate(f, scope, now, min):
    value, _count = kpis.chaos_pass_rate(f["chaos_runs"], now)
    return _at_least(value, min, [finding("chaos_pass_rate", None, value, min, "%", "<")])


def chaos_recovery_max(f, scope, now, days, max_s):
    runs = resilience.in_window(f["chaos_runs"], now - pd.Timedelta(days=days), now)
    recovery = runs["recovery_s"].dropna()
    value = float(recovery.median()) if len(recovery) else None
    return _at_most(value, max_s, [finding("chaos_recovery", None, value, max_s, "s", ">")])


def resilience_score_min(f, scope, now, min_score, min):
    runs = resilience.in_window(f["chaos_runs"], now - resilience.WINDOW, now)
    scores = pd.Series(scope, index=scope).map(resilience.service_scores(runs)).fillna(0.0)
    return _at_least(
        _share(scores >= min_score) if len(scope) else None,
        min,
        _beyond(scores, min_score, "resilience_score", "", "<"),
    )


def chain_chaos_coverage(f, scope, now, min):
    steps = resilience.coverage(f["chains"], f["chaos_runs"], now)
    untested = steps[steps["coverage"] != "recent"]
    return _at_least(
        _share(steps["coverage"] == "recent"),
        min,
        [finding("no_recent_chaos", f"{s.chain} › {s.service}") for s in untested.itertuples()],
    )


def service_preplans(f, scope, now, min):
    covered = f["preplans"]["service"].dropna().unique()
    return _at_least(_covered(scope, covered), min, _missing(scope, covered, "service_no_preplan"))


def preplans_drilled(f, scope, now, days, min):
    """Services whose pre-plan a drill exercised in the last ``days``: a chaos run naming it in ``x_preplan``."""
    runs = resilience.in_window(f["chaos_runs"], now - pd.Timedelta(days=days), now)
    named = runs.loc[runs["status"].isin(resilience.TESTED), "x_preplan"] if "x_preplan" in runs else pd.Series()
    plans = f["preplans"]
    drilled = plans.loc[plans["preplan_id"].isin(named.dropna()), "service"].dropna().unique()
    return _at_least(_covered(scope, drilled), min, _missing(scope, drilled, "preplan_not_drilled", days=days))


def checklists_completed(f, scope, now, days, max_priority, min):
    """Of the major incidents of the last ``days`` that had a pre-plan (their service's, or one ticked), the share
    whose checklist had every step ticked (each step's last tick or untick, on the version the first tick pinned)."""
    rows = _opened_in(f["incidents"], now, days, max_priority)
    ticks, plans = f["preplan_steps"], f["preplans"]
    keys = pd.MultiIndex.from_frame(rows[["source", "incident_id"]])
    ticked = pd.MultiIndex.from_frame(ticks[["source", "incident_id"]])
    rows = rows[rows["service"].isin(plans["service"].dropna()) | keys.isin(ticked)]
    first = ticks.drop_duplicates(["source", "incident_id"]).merge(
        plans.drop_duplicates(["preplan_id", "version"])[["preplan_id", "version", "steps"]]
    )
    last = ticks.drop_duplicates(["source", "incident_id", "step"], keep="last")
    done = last[last["done"].astype(bool)].groupby(["source", "incident_id"])["step"].nunique()
    steps = first.set_index(["source", "incident_id"])["steps"]
    complete = pd.MultiIndex.from_frame(rows[["source", "incident_id"]]).map(
        lambda key: key in steps.index and done.get(key, 0) >= steps[key]
    )
    completed = pd.Series(list(complete), index=rows.index, dtype=bool)
    return _at_least(_share(completed), min, _incident_ids(rows[~completed], "checklist_incomplete"))


def history_depth(f, scope, now, days):
    opened = f["incidents"]["opened_at"].dropna()
    depth = float((now - opened.min()).total_seconds() / 86400) if len(opened) else 0.0
    return _at_least(depth, days, [finding("history_depth", None, depth, days, "d", "<")])


def slo_tracked(f, scope, now, min):
    """Chains whose objectives have an error budget tracked: ``slo_status`` rows with session events."""
    chains = pd.Index(f["chains"]["chain"].unique())
    tracked = f["slo_status"].loc[f["slo_status"]["total"] > 0, "chain"].unique()
    return _at_least(_covered(chains, tracked), min, _missing(chains, tracked, "slo_untracked"))


def slo_budget_met(f, scope, now, min):
    """Chains with a budget tracked that none of their objectives has overspent over the budget's window."""
    status = f["slo_status"].dropna(subset=["budget_left"])
    met = status.groupby("chain")["budget_left"].min() >= 0
    spent = status[status["budget_left"] < 0]
    found = [
        finding(f"slo_budget_{r.objective}", r.chain, r.budget_left, 0.0, "%", "<")
        for r in spent.sort_values("budget_left").itertuples(index=False)
    ]
    return _at_least(_share(met), min, found)


def _rule(measure, frames, **defaults) -> Rule:
    params = measure.__code__.co_varnames[3 : measure.__code__.co_argcount]
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
    "freeze_breaches_max": _rule(freeze_breaches_max, ["freeze_breaches", "changes", "chaos_runs"]),
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
    "service_preplans": _rule(service_preplans, ["preplans"]),
    "preplans_drilled": _rule(preplans_drilled, ["chaos_runs", "preplans"]),
    "checklists_completed": _rule(checklists_completed, ["incidents", "preplans", "preplan_steps"]),
    "slo_tracked": _rule(slo_tracked, ["chains", "slo_status"]),
    "slo_budget_met": _rule(slo_budget_met, ["slo_status"]),
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
    frames = {**{name: pd.DataFrame(columns=columns) for name, columns in OWN_FRAMES.items()}, **frames}
    params = {**rule.defaults, **{k: v for k, v in item.rule.items() if k != "kind"}}
    services = frames["services"]
    scope = pd.Index(services.loc[services["tier"].isin(item.tiers), "service"].unique())
    value, passed, found = rule.measure(frames, scope, now, **params)
    read = rule.frames + (("services",) if item.applies_to != "all" or "scope" in rule.text else ())
    return Evaluation(
        item.id,
        item.rule["kind"],
        query_text(item),
        None if value is None else float(value),
        passed,
        digest(frames, read),
        tuple(capped(found)),
    )


def evaluate_all(catalogue, frames: dict[str, pd.DataFrame], now: pd.Timestamp) -> list[Evaluation]:
    """Evaluate every automatic item of ``catalogue``."""
    return [evaluate(item, frames, now) for item in catalogue.items if item.automatic]
