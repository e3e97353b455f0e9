"""The wall's roll-up: health rules, alerts, anomalies, saturation and sites into one status with reasons."""

import pandas as pd

from dashboard.analytics import health, rollup
from dashboard.analytics import sites as site_figures
from datasources.base import empty_frame

T0 = pd.Timestamp("2026-11-18 02:00", tz="UTC")
HEALTH = {
    "tiers": {
        1: {"p95_ms": 300, "error_ratio": 0.01},
        2: {"p95_ms": 800, "error_ratio": 0.02},
        3: {"p95_ms": 2000, "error_ratio": 0.05},
    },
    "amber_at": 0.8,
}
SERVICES = ["pretrade-risk", "order-gateway", "clearing", "ledger"]


def _evaluated(p95=None, errors=None, missing=()):
    """Every service at 10 ms and 0.1% errors, except the given ones; ``missing`` report nothing."""
    p95, errors = p95 or {}, errors or {}
    services = pd.DataFrame({"service": SERVICES, "display_name": SERVICES, "tier": 1})
    shown = [s for s in SERVICES if s not in missing]
    metrics = pd.DataFrame(
        {
            "ts": T0,
            "service": shown,
            "requests_per_s": 100.0,
            "error_ratio": [errors.get(s, 0.001) for s in shown],
            "latency_p50_ms": 5.0,
            "latency_p95_ms": [p95.get(s, 10.0) for s in shown],
            "latency_p99_ms": 20.0,
        }
    )
    return health.evaluate(services, metrics, HEALTH)


def _alerts(*rows):
    """Alerts as (name, service, severity, state, minutes ago)."""
    if not rows:
        return empty_frame("alerts")
    return pd.DataFrame(
        [
            {
                "alert_id": f"a{i}",
                "name": name,
                "service": service,
                "severity": severity,
                "state": state,
                "starts_at": T0 - pd.Timedelta(minutes=ago),
                "ends_at": pd.NaT,
                "summary": None,
                "runbook_url": None,
                "source": "am",
                "url": None,
            }
            for i, (name, service, severity, state, ago) in enumerate(rows)
        ]
    )


def _resources(cpu=None, memory=None):
    """Two instances per service over five minutes, at 30% CPU and 40% memory unless given."""
    cpu, memory = cpu or {}, memory or {}
    rows = [
        {
            "ts": T0 - pd.Timedelta(minutes=m),
            "service": s,
            "instance": f"{s}-{i}",
            "cpu_ratio": cpu.get(f"{s}-{i}", 0.3),
            "memory_bytes": 1e9,
            "memory_ratio": memory.get(f"{s}-{i}", 0.4),
            "net_rx_bps": 1000.0,
            "net_tx_bps": 1000.0,
        }
        for s in SERVICES
        for i in (1, 2)
        for m in range(5)
    ]
    return pd.DataFrame(rows)


def _anomalies(*rows):
    """Anomalies as (service, instance, metric, value, baseline, minutes since it ended)."""
    if not rows:
        return empty_frame("anomalies")
    return pd.DataFrame(
        [
            {
                "start": T0 - pd.Timedelta(minutes=ago + 10),
                "end": T0 - pd.Timedelta(minutes=ago),
                "service": service,
                "instance": instance,
                "metric": metric,
                "value": value,
                "baseline": baseline,
                "low": 0.0,
                "high": baseline * 2,
                "score": 9.0,
                "direction": "up",
            }
            for service, instance, metric, value, baseline, ago in rows
        ]
    )


def _instances(site_of=lambda i: "dc1"):
    return pd.DataFrame([{"service": s, "instance": f"{s}-{i}", "site": site_of(i)} for s in SERVICES for i in (1, 2)])


