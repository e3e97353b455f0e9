"""The wall's roll-up: everything the center knows about a service, as one status with its reasons.

A service's status is the worst of what these say (``nodata`` only when none says anything):

- its health rules (``health.evaluate``): crit above its target, warn above ``amber_at`` x target,
  nodata without recent metrics;
- its firing alerts: critical -> crit, warning -> warn (info, pending, silenced, inhibited and
  resolved alerts do not count);
- its anomalies that lasted into the last ``RECENT_MINUTES`` of metrics: warn;
- its saturated instances (mean CPU >= ``SATURATED_CPU`` or memory >= ``SATURATED_MEMORY`` over the
  last ``RECENT_MINUTES``, the drill-down's thresholds): warn;
- the sites its instances run at (``analytics.sites.site_states``): a drained, thinned or silent site makes it
  warn, having lost that site's share of its capacity.

Every contribution is a ``Reason`` (status, kind, formatted values), worst first, so a tile can say
why. A chain takes its worst step's status; the header takes the worst chain's, raised by open
P1 (crit) or P2 (warn) incidents, and counts the services on the wall that need attention.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.analytics import health
from dashboard.analytics.drilldown import SATURATED_CPU, SATURATED_MEMORY
from dashboard.formats import fmt_ms, fmt_pct, fmt_rate

RECENT_MINUTES = health.RECENT_MINUTES
SEVERITY_STATUS = {"critical": "crit", "warning": "warn"}
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}
RANK = {"ok": 0, "nodata": 1, "warn": 2, "crit": 3}
ATTENTION = ("warn", "crit")
COLUMNS = ["service", "status", "metric", "reasons"]


@dataclass(frozen=True)
class Reason:
    """Why a service has a status: ``kind`` names the text (``i18n`` key ``reason.<kind>``), ``values`` fill it."""

    status: str
    kind: str
    values: tuple[tuple[str, str], ...] = ()

    def params(self) -> dict[str, str]:
        return dict(self.values)


def _reason(status: str, kind: str, **values: str) -> Reason:
    return Reason(status, kind, tuple(values.items()))


def fmt_metric(metric: str, value: float) -> str:
    """A metric's value as the pages show it."""
    if metric.startswith("latency"):
        return fmt_ms(value)
    if metric == "requests_per_s":
        return fmt_rate(value)
    return fmt_pct(value, 2 if metric == "error_ratio" else 0)


def worst(statuses) -> str:
    """The worst of ``statuses`` by ``RANK``: a step without data is not healthy (``nodata`` for none)."""
    return max(statuses, key=RANK.__getitem__, default="nodata")


# ---------------------------------------------------------------- what each signal says


def _rule_reasons(evaluated: pd.DataFrame, amber_at: float) -> dict[str, list[Reason]]:
    out: dict[str, list[Reason]] = {}
    for row in evaluated.itertuples(index=False):
        if row.status == "nodata":
            out[row.service] = [_reason("nodata", "nodata")]
            continue
        found = []
        for kind, value, target, fmt in (
            ("latency", row.latency_p95_ms, row.p95_target_ms, fmt_ms),
            ("errors", row.error_ratio, row.error_target, lambda v: fmt_pct(v, 1)),
        ):
            if pd.notna(value) and value > amber_at * target:
                status, limit = ("crit", target) if value > target else ("warn", amber_at * target)
                found.append(_reason(status, kind, value=fmt(value), limit=fmt(limit)))
        out[row.service] = found
    return out


def _alert_reasons(alerts: pd.DataFrame) -> dict[str, list[Reason]]:
    firing = alerts[
        (alerts["state"] == "firing") & alerts["severity"].isin(list(SEVERITY_STATUS)) & alerts["service"].notna()
    ]
    firing = firing.sort_values(
        ["severity", "starts_at"], key=lambda c: c.map(SEVERITY_ORDER) if c.name == "severity" else c, kind="stable"
    )
    out: dict[str, list[Reason]] = {}
    for service, name, severity in zip(firing["service"], firing["name"], firing["severity"]):
        reason = _reason(SEVERITY_STATUS[severity], f"alert_{severity}", name=str(name))
        if reason not in out.setdefault(service, []):
            out[service].append(reason)
    return out


def _anomaly_reasons(anomalies: pd.DataFrame, newest: pd.Timestamp | None) -> dict[str, list[Reason]]:
    if anomalies.empty or newest is None:
        return {}
    recent = anomalies[anomalies["end"] >= newest - pd.Timedelta(minutes=RECENT_MINUTES)]
    out: dict[str, list[Reason]] = {}
    for row in recent.sort_values("score", ascending=False).itertuples(index=False):
        out.setdefault(row.service, []).append(
            _reason(
                "warn",
                "anomaly",
                metric=row.metric,
                instance=row.instance if isinstance(row.instance, str) else "",
                value=fmt_metric(row.metric, row.value),
                usual=fmt_metric(row.metric, row.baseline),
            )
        )
    return out


