"""What the wall draws that is costly to compute, as small frames.

From the estate's frames: each service's health (``health.evaluate``), its rolled-up status and
the metric its tile shows large (``rollup.services``) with its reasons as data (status, kind and
the formatted values a language's text takes: ``status_reasons``, worst first per service), each
multi-site chain's site shares (``sites.chain_sites``), the estate's site states (``sites.site_states``),
the sparklines' points in the wall's order (``wallview.spark_frame``), the requests per metrics timestamp
that availability is computed from (``kpis.request_totals``), each market's feed state for the market strip
(``feeds.market_states``), each chain's headline business figure (``business.headlines``), the lists, and
the tile model in each language with its parts' digests (``wallmodel``: the chains as drawn, each tile's
figures formatted with its error-log rate and its reasons in words, each chain's status and why, the
header's status and counts (``rollup.header``) and the incidents' alarm, the site shares and budget badges),
so a wall refresh reads none of the large frames and formats what it reads. The poller's derived
step computes them after each poll of a frame they read and stores them with ``view_basis``: the
frame versions and the health rules they come from.
The wall uses them when that basis is the one it sees, else computes them with the same
``compute``; both sides call the functions here, so there is one way they are computed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable

import pandas as pd
import pyarrow as pa

from dashboard.analytics import business, feeds, health, kpis, logrates, rollup, sites, wallmodel, wallview
from dashboard.analytics.incidents import with_acknowledgements, without_ticket_copies
from dashboard.command import oversight
from dashboard.i18n import LANGUAGES
from datasources.base import CONTRACTS, POLLER_VIEWS, VIEW_FRAMES, empty_frame

INPUTS = (
    "services",
    "service_metrics",
    "alerts",
    "anomalies",
    "resource_metrics",
    "instances",
    "chains",
    "log_rates",
    "incidents",
    "incident_command",
    "changes",
    "chaos_runs",
    "feed_status",
    "business_metrics",
)
CHAOS_RUNS = 3  # the latest chaos runs the wall lists
VIEWS = tuple(
    n for n in VIEW_FRAMES if n not in ("view_basis", *POLLER_VIEWS)
)  # what compute gives; the basis: of what


def rules_digest(health_rules: dict) -> str:
    """A short digest of the health rules and the views' columns: views computed under other rules, or by a
    poller whose views have other columns (an older release during a deploy), are not the wall's."""
    columns = {name: [(c.name, c.kind) for c in CONTRACTS[name]] for name in VIEWS}
    basis = json.dumps([columns, health_rules], sort_keys=True, default=str)
    return hashlib.sha1(basis.encode()).hexdigest()[:16]