def _roll(evaluated=None, alerts=None, anomalies=None, resources=None, instances=None, sites=None):
    """The roll-up of a quiet estate of four services, with what is given in its place."""
    rolled = rollup.services(
        evaluated if evaluated is not None else _evaluated(),
        alerts if alerts is not None else _alerts(),
        anomalies if anomalies is not None else _anomalies(),
        resources if resources is not None else _resources(),
        instances if instances is not None else _instances(),
        sites if sites is not None else pd.DataFrame(columns=site_figures.STATE_COLUMNS),
        HEALTH["amber_at"],
        T0,
    )
    return rolled.set_index("service")


def _kinds(rolled, service):
    return [(r.status, r.kind, r.params()) for r in rolled.loc[service, "reasons"]]


def test_a_quiet_estate_is_healthy_without_reasons():
    rolled = _roll()
    assert set(rolled["status"]) == {"ok"} and all(r == [] for r in rolled["reasons"])
    assert set(rolled["metric"]) == {"latency"}


def test_health_rules_give_their_status_and_the_metric_that_breaks_them():
    rolled = _roll(_evaluated(p95={"clearing": 412.0}, errors={"order-gateway": 0.08, "ledger": 0.009}))
    assert rolled.loc["clearing", "status"] == "crit" and rolled.loc["clearing", "metric"] == "latency"
    assert _kinds(rolled, "clearing") == [("crit", "latency", {"value": "412 ms", "limit": "300 ms"})]
    assert rolled.loc["order-gateway", "metric"] == "errors"
    assert _kinds(rolled, "order-gateway") == [("crit", "errors", {"value": "8.0%", "limit": "1.0%"})]
    assert _kinds(rolled, "ledger") == [("warn", "errors", {"value": "0.9%", "limit": "0.8%"})]


def test_the_night_the_wall_was_green_is_red_now():
    """pretrade-risk at 4.7x its usual p95 (still under target), HighLatency firing, pretrade-risk-2 at 96% CPU."""
    rolled = _roll(
        _evaluated(p95={"pretrade-risk": 47.0}),
        _alerts(("HighLatency", "pretrade-risk", "critical", "firing", 3)),
        _anomalies(("pretrade-risk", None, "latency_p95_ms", 47.0, 10.0, 0)),
        _resources(cpu={"pretrade-risk-2": 0.96}),
    )
    assert rolled.loc["pretrade-risk", "status"] == "crit"
    assert _kinds(rolled, "pretrade-risk") == [
        ("crit", "alert_critical", {"name": "HighLatency"}),
        ("warn", "anomaly", {"metric": "latency_p95_ms", "instance": "", "value": "47 ms", "usual": "10 ms"}),
        ("warn", "cpu", {"instance": "pretrade-risk-2", "value": "96%"}),
    ]
    assert set(rolled.drop(index="pretrade-risk")["status"]) == {"ok"}


def test_only_firing_alerts_count_critical_red_warning_amber():
    rolled = _roll(
        alerts=_alerts(
            ("DiskSpaceLow", "ledger", "warning", "firing", 5),
            ("Old", "clearing", "critical", "resolved", 50),
            ("Quiet", "clearing", "critical", "silenced", 5),
            ("Held", "clearing", "critical", "inhibited", 5),
            ("Soon", "clearing", "critical", "pending", 1),
            ("Note", "clearing", "info", "firing", 5),
            ("Elsewhere", "not-on-the-wall", "critical", "firing", 5),
        )
    )
    assert rolled.loc["ledger", "status"] == "warn"
    assert _kinds(rolled, "ledger") == [("warn", "alert_warning", {"name": "DiskSpaceLow"})]
    assert rolled.loc["clearing", "status"] == "ok"


def test_an_anomaly_counts_while_it_lasts_and_a_saturated_instance_while_it_is_hot():
    rolled = _roll(
        anomalies=_anomalies(
            ("clearing", "clearing-1", "cpu_ratio", 0.7, 0.3, 1), ("ledger", None, "error_ratio", 0.004, 0.001, 30)
        ),
        resources=_resources(memory={"order-gateway-2": 0.93}),
    )
    assert _kinds(rolled, "clearing") == [
        ("warn", "anomaly", {"metric": "cpu_ratio", "instance": "clearing-1", "value": "70%", "usual": "30%"})
    ]
    assert rolled.loc["ledger", "status"] == "ok"  # ended half an hour ago
    assert _kinds(rolled, "order-gateway") == [("warn", "memory", {"instance": "order-gateway-2", "value": "93%"})]