def _saturation_reasons(resources: pd.DataFrame) -> dict[str, list[Reason]]:
    if resources.empty:
        return {}
    recent = resources[resources["ts"] > resources["ts"].max() - pd.Timedelta(minutes=RECENT_MINUTES)]
    means = recent.groupby(["service", "instance"], as_index=False)[["cpu_ratio", "memory_ratio"]].mean()
    out: dict[str, list[Reason]] = {}
    for row in means.itertuples(index=False):
        for kind, value, limit in (
            ("cpu", row.cpu_ratio, SATURATED_CPU),
            ("memory", row.memory_ratio, SATURATED_MEMORY),
        ):
            if pd.notna(value) and value >= limit:
                out.setdefault(row.service, []).append(
                    _reason("warn", kind, instance=row.instance, value=fmt_pct(value, 0))
                )
    return out


def _site_reasons(instances: pd.DataFrame, site_states: pd.DataFrame) -> dict[str, list[Reason]]:
    troubled = site_states[site_states["status"].isin(ATTENTION)]
    out: dict[str, list[Reason]] = {}
    for site in troubled.itertuples(index=False):
        reason = _reason("warn", f"site_{site.kind}", site=site.site, share=fmt_pct(site.share, 0))
        for service in dict.fromkeys(instances.loc[instances["site"] == site.site, "service"]):
            out.setdefault(service, []).append(reason)
    return out


def main_metric(evaluated: pd.DataFrame, amber_at: float) -> pd.Series:
    """Per service the metric its tile shows large: ``errors`` when errors break their rule further than
    latency does, else ``latency``."""
    p95 = (evaluated["latency_p95_ms"] / evaluated["p95_target_ms"]).fillna(0)
    errors = (evaluated["error_ratio"] / evaluated["error_target"]).fillna(0)
    return pd.Series(
        ["errors" if e > amber_at and e > p else "latency" for p, e in zip(p95, errors)], index=evaluated.index
    )


# ---------------------------------------------------------------- services, chains, header


def services(
    evaluated: pd.DataFrame,
    alerts: pd.DataFrame,
    anomalies: pd.DataFrame,
    resources: pd.DataFrame,
    instances: pd.DataFrame,
    site_states: pd.DataFrame,
    amber_at: float,
    newest: pd.Timestamp | None,
) -> pd.DataFrame:
    """One row per evaluated service: its rolled-up status, the metric its tile shows large, and its
    reasons worst first; ``newest`` is the time of the newest metrics (anomalies until then count)."""
    signals = [
        _alert_reasons(alerts),
        _anomaly_reasons(anomalies, newest),
        _saturation_reasons(resources),
        _site_reasons(instances, site_states),
    ]
    rules = _rule_reasons(evaluated, amber_at)
    rows = []
    for service, metric in zip(evaluated["service"], main_metric(evaluated, amber_at)):
        known = [r for signal in signals for r in signal.get(service, [])]
        reasons = [r for r in rules.get(service, []) if r.status != "nodata" or not known] + known
        reasons.sort(key=lambda r: -RANK[r.status])
        rows.append((service, worst([r.status for r in reasons]) if reasons else "ok", metric, reasons))
    return pd.DataFrame(rows, columns=COLUMNS)


def chains(layout: list[dict], rolled: pd.DataFrame) -> list[dict]:
    """Per chain of ``layout``: its status (the worst step's) and, as ``worst``, (service, first reason)
    of the steps at that status."""
    first = rolled.drop_duplicates("service")
    statuses = dict(zip(first["service"], first["status"]))
    reasons = dict(zip(first["service"], first["reasons"]))
    out = []
    for chain in layout:
        steps = [s for s in chain["services"] if s in statuses]
        status = worst([statuses[s] for s in steps])
        worst_steps = [(s, reasons[s][0]) for s in dict.fromkeys(steps) if statuses[s] == status and reasons[s]]
        out.append({"chain": chain["chain"], "status": status, "worst": worst_steps if status != "ok" else []})
    return out


def header(rolled_chains: list[dict], rolled: pd.DataFrame, layout: list[dict], alarm: str) -> dict:
    """The header: the worst chain's status raised by the incidents' ``alarm``, and how many of the
    services on the wall need attention."""
    shown = {s for chain in layout for s in chain["services"]}
    on_wall = rolled[rolled["service"].isin(shown)].drop_duplicates("service")
    status = worst([c["status"] for c in rolled_chains] + ([alarm] if alarm in ATTENTION else []))
    return {"status": status, "attention": int(on_wall["status"].isin(ATTENTION).sum()), "total": len(on_wall)}


def firing_alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    """Firing alerts, critical first, then warning, then info; newest first within a severity."""
    firing = alerts[alerts["state"] == "firing"]
    return (
        firing.assign(_rank=firing["severity"].map(SEVERITY_ORDER))
        .sort_values(["_rank", "starts_at"], ascending=[True, False], kind="stable")
        .drop(columns="_rank")
    )