def _conform(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its contract's columns in order; an empty one with the contract's dtypes."""
    columns = [c.name for c in CONTRACTS[name]]
    return empty_frame(name) if frame.empty else frame[columns].reset_index(drop=True)


def reasons_frame(rolled: pd.DataFrame) -> pd.DataFrame:
    """The reasons of ``rollup.services``' rows, one row each in their order, their values as JSON."""
    rows = [
        (service, r.status, r.kind, json.dumps(r.params()))
        for service, reasons in zip(rolled["service"], rolled["reasons"])
        for r in reasons
    ]
    return pd.DataFrame(rows, columns=[c.name for c in CONTRACTS["status_reasons"]])


def reasons(status_reasons: pd.DataFrame) -> dict[str, list[rollup.Reason]]:
    """The reasons of ``rollup.services``' rows again, per service in their order, from ``status_reasons``."""
    found: dict[str, list[rollup.Reason]] = {}
    columns = (status_reasons[c].tolist() for c in ("service", "status", "kind", "values"))
    for service, status, kind, values in zip(*columns):
        found.setdefault(service, []).append(rollup.Reason(status, kind, tuple(json.loads(values).items())))
    return found


def rolled(service_status: pd.DataFrame, status_reasons: pd.DataFrame) -> pd.DataFrame:
    """``rollup.services``' frame again, from ``service_status`` and ``status_reasons``."""
    found = reasons(status_reasons)
    return pd.DataFrame(
        {
            "service": service_status["service"].to_numpy(),
            "status": service_status["status"].to_numpy(),
            "metric": service_status["metric"].to_numpy(),
            "reasons": [found.get(s, []) for s in service_status["service"].tolist()],
        },
        columns=rollup.COLUMNS,
    )


def incident_list(incidents: pd.DataFrame, command: pd.DataFrame) -> pd.DataFrame:
    """The active incidents in the wall's order (``wallview.active_incidents``), with the commander and last
    update of the P1/P2 (``oversight.commands``; empty for the others) and each one's place in the P1 banner
    (``wallview.major_incidents``; -1 for those not in it)."""
    active = wallview.active_incidents(incidents).reset_index(drop=True)
    keys = pd.MultiIndex.from_frame(active[["source", "incident_id"]])
    watch = oversight.commands(active, command).reindex(keys).set_axis(active.index)
    majors = wallview.major_incidents(active)
    banner = pd.Series(-1, index=active.index, dtype="int64")
    banner[majors.index] = range(len(majors))
    return active.assign(
        commander=watch["commander"].astype(object).where(watch["commander"].notna(), None),
        updated_at=watch["updated_at"],
        banner=banner,
    )


def change_list(changes: pd.DataFrame) -> pd.DataFrame:
    """The changes in progress in the wall's order (``wallview.changes_in_progress``), then the scheduled
    ones by planned start (the next is picked at the moment of drawing), marked by ``running``."""
    running = wallview.changes_in_progress(changes)
    scheduled = changes[changes["state"] == "scheduled"].sort_values("planned_start", kind="stable")
    return pd.concat([running.assign(running=True), scheduled.assign(running=False)], ignore_index=True)


def records(frame: pd.DataFrame) -> list[dict]:
    """A small view's rows as dicts, in plain Python, as ``FrameStore.records`` reads them stored (None where a
    value is missing): what a worker formats a list from."""
    return pa.Table.from_pandas(frame, preserve_index=False).to_pylist()


def compute(
    read: Callable[[str], pd.DataFrame],
    health_rules: dict,
    acknowledgements: pd.DataFrame | None = None,
    closures: tuple = (),
    slo_status: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """The ``VIEWS`` from the frames ``read(name)`` gives; MTTA counts ``acknowledgements`` (opscenter's:
    source, incident_id, acknowledged_at) where earlier than the source's; the market strip honours the
    declared ``closures`` (``calendar.Closure``); the tile model's budget badges are those of ``slo_status``
    (none without)."""
    services, metrics = read("services"), read("service_metrics")
    resources, instances = read("resource_metrics"), read("instances")
    evaluated = health.evaluate(services, metrics, health_rules)
    states = sites.site_states(instances, resources)
    statuses = rollup.services(
        evaluated,
        read("alerts"),
        read("anomalies"),
        resources,
        instances,
        states,
        health_rules["amber_at"],
        metrics["ts"].max() if len(metrics) else None,
    )
    layouts = {lang: wallview.structure(read("chains"), services, lang) for lang in LANGUAGES}
    layout = layouts[LANGUAGES[0]]  # the tiles' order, the same in every language
    order, rolled_chains = wallview.tile_order(layout), rollup.chains(layout, statuses)
    logs = logrates.tooltip_rates(logrates.errors_per_minute(read("log_rates")), order)
    incidents = read("incidents")
    header = {  # the incidents' alarm is raised in the browser
        **rollup.header(rolled_chains, statuses, layout, "ok"),
        "alarm": wallview.incident_status(incidents),
    }
    tiles = wallview.tile_figures(evaluated, statuses, order, logs)
    shares = sites.chain_sites(read("chains"), instances, resources)
    changes, runs = read("changes"), read("chaos_runs")
    acknowledged = without_ticket_copies(incidents)
    if acknowledgements is not None:
        acknowledged = with_acknowledgements(acknowledged, acknowledgements)
    return {
        "service_health": _conform("service_health", evaluated),
        "service_status": _conform("service_status", statuses),
        "status_reasons": _conform("status_reasons", reasons_frame(statuses)),
        "chain_sites": _conform("chain_sites", shares),
        "site_states": _conform("site_states", states),
        "spark": _conform("spark", wallview.spark_frame(metrics, order)),
        "request_totals": _conform("request_totals", kpis.request_totals(metrics)),
        "wall_incidents": _conform("wall_incidents", incident_list(incidents, read("incident_command"))),
        "wall_alerts": _conform("wall_alerts", rollup.firing_alerts(read("alerts"))),
        "wall_changes": _conform("wall_changes", change_list(changes)),
        "wall_chaos": _conform("wall_chaos", wallview.latest_chaos_runs(runs, CHAOS_RUNS)),
        "kpi_events": _conform("kpi_events", kpis.events(acknowledged, incidents, changes, runs)),
        "wall_model": wallmodel.frame(
            {
                lang: wallmodel.parts(
                    layouts[lang],
                    wallview.display_names(services, lang),
                    statuses,
                    tiles,
                    rolled_chains,
                    header,
                    shares,
                    empty_frame("slo_status") if slo_status is None else slo_status,
                    lang,
                )
                for lang in LANGUAGES
            }
        ),
        "wall_markets": _conform(
            "wall_markets",
            feeds.market_states(read("feed_status"), health_rules.get("feed_late_s", feeds.LATE_S), closures),
        ),
        "chain_business": _conform(
            "chain_business", business.headlines(read("business_metrics"), health_rules.get("business", {}))
        ),
    }


def basis(versions: dict[str, int], health_rules: dict) -> pd.DataFrame:
    """The ``view_basis`` of views computed from the frames at ``versions`` under ``health_rules``."""
    digest = rules_digest(health_rules)
    return pd.DataFrame(
        {
            "source": list(versions),
            "version": pd.array(list(versions.values()), dtype="int64"),
            "rules": [digest] * len(versions),
        }
    )


def current(view_basis: pd.DataFrame, versions: dict[str, int], sources: Iterable[str], health_rules: dict) -> bool:
    """Whether views stored with ``view_basis`` are those of the frames at ``versions`` of ``sources``
    (the sources behind ``INPUTS``) under ``health_rules``; False when none were stored."""
    if view_basis.empty or (view_basis["rules"] != rules_digest(health_rules)).any():
        return False
    recorded = dict(zip(view_basis["source"], view_basis["version"].tolist()))
    return all(recorded.get(s) == versions.get(s, 0) for s in sources)