def test_a_service_at_a_drained_or_silent_site_is_degraded():
    sites = pd.DataFrame(
        [("dc1", "ok", "ok", 0.97, 0.5, 4, 2), ("dc2", "crit", "drained", 0.03, 0.5, 4, 2)],
        columns=site_figures.STATE_COLUMNS,
    )
    two_sites = _instances(lambda i: "dc1" if i == 1 else "dc2")
    rolled = _roll(instances=two_sites, sites=sites)
    assert set(rolled["status"]) == {"warn"}
    assert _kinds(rolled, "ledger") == [("warn", "site_drained", {"site": "dc2", "share": "3%"})]
    one_site = two_sites.assign(site=two_sites["site"].where(~two_sites["service"].eq("ledger"), "dc1"))
    assert _roll(instances=one_site, sites=sites).loc["ledger", "status"] == "ok"


def test_without_metrics_a_service_has_no_data_unless_something_else_is_known():
    rolled = _roll(
        _evaluated(missing=("ledger", "clearing")), _alerts(("ServiceDown", "clearing", "critical", "firing", 2))
    )
    assert rolled.loc["ledger", "status"] == "nodata" and _kinds(rolled, "ledger") == [("nodata", "nodata", {})]
    assert rolled.loc["clearing", "status"] == "crit"


def test_a_chain_takes_its_worst_steps_and_the_header_its_chains():
    rolled = _roll(_evaluated(p95={"clearing": 412.0}), _alerts(("DiskSpaceLow", "ledger", "warning", "firing", 5)))
    layout = [
        {"chain": "trading", "services": ["pretrade-risk", "order-gateway", "clearing"]},
        {"chain": "post", "services": ["clearing", "ledger"]},
        {"chain": "front", "services": ["order-gateway"]},
    ]
    chains = rollup.chains(layout, rolled.reset_index())
    assert [c["status"] for c in chains] == ["crit", "crit", "ok"]
    assert [(s, r.kind) for s, r in chains[1]["worst"]] == [("clearing", "latency")]
    header = rollup.header(chains, rolled.reset_index(), layout, "ok")
    assert header == {"status": "crit", "attention": 2, "total": 4}
    calm = rollup.header(chains[2:], rolled.reset_index(), layout[2:], "ok")
    assert calm == {"status": "ok", "attention": 0, "total": 1}
    assert rollup.header(chains[2:], rolled.reset_index(), layout[2:], "warn")["status"] == "warn"  # an open P2


def test_firing_alerts_critical_first_then_newest():
    alerts = _alerts(
        ("DiskSpaceLow", "ledger", "warning", "firing", 5),
        ("HighLatency", "clearing", "critical", "firing", 30),
        ("ServiceDown", "ledger", "critical", "firing", 2),
        ("Old", "ledger", "critical", "resolved", 9),
        ("Note", None, "info", "firing", 1),
    )
    assert list(rollup.firing_alerts(alerts)["name"]) == ["ServiceDown", "HighLatency", "DiskSpaceLow", "Note"]
    assert rollup.firing_alerts(_alerts()).empty


def test_a_step_without_data_keeps_its_chain_and_the_header_from_green():
    rolled = _roll(_evaluated(missing=("ledger",))).reset_index()
    layout = [{"chain": "post", "services": ["clearing", "ledger"]}]
    chains = rollup.chains(layout, rolled)
    assert chains[0]["status"] == "nodata" and [s for s, _r in chains[0]["worst"]] == ["ledger"]
    assert rollup.header(chains, rolled, layout, "ok")["status"] == "nodata"
    assert rollup.header([], rolled, [], "ok") == {"status": "nodata", "attention": 0, "total": 0}
