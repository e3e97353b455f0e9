"""Demo source: a seeded, deterministic simulation of a securities firm's core estate.

The estate is five business chains -- equity trading, market data, wealth
management, accounts and margin financing -- plus shared platform services:
28 services with 2-4 instances each. The ``services`` option appends synthetic
five-service chains for scale tests. Load follows A-share sessions in
Asia/Shanghai (09:30-11:30 and 13:00-15:00, spikes at each open) on the trading days of the
application's exchange calendar (``dashboard.analytics.calendar``); weekends and exchange
holidays carry only the low off-hours baseline.

Every value is a pure function of (seed, absolute time, service or instance),
drawn from a counter-based hash, so overlapping windows agree exactly. Scripted
episodes repeat every two hours (``TIMELINE``, minutes into the cycle) and show
in every frame; ``episodes()`` returns them as ground truth. Network rates are
bytes per second.

Instance *i* of a service runs at site ``SITES[i % 3]`` (the ``instances`` frame); in the
site episode ``sh-dc2`` logs errors and is then drained, its traffic moving to the other
sites. Services and chains carry Chinese names (``x_display_name_zh``, ``x_chain_name_zh``).
``log_rates`` counts lines per step (errors follow failed requests, warnings slow
ones); ``log_lines()`` regenerates the lines of an instance on demand, a trace's own lines
(its start, and a warning or error when it was slow or failed) first. ``service_requests``
holds 30 days of standard service requests. ``feed_status`` (``feeds``) gives the market-data feeds at the
feed handler's sites; in the feed-stall episode the SSE feeds at ``sh-dc2`` stop ticking.

Options: ``DemoOptions``; with ``frames`` one demo source can play the monitoring
system and another the ITSM. ``inject_incident`` adds an incident to every later
fetch, for trying out the wall's alarms.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from dashboard.analytics.calendar import is_trading_day
from datasources.base import (
    COMMAND_FRAMES,
    CONTRACTS,
    DERIVED_FRAMES,
    DUTY_FRAMES,
    SLO_FRAMES,
    VIEW_FRAMES,
    Health,
    Source,
    SourceError,
    as_utc,
    empty_frame,
    utc_column,
    validate,
)
from datasources.demo import business, feeds
from datasources.options import SourceOptions
from datasources.registry import register

# service, display name, tier, owner, instances, base latency ms, peak requests/s, operation
ESTATE = (
    ("client-login", "Client login", 1, "trading-platform", 3, 6.0, 400.0, "POST /login"),
    ("quote-service", "Quote service", 1, "trading-platform", 4, 3.0, 2500.0, "GET /quote"),
    ("pretrade-risk", "Pre-trade risk", 1, "risk-tech", 3, 4.0, 900.0, "checkOrder"),
    ("order-gateway", "Order gateway", 1, "trading-platform", 4, 3.0, 900.0, "submitOrder"),
    ("exchange-link", "Exchange link", 1, "trading-platform", 2, 6.0, 850.0, "sendToExchange"),
    ("clearing", "Clearing", 1, "post-trade", 2, 5.0, 300.0, "clearTrade"),
    ("feed-handler", "Feed handler", 1, "market-data", 2, 1.0, 5000.0, "onTick"),
    ("md-normalizer", "Market data normalizer", 1, "market-data", 3, 1.5, 5000.0, "normalize"),
    ("md-distribution", "Market data distribution", 1, "market-data", 4, 2.0, 4800.0, "publish"),
    ("app-push", "App push", 2, "mobile", 3, 8.0, 3000.0, "push"),
    ("wealth-portal", "Wealth portal", 2, "wealth-tech", 3, 12.0, 150.0, "GET /funds"),
    ("fund-catalog", "Fund catalog", 2, "wealth-tech", 2, 8.0, 140.0, "listFunds"),
    ("suitability-check", "Suitability check", 2, "compliance-tech", 2, 10.0, 60.0, "assessSuitability"),
    ("fund-order", "Fund order", 2, "wealth-tech", 3, 9.0, 50.0, "placeFundOrder"),
    ("ta-gateway", "Transfer agent gateway", 2, "wealth-tech", 2, 25.0, 45.0, "sendToTransferAgent"),
    ("account-portal", "Account portal", 2, "account-services", 3, 15.0, 80.0, "GET /account"),
    ("kyc-service", "KYC service", 2, "compliance-tech", 2, 30.0, 10.0, "verifyIdentity"),
    ("account-core", "Account core", 1, "account-services", 3, 6.0, 200.0, "updateAccount"),
    ("bank-transfer", "Bank-securities transfer", 1, "account-services", 2, 20.0, 40.0, "transferFunds"),
    ("ledger", "Ledger", 1, "post-trade", 3, 4.0, 500.0, "postEntry"),
    ("margin-portal", "Margin portal", 2, "credit-tech", 2, 10.0, 60.0, "GET /margin"),
    ("credit-risk", "Credit risk", 1, "risk-tech", 3, 6.0, 60.0, "checkCredit"),
    ("collateral-service", "Collateral service", 2, "credit-tech", 2, 5.0, 60.0, "valueCollateral"),
    ("margin-core", "Margin core", 1, "credit-tech", 3, 5.0, 60.0, "updateMargin"),
    ("auth-service", "Authentication service", 1, "platform", 4, 3.0, 800.0, "authenticate"),
    ("notification-service", "Notification service", 3, "platform", 2, 10.0, 200.0, "notify"),
    ("config-center", "Config center", 2, "platform", 3, 1.0, 100.0, "getConfig"),
    ("audit-log", "Audit log", 2, "platform", 2, 2.0, 1500.0, "writeAudit"),
)
CHAINS = (
    (
        "equity-trading",
        "Equity trading",
        ("client-login", "quote-service", "pretrade-risk", "order-gateway", "exchange-link", "clearing"),
    ),
    ("market-data", "Market data", ("feed-handler", "md-normalizer", "md-distribution", "app-push")),
    ("wealth", "Wealth management", ("wealth-portal", "fund-catalog", "suitability-check", "fund-order", "ta-gateway")),
    ("accounts", "Accounts", ("account-portal", "kyc-service", "account-core", "bank-transfer", "ledger")),
    ("margin", "Margin financing", ("margin-portal", "credit-risk", "collateral-service", "margin-core", "ledger")),
)
NAMES_ZH = {  # the built-in services' display names in Chinese (``x_display_name_zh``)
    "client-login": "客户登录",
    "quote-service": "行情报价",
    "pretrade-risk": "事前风控",
    "order-gateway": "报单网关",
    "exchange-link": "交易所链路",
    "clearing": "清算",
    "feed-handler": "行情接收",
    "md-normalizer": "行情标准化",
    "md-distribution": "行情分发",
    "app-push": "App 推送",
    "wealth-portal": "财富门户",
    "fund-catalog": "基金目录",
    "suitability-check": "适当性评估",
    "fund-order": "基金下单",
    "ta-gateway": "TA 网关",
    "account-portal": "账户门户",
    "kyc-service": "身份核验",
    "account-core": "账户核心",
    "bank-transfer": "银证转账",
    "ledger": "总账",
    "margin-portal": "两融门户",
    "credit-risk": "信用风控",
    "collateral-service": "担保品",
    "margin-core": "两融核心",
    "auth-service": "认证服务",
    "notification-service": "通知服务",
    "config-center": "配置中心",
    "audit-log": "审计日志",
}
CHAIN_NAMES_ZH = {
    "equity-trading": "股票交易",
    "market-data": "行情",
    "wealth": "财富管理",
    "accounts": "账户",
    "margin": "融资融券",
}  # ``x_chain_name_zh``
SYNTHETIC_CHAIN_LENGTH = 5
RUNBOOK_URL = "https://runbooks.example.internal/{}"
INCIDENT_TITLES = (
    "Intermittent timeouts in {}",
    "Slow responses from {}",
    "Elevated retries in {}",
    "Batch job overrun on {}",
    "Users report errors in {}",
    "Stale data shown by {}",
)
CHANGE_KINDS = (
    ("Release {} build {}", "normal"),
    ("Patch operating system of {} hosts", "standard"),
    ("Rotate TLS certificates of {}", "standard"),
    ("Tune connection pool of {}", "normal"),
)
FAULTS = ("pod-kill", "network-latency", "cpu-stress", "dns-failure")

CYCLE_S = 7200
TIMELINE = {  # minutes into each two-hour cycle: [start, end)
    "saturation": (10, 25),  # pretrade-risk-2 CPU >= 0.9, pretrade-risk p95/p99 x4
    "latency_alert": (12, 27),  # HighLatency on pretrade-risk
    "change": (45, 53),  # failed order-gateway release
    "errors": (53, 85),  # order-gateway error ratio ~8%
    "error_alert": (55, 86),  # HighErrorRate on order-gateway
    "incident": (57, 85),  # P2 on order-gateway opened, then resolved
    "acknowledged": (64, 85),  # the P2 acknowledged, until resolved
    "chaos": (95, 105),  # pod-kill on quote-service, hypothesis deviated
    "chaos_errors": (96, 102),  # quote-service error ratio ~3%
    "pod_restart": (95, 98),  # quote-service-1 idle while it restarts
    "site_errors": (30, 34),  # sh-dc2 loses its exchange line: errors logged there
    "site_drain": (32, 42),  # traffic drained from sh-dc2 to the other sites
    "feed_stall": (75, 85),  # the SSE feeds at sh-dc2 stop ticking (late only while SSE trades)
    "reject_spike": (87, 94),  # one trading counter rejects orders for risk limits (``business``)
    "transfer_outage": (108, 116),  # the bank's side fails most bank-securities transfers (``business``)
}
ERROR_EPISODES = (("order-gateway", "errors", 0.08), ("quote-service", "chaos_errors", 0.03))
SATURATED = ("pretrade-risk", 1)  # service and zero-based instance index (pretrade-risk-2)
RESTARTED = ("quote-service", 0)
SITES = ("sh-dc1", "sh-dc2", "cloud-sh")  # instance i of a service runs at SITES[i % 3]
DEGRADED_SITE, SITE_CAUSE = 1, ("exchange-link", 1)  # sh-dc2; exchange-link-2 loses its line
DRAINED_SHARE = 0.05  # traffic a drained site still receives, relative to normal
SITE_ERRORS_PER_MIN = 40
FEED_STALL = ("feed-handler", 1, "SSE")  # feed-handler-2 (at sh-dc2) stops ticking the SSE feeds
REQUEST_ITEMS = (  # item, category, target hours, requests per week
    ("New trading account access", "Access", 8.0, 40),
    ("Market data entitlement", "Access", 24.0, 25),
    ("VPN token replacement", "Workplace", 4.0, 30),
    ("Firewall rule change", "Network", 48.0, 15),
    ("Database read-only account", "Access", 24.0, 12),
    ("Report schedule change", "Reporting", 72.0, 8),
)
LOG_LIMIT = 500
SHANGHAI_OFFSET_S = 8 * 3600  # Asia/Shanghai has no daylight saving time
DAY_S = 86400
HISTORY_S = 30 * DAY_S
TRACES_PER_MINUTE = 4
SLOWEST_CALLS = 10
MAX_TRACES = 200
BASE_ERROR_RATIO = 0.0006
NOT_EMITTED = ("source_status", "log_lines", *DERIVED_FRAMES, *VIEW_FRAMES, *COMMAND_FRAMES, *DUTY_FRAMES, *SLO_FRAMES)
EMITTED = tuple(name for name in CONTRACTS if name not in NOT_EMITTED)

_U64 = np.uint64
_GOLDEN, _M1, _M2 = _U64(0x9E3779B97F4A7C15), _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB)
_TRACE_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Episode:
    """One scripted episode: what happened, where, when, and the records it produced."""

    kind: str  # saturation | failed_change | chaos_deviation
    service: str
    instance: str | None
    start: pd.Timestamp
    end: pd.Timestamp
    alert_id: str | None = None
    incident_id: str | None = None
    change_id: str | None = None
    run_id: str | None = None
    site: str | None = None
    market: str | None = None
    counter: str | None = None  # a trading counter (``business``)


@dataclass(frozen=True)
class Estate:
    """Services, instances and chains as parallel arrays (index = service number)."""

    names: tuple[str, ...]
    display: tuple[str, ...]
    owner: tuple[str, ...]
    tier: np.ndarray
    operation: np.ndarray
    instances: np.ndarray
    base_ms: np.ndarray
    peak_rps: np.ndarray
    keys: np.ndarray  # crc32 of the service name: stable whatever the estate size
    chains: tuple[tuple[str, str, tuple[int, ...]], ...]
    inst_names: np.ndarray
    inst_service: np.ndarray
    inst_offset: np.ndarray  # first instance number of each service
    inst_site: np.ndarray  # site number of each instance
    index: dict[str, int]


# ---------------------------------------------------------------- hashing


def _hash(*parts: Any) -> np.ndarray:
    """Counter-based hash: splitmix64 rounds over broadcast non-negative integer parts."""
    arrays = [np.atleast_1d(np.asarray(p)).astype(_U64) for p in parts]
    h = np.zeros(np.broadcast_shapes(*(a.shape for a in arrays)), _U64)
    for a in arrays:
        h = h ^ (a + _GOLDEN)
        h ^= h >> _U64(30)
        h *= _M1
        h ^= h >> _U64(27)
        h *= _M2
        h ^= h >> _U64(31)
    return h


def _uniform(*parts: Any) -> np.ndarray:
    """Uniform deviates in [0, 1) keyed by ``parts``."""
    return (_hash(*parts) >> _U64(11)).astype(np.float64) * 2.0**-53


def _normal(*parts: Any) -> np.ndarray:
    """Standard normal deviates (Box-Muller) keyed by ``parts``."""
    u1, u2 = _uniform(*parts, 1), _uniform(*parts, 2)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


# ---------------------------------------------------------------- options and estate


def _synthetic_rows(count: int) -> tuple[list[tuple], list[tuple]]:
    """Services and chains appended to the built-in estate for scale tests."""
    rows, chains = [], []
    for i in range(count):
        name, key = f"synthetic-{i + 1:04d}", _crc(f"synthetic-{i + 1:04d}")
        rows.append(
            (
                name,
                f"Synthetic service {i + 1}",
                2 + key % 2,
                f"synthetic-team-{i % 10}",
                2 + key % 3,
                2.0 + key % 20,
                20.0 + key % 400,
                "handle",
            )
        )
    for c, first in enumerate(range(0, count, SYNTHETIC_CHAIN_LENGTH)):
        members = tuple(r[0] for r in rows[first : first + SYNTHETIC_CHAIN_LENGTH])
        chains.append((f"synthetic-chain-{c + 1:03d}", f"Synthetic chain {c + 1}", members))
    return rows, chains


@lru_cache(maxsize=8)
def _estate(total: int) -> Estate:
    """The built-in estate plus ``total - len(ESTATE)`` synthetic services."""
    extra_rows, extra_chains = _synthetic_rows(total - len(ESTATE))
    rows = list(ESTATE) + extra_rows
    names = tuple(r[0] for r in rows)
    index = {name: i for i, name in enumerate(names)}
    keys = np.array([_crc(n) for n in names], dtype=np.int64)
    instances = np.array([r[4] for r in rows])
    inst_service = np.repeat(np.arange(len(rows)), instances)
    inst_offset = np.concatenate([[0], np.cumsum(instances)[:-1]])
    local = np.arange(len(inst_service)) - inst_offset[inst_service]
    return Estate(
        names=names,
        display=tuple(r[1] for r in rows),
        owner=tuple(r[3] for r in rows),
        tier=np.array([r[2] for r in rows]),
        operation=np.array([r[7] for r in rows], dtype=object),
        instances=instances,
        base_ms=np.array([r[5] for r in rows]),
        peak_rps=np.array([r[6] for r in rows]),
        keys=keys,
        chains=tuple(
            (cid, cname, tuple(index[s] for s in members)) for cid, cname, members in CHAINS + tuple(extra_chains)
        ),
        inst_names=np.array([f"{names[s]}-{i + 1}" for s, i in zip(inst_service, local)], dtype=object),
        inst_service=inst_service,
        inst_offset=inst_offset,
        inst_site=local % len(SITES),
        index=index,
    )


# ---------------------------------------------------------------- time


def _epoch_s(moment: Any) -> int:
    """Whole UTC seconds since the epoch; naive datetimes are taken as UTC."""
    return int(as_utc(pd.Timestamp(moment)).value // 10**9)


def _utc(seconds: int) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC")


def _utc_ns(ns: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(np.asarray(ns, dtype=np.int64).astype("datetime64[ns]")).tz_localize("UTC")


def _phase_s(seed: int) -> int:
    """Offset of the episode cycle from the epoch: ``seed % 120`` minutes."""
    return seed % 120 * 60


def _during(ts_s: np.ndarray, seed: int, window: str) -> np.ndarray:
    """True where ``ts_s`` falls in ``TIMELINE[window]`` of its cycle."""
    start, end = TIMELINE[window]
    position = (ts_s - _phase_s(seed)) % CYCLE_S
    return (position >= start * 60) & (position < end * 60)


def _trading(local_day: np.ndarray) -> np.ndarray:
    """Whether each local day (days since 1970-01-01) is an A-share trading day of the exchange calendar."""
    if not local_day.size:
        return np.zeros(local_day.shape, dtype=bool)
    local_day = local_day.astype(np.int64)
    first = int(local_day.min())
    span = range(first, int(local_day.max()) + 1)
    table = np.array([is_trading_day(date(1970, 1, 1) + timedelta(days=d), "cn") for d in span])
    return table[local_day - first]


def _load(ts_s: np.ndarray) -> np.ndarray:
    """Relative request load (1.0 = a normal in-session minute) at UTC seconds ``ts_s``."""
    local = ts_s + SHANGHAI_OFFSET_S
    minute = (local % DAY_S) / 60.0
    level = np.select(
        [(minute >= 570) & (minute < 690), (minute >= 780) & (minute < 900), (minute >= 555) & (minute < 570)],
        [1.0 + np.exp(-(minute - 570) / 8.0), 1.0 + 0.4 * np.exp(-(minute - 780) / 6.0), 0.3],
        default=0.07,
    )
    return np.where(_trading(local // DAY_S), level, 0.05)


def _busy(ts_s: np.ndarray) -> np.ndarray:
    """Load squashed into a utilisation-like curve that saturates gently."""
    load = _load(ts_s)
    return load / (1 + 0.35 * load)


def _episode_error(service: str, ts_s: np.ndarray, seed: int) -> np.ndarray:
    """Extra error ratio a scripted episode adds to ``service`` at ``ts_s``."""
    extra = np.zeros(np.shape(ts_s))
    for name, window, ratio in ERROR_EPISODES:
        if name == service:
            extra = extra + np.where(_during(ts_s, seed, window), ratio, 0.0)
    return extra


# ---------------------------------------------------------------- metrics


def _service_metrics(est: Estate, seed: int, ts: np.ndarray) -> dict[str, np.ndarray]:
    """Per (ts, service) arrays of shape (len(ts), services)."""
    key, t = _hash(seed, est.keys)[None, :], ts[:, None]
    busy = _busy(t)
    rps = np.maximum(est.peak_rps * _load(t) * (1 + 0.05 * _normal(key, t, 1)), 0.0)
    p50 = est.base_ms * (1 + 0.4 * busy) * np.exp(0.08 * _normal(key, t, 2))
    p95 = p50 * (2.4 + 0.6 * _uniform(key, t, 3))
    p99 = p95 * (1.5 + 0.4 * _uniform(key, t, 4))
    errors = BASE_ERROR_RATIO * (1 + busy) * np.exp(0.5 * _normal(key, t, 5))
    slow = _during(ts, seed, "saturation")
    s = est.index[SATURATED[0]]
    p50[:, s] *= np.where(slow, 1.4, 1.0)
    p95[:, s] *= np.where(slow, 4.0, 1.0)
    p99[:, s] *= np.where(slow, 4.5, 1.0)
    for name, _window, _ratio in ERROR_EPISODES:
        errors[:, est.index[name]] += _episode_error(name, ts, seed)
    return {
        "requests_per_s": rps,
        "error_ratio": np.clip(errors, 0.0, 1.0),
        "latency_p50_ms": p50,
        "latency_p95_ms": p95,
        "latency_p99_ms": p99,
    }


def _resource_metrics(est: Estate, seed: int, ts: np.ndarray, rps: np.ndarray) -> dict[str, np.ndarray]:
    """Per (ts, instance) arrays of shape (len(ts), instances), driven by service load."""
    svc, t = est.inst_service, ts[:, None]
    key = _hash(seed, est.keys[svc], np.arange(len(svc)) - est.inst_offset[svc])[None, :]
    busy, cpu_coef, memory_base = _busy(t), 0.3 + est.keys[svc] % 200 / 1000, 0.3 + est.keys[svc] % 199 / 1000
    cpu = np.clip(0.03 + cpu_coef * busy * (1 + 0.08 * _normal(key, t, 11)), 0.005, 0.85)
    memory = np.clip(memory_base + 0.12 * busy + 0.01 * _normal(key, t, 12), 0.05, 0.9)
    saturated = est.inst_offset[est.index[SATURATED[0]]] + SATURATED[1]
    hot = _during(ts, seed, "saturation")
    cpu[:, saturated] = np.where(hot, 0.92 + 0.06 * _uniform(key[:, saturated], ts, 13), cpu[:, saturated])
    memory[:, saturated] += np.where(hot, 0.05, 0.0)
    restarted = est.inst_offset[est.index[RESTARTED[0]]] + RESTARTED[1]
    cpu[:, restarted] = np.where(_during(ts, seed, "pod_restart"), 0.01, cpu[:, restarted])
    per_instance = rps[:, svc] * _site_shares(est, seed, ts)
    limit = np.where(est.tier[svc] == 1, 8.0, 4.0) * 2**30
    return {
        "cpu_ratio": cpu,
        "memory_bytes": memory * limit,
        "memory_ratio": memory,
        "net_rx_bps": per_instance * 1200 * (1 + 0.05 * _normal(key, t, 14)).clip(0.5),
        "net_tx_bps": per_instance * 3500 * (1 + 0.05 * _normal(key, t, 15)).clip(0.5),
    }


def _site_shares(est: Estate, seed: int, ts: np.ndarray) -> np.ndarray:
    """Each instance's share of its service's traffic at ``ts``: even, except while a site is drained."""
    drained = _during(ts, seed, "site_drain")[:, None] & (est.inst_site == DEGRADED_SITE)[None, :]
    weight = np.where(drained, DRAINED_SHARE, 1.0)
    totals = np.zeros((len(ts), len(est.names)))
    np.add.at(totals.T, est.inst_service, weight.T)
    return weight / totals[:, est.inst_service]


def _log_counts(est: Estate, seed: int, ts: np.ndarray, step_s: int, values: dict[str, np.ndarray]) -> dict:
    """Log lines per (ts, service) and level in the step ending at ts: errors follow failed requests,
    warnings slow ones, and the site episode logs errors on every service with an instance there."""
    requests = values["requests_per_s"] * step_s
    slow = values["latency_p95_ms"] / (est.base_ms * 2.7)
    at_site = np.bincount(est.inst_service, weights=est.inst_site == DEGRADED_SITE, minlength=len(est.names))
    site_errors = _during(ts, seed, "site_errors")[:, None] * (at_site > 0) * SITE_ERRORS_PER_MIN * step_s / 60
    return {
        "error": np.round(requests * values["error_ratio"] + site_errors),
        "warning": np.round(requests * 0.0005 * np.maximum(slow, 1.0) ** 2),
        "info": np.round(requests * 0.01),
    }


def _metric_frames(
    est: Estate, seed: int, ts: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, np.ndarray]:
    """service_metrics, resource_metrics and log_rates frames, plus the latest requests/s per service."""
    svc_values = _service_metrics(est, seed, ts)
    res_values = _resource_metrics(est, seed, ts, svc_values["requests_per_s"])
    n_svc, n_inst = len(est.names), len(est.inst_service)
    stamps = _utc_ns(ts * 10**9)
    services = pd.Series(np.tile(np.array(est.names, dtype=object), len(ts)), dtype="str")
    service_metrics = pd.DataFrame(
        {"ts": stamps.repeat(n_svc), "service": services, **{k: v.ravel() for k, v in svc_values.items()}}
    )
    resource_metrics = pd.DataFrame(
        {
            "ts": stamps.repeat(n_inst),
            "service": pd.Series(np.tile(np.array(est.names, dtype=object)[est.inst_service], len(ts)), dtype="str"),
            "instance": pd.Series(np.tile(est.inst_names, len(ts)), dtype="str"),
            **{k: v.ravel() for k, v in res_values.items()},
        }
    )
    step_s = int(ts[1] - ts[0]) if len(ts) > 1 else 60
    counts = _log_counts(est, seed, ts, step_s, svc_values)
    log_rates = pd.concat(
        [
            pd.DataFrame(
                {
                    "ts": stamps.repeat(n_svc),
                    "service": services,
                    "level": level,
                    "count": values.ravel().astype("int64"),
                }
            )
            for level, values in counts.items()
        ],
        ignore_index=True,
    )
    return service_metrics, resource_metrics, log_rates, svc_values["requests_per_s"][-1]


# ---------------------------------------------------------------- traces


def _chain_spans(est: Estate, seed: int, chain: int, minutes: np.ndarray, ks: np.ndarray) -> dict[str, np.ndarray]:
    """Every span of the traces (chain, minute, k), flattened; each step calls the next synchronously.

    A span lasts its self time plus its child's duration; the child starts after 30% of the
    parent's self time. A failing span ends the trace there.
    """
    chain_id, _name, steps = est.chains[chain]
    trace_key = _hash(seed, _crc(chain_id), minutes * 256 + ks)
    root_ns = minutes * 60 * 10**9 + (_uniform(trace_key, 0) * 59e9).astype(np.int64)
    t_s = root_ns // 10**9
    busy = _busy(t_s)
    self_us, local, error = [], [], []
    for j, s in enumerate(steps):
        self_ms = est.base_ms[s] * (1 + 0.4 * busy) * np.exp(0.35 * _normal(trace_key, 8 * j + 1))
        inst = (_uniform(trace_key, 8 * j + 3) * est.instances[s]).astype(np.int64)
        if est.names[s] == SATURATED[0]:
            slow = _during(t_s, seed, "saturation") & (inst == SATURATED[1])
            self_ms = np.where(slow, self_ms * 15.0, self_ms)
        ratio = BASE_ERROR_RATIO * (1 + busy) + _episode_error(est.names[s], t_s, seed)
        self_us.append(np.maximum(np.round(self_ms * 1000), 1).astype(np.int64))
        local.append(inst)
        error.append(_uniform(trace_key, 8 * j + 4) < ratio)
    self_us, local, error = np.stack(self_us, 1), np.stack(local, 1), np.stack(error, 1)
    present = (np.cumsum(error, axis=1) - error) == 0
    self_us = self_us * present
    duration_us = np.cumsum(self_us[:, ::-1], axis=1)[:, ::-1]
    offsets = np.concatenate([np.zeros((len(minutes), 1), np.int64), np.cumsum(self_us * 300, axis=1)[:, :-1]], 1)
    step = np.arange(len(steps))
    span_id = _hash(trace_key[:, None], 1000 + step[None, :])
    parent_id = np.concatenate([np.zeros((len(minutes), 1), _U64), span_id[:, :-1]], 1)
    services = np.array(steps)[None, :].repeat(len(minutes), 0)
    grid = {
        "chain": np.full(self_us.shape, chain),
        "minute": minutes[:, None].repeat(len(steps), 1),
        "k": ks[:, None].repeat(len(steps), 1),
        "check": trace_key[:, None].repeat(len(steps), 1),
        "step": step[None, :].repeat(len(minutes), 0),
        "service": services,
        "instance": est.inst_offset[services] + local,
        "start_ns": root_ns[:, None] + offsets,
        "self_us": self_us,
        "duration_us": duration_us,
        "error": error,
        "span_id": span_id,
        "parent_id": parent_id,
    }
    return {name: values[present] for name, values in grid.items()}


def _all_spans(est: Estate, seed: int, first_minute: int, last_minute: int) -> dict[str, np.ndarray]:
    """Spans of every sampled trace of every chain started in [first_minute, last_minute]."""
    minutes = np.repeat(np.arange(first_minute, last_minute + 1, dtype=np.int64), TRACES_PER_MINUTE)
    ks = np.tile(np.arange(TRACES_PER_MINUTE, dtype=np.int64), max(last_minute - first_minute + 1, 0))
    parts = [_chain_spans(est, seed, c, minutes, ks) for c in range(len(est.chains))]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def _select_calls(spans: dict[str, np.ndarray]) -> np.ndarray:
    """Rows kept as calls: per service and hour the slowest few, every failure, and a small sample."""
    group = spans["service"].astype(np.int64) * 10**7 + spans["minute"] // 60
    order = np.lexsort((-spans["duration_us"], group))
    sorted_group = group[order]
    firsts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    rank = np.arange(len(order)) - np.repeat(firsts, np.diff(np.r_[firsts, len(order)]))
    keep = np.zeros(len(group), bool)
    keep[order[rank < SLOWEST_CALLS]] = True
    keep |= spans["error"] | ((spans["k"] == 0) & (spans["minute"] % 15 == 0))
    return np.flatnonzero(keep)


def _select_trace_rows(est: Estate, spans: dict[str, np.ndarray], calls: np.ndarray) -> np.ndarray:
    """Span rows of the most telling traces among the calls: slowest relative to normal, failures first."""
    trace_no = (spans["chain"].astype(np.int64) << 40) | (spans["minute"] << 8) | spans["k"]
    wanted = np.isin(trace_no, trace_no[calls])
    score = spans["self_us"] / (est.base_ms[spans["service"]] * 1000) + 5.0 * spans["error"]
    best = pd.Series(score[wanted]).groupby(trace_no[wanted]).max().nlargest(MAX_TRACES).index
    rows = np.flatnonzero(np.isin(trace_no, best.to_numpy()))
    return rows[np.lexsort((spans["step"][rows], trace_no[rows]))]


def _span_table(est: Estate, spans: dict[str, np.ndarray], rows: np.ndarray) -> pd.DataFrame:
    """The spans contract frame for ``rows``; trace ids are minute, chain, k and a seeded check hash."""
    pick = {name: spans[name][rows].tolist() for name in ("minute", "chain", "k", "check", "span_id", "parent_id")}
    service = spans["service"][rows]
    return pd.DataFrame(
        {
            "trace_id": [
                f"{m:08x}{c:06x}{k:02x}{h:016x}"
                for m, c, k, h in zip(pick["minute"], pick["chain"], pick["k"], pick["check"])
            ],
            "span_id": [f"{x:016x}" for x in pick["span_id"]],
            "parent_id": pd.Series([f"{x:016x}" if x else None for x in pick["parent_id"]], dtype="str"),
            "service": np.array(est.names, dtype=object)[service],
            "operation": est.operation[service],
            "start": _utc_ns(spans["start_ns"][rows]),
            "duration_ms": spans["duration_us"][rows] / 1000.0,
            "status": np.where(spans["error"][rows], "error", "ok"),
            "instance": est.inst_names[spans["instance"][rows]],
        }
    )


# ---------------------------------------------------------------- events


def _id(prefix: str, stream: int, slot: int) -> str:
    return f"{prefix}{stream}{slot % 1_000_000:06d}"


def _alert(alert_id, name, service, severity, starts, ends, now_s, source, summary) -> dict | None:
    if starts > now_s:
        return None
    firing = now_s < ends
    return {
        "alert_id": alert_id,
        "name": name,
        "service": service,
        "severity": severity,
        "state": "firing" if firing else "resolved",
        "starts_at": starts,
        "ends_at": None if firing else ends,
        "summary": summary,
        "runbook_url": RUNBOOK_URL.format(service),
        "source": source,
        "url": f"https://alerts.example.internal/alerts/{alert_id}",
    }


def _incident(
    incident_id,
    title,
    priority,
    service,
    owner,
    opened,
    acked,
    resolved,
    now_s,
    source,
    change_id=None,
    on_hold=False,
    cancelled=False,
) -> dict | None:
    if opened > now_s:
        return None
    if cancelled and acked <= now_s:
        state = "cancelled"
    elif resolved <= now_s:
        state = "closed" if now_s - resolved > DAY_S else "resolved"
    elif acked <= now_s:
        state = "on_hold" if on_hold else "in_progress"
    else:
        state = "new"
    return {
        "incident_id": incident_id,
        "title": title,
        "priority": priority,
        "state": state,
        "service": service,
        "opened_at": opened,
        "acknowledged_at": acked if acked <= now_s else None,
        "resolved_at": resolved if resolved <= now_s and not cancelled else None,
        "assignment_group": owner,
        "change_id": change_id,
        "runbook_url": RUNBOOK_URL.format(service),
        "source": source,
        "url": f"https://itsm.example.internal/incident/{incident_id}",
    }


def _change(change_id, title, service, change_type, planned, started, ended, outcome, closed, now_s, source) -> dict:
    if now_s < started:
        state, started, ended, outcome = "scheduled", None, None, "unknown"
    elif now_s < ended:
        state, ended, outcome = "implement", None, "unknown"
    else:
        state = "review" if now_s < closed else "closed"
    return {
        "change_id": change_id,
        "title": title,
        "service": service,
        "type": change_type,
        "state": state,
        "planned_start": planned,
        "planned_end": planned + 3600,
        "actual_start": started,
        "actual_end": ended,
        "outcome": outcome,
        "source": source,
        "url": f"https://itsm.example.internal/change/{change_id}",
    }


DRILLED_PREPLANS = {  # the chaos experiments that drill a pre-plan of the demo's library name it (x_preplan)
    **dict.fromkeys(("order-gateway", "exchange-link"), "order-gateway-down"),
    **dict.fromkeys(("feed-handler", "md-normalizer", "md-distribution", "quote-service"), "market-data-stall"),
    **dict.fromkeys(("bank-transfer", "account-core", "ledger"), "bank-transfer-outage"),
}


def _chaos_run(run_id, service, fault, started, ended, deviated, probe, recovery_s, now_s, source) -> dict | None:
    if started > now_s:
        return None
    done = ended <= now_s
    return {
        "run_id": run_id,
        "experiment": f"{service} survives {fault}",
        "service": service,
        "fault": fault,
        "started_at": started,
        "ended_at": ended if done else None,
        "status": ("failed" if deviated else "passed") if done else "running",
        "deviated": done and deviated,
        "probe_success_ratio": probe if done else None,
        "recovery_s": recovery_s if done else None,
        "source": source,
        "url": f"https://chaos.example.internal/runs/{run_id}",
        "x_preplan": DRILLED_PREPLANS.get(service),
    }


def _cycles(start_s: int, end_s: int, seed: int) -> range:
    """Cycle numbers whose two hours overlap [start_s, end_s]."""
    phase = _phase_s(seed)
    return range((start_s - phase) // CYCLE_S, (end_s - phase) // CYCLE_S + 1)


def _cycle_times(cycle: int, seed: int) -> dict[str, tuple[int, int]]:
    """``TIMELINE`` of one cycle in epoch seconds."""
    origin = cycle * CYCLE_S + _phase_s(seed)
    return {key: (origin + a * 60, origin + b * 60) for key, (a, b) in TIMELINE.items()}


def _cycle_episodes(cycle: int, seed: int) -> list[Episode]:
    times = {key: (_utc(a), _utc(b)) for key, (a, b) in _cycle_times(cycle, seed).items()}
    return [
        Episode(
            "saturation",
            SATURATED[0],
            f"{SATURATED[0]}-{SATURATED[1] + 1}",
            *times["saturation"],
            alert_id=_id("ALT", 1, cycle),
        ),
        Episode(
            "failed_change",
            "order-gateway",
            None,
            times["change"][0],
            times["incident"][1],
            alert_id=_id("ALT", 2, cycle),
            incident_id=_id("INC", 1, cycle),
            change_id=_id("CHG", 1, cycle),
        ),
        Episode(
            "chaos_deviation",
            RESTARTED[0],
            f"{RESTARTED[0]}-{RESTARTED[1] + 1}",
            *times["chaos"],
            run_id=_id("RUN", 1, cycle),
        ),
        Episode(
            "site_degradation",
            SITE_CAUSE[0],
            f"{SITE_CAUSE[0]}-{SITE_CAUSE[1] + 1}",
            times["site_errors"][0],
            times["site_drain"][1],
            site=SITES[DEGRADED_SITE],
        ),
        Episode(
            "feed_stall",
            FEED_STALL[0],
            f"{FEED_STALL[0]}-{FEED_STALL[1] + 1}",
            *times["feed_stall"],
            site=SITES[FEED_STALL[1] % len(SITES)],
            market=FEED_STALL[2],
        ),
        *(
            Episode(kind, service, None, _utc(start), _utc(end), counter=counter)
            for kind, service, counter, start, end in business.cycle_episodes(_cycle_times(cycle, seed))
        ),
    ]


def episodes(start: Any, end: Any, seed: int = 42) -> list[Episode]:
    """The scripted episodes overlapping [start, end], in start order."""
    start_s, end_s = _epoch_s(start), _epoch_s(end)
    found = [e for n in _cycles(start_s, end_s, seed) for e in _cycle_episodes(n, seed)]
    return sorted((e for e in found if e.start <= _utc(end_s) and e.end >= _utc(start_s)), key=lambda e: e.start)


def _episode_events(est: Estate, seed: int, start_s: int, now_s: int, source: str) -> dict[str, list]:
    """Alerts, incidents, changes and chaos runs of the cycles overlapping [start_s, now_s]."""
    events = {"alerts": [], "incidents": [], "changes": [], "chaos_runs": []}
    owner = est.owner[est.index["order-gateway"]]
    for n in _cycles(start_s, now_s, seed):
        saturation, failed_change, chaos, *_ = _cycle_episodes(n, seed)
        t = _cycle_times(n, seed)
        events["alerts"] += [
            _alert(
                saturation.alert_id,
                "HighLatency",
                saturation.service,
                "critical",
                *t["latency_alert"],
                now_s,
                source,
                f"{saturation.service} p99 latency above SLO; {saturation.instance} CPU saturated",
            ),
            _alert(
                failed_change.alert_id,
                "HighErrorRate",
                failed_change.service,
                "critical",
                *t["error_alert"],
                now_s,
                source,
                f"{failed_change.service} error ratio above 5%",
            ),
        ]
        if t["change"][0] <= now_s:
            events["changes"].append(
                _change(
                    failed_change.change_id,
                    f"Release order-gateway build {n % 1000}",
                    "order-gateway",
                    "normal",
                    t["change"][0],
                    *t["change"],
                    "failed",
                    t["incident"][1],
                    now_s,
                    source,
                )
            )
        events["incidents"].append(
            _incident(
                failed_change.incident_id,
                "Order submissions failing after order-gateway release",
                2,
                "order-gateway",
                owner,
                t["incident"][0],
                *t["acknowledged"],
                now_s,
                source,
                change_id=failed_change.change_id,
            )
        )
        events["chaos_runs"].append(
            _chaos_run(
                chaos.run_id,
                chaos.service,
                "pod-kill",
                *t["chaos"],
                True,
                round(0.75 + 0.1 * float(_uniform(seed, n, 21)[0]), 3),
                380.0,
                now_s,
                source,
            )
        )
    return events


def _slots(period_s: int, start_s: int, end_s: int) -> range:
    """Slot numbers of a ``period_s`` schedule around [start_s, end_s]."""
    return range(start_s // period_s - 1, end_s // period_s + 1)


def _built_in_service(u: float) -> int:
    return int(u * len(ESTATE))


def _background_incidents(est: Estate, seed: int, now_s: int, source: str) -> list[dict | None]:
    """Long-running P3/P4 every 6 h (two or more always open) and short incidents of every priority every 7 h."""
    records = []
    for k in _slots(6 * 3600, now_s - HISTORY_S, now_s):
        u = _uniform(seed, 3, k, np.arange(6))
        s, opened = _built_in_service(u[0]), k * 6 * 3600 + int(u[1] * 3600)
        records.append(
            _incident(
                _id("INC", 3, k),
                INCIDENT_TITLES[int(u[2] * 6)].format(est.display[s]),
                3 + int(u[3] < 0.6),
                est.names[s],
                est.owner[s],
                opened,
                opened + 900 + int(u[4] * 1800),
                opened + 16 * 3600 + int(u[5] * 6 * 3600),
                now_s,
                source,
                on_hold=u[3] > 0.7,
            )
        )
    for k in _slots(7 * 3600, now_s - HISTORY_S, now_s):
        u = _uniform(seed, 4, k, np.arange(7))
        s, opened = _built_in_service(u[0]), k * 7 * 3600 + int(u[1] * 3 * 3600)
        acked = opened + 180 + int(u[4] * 1620)
        priority = 1 + int(np.searchsorted([0.05, 0.2, 0.6, 0.9], u[3], side="right"))
        records.append(
            _incident(
                _id("INC", 4, k),
                INCIDENT_TITLES[int(u[2] * 6)].format(est.display[s]),
                priority,
                est.names[s],
                est.owner[s],
                opened,
                acked,
                acked + 1200 + int(u[5] * 13200),
                now_s,
                source,
                cancelled=u[6] < 0.05,
            )
        )
    return records


def _background_changes(est: Estate, seed: int, now_s: int, source: str) -> list[dict]:
    """A change every 5 h over 30 days and the next day: mostly successful, a few failed or rolled back."""
    records = []
    for k in _slots(5 * 3600, now_s - HISTORY_S, now_s + DAY_S):
        u = _uniform(seed, 5, k, np.arange(6))
        s, planned = _built_in_service(u[0]), k * 5 * 3600 + int(u[1] * 7200)
        title, change_type = ("Emergency fix for {}", "emergency") if u[3] < 0.05 else CHANGE_KINDS[int(u[2] * 4)]
        started = planned + int(u[4] * 600)
        ended = started + 900 + int(u[5] * 2400)
        outcome = "success" if u[3] < 0.88 else ("failed" if u[3] < 0.94 else "rolled_back")
        if now_s - HISTORY_S <= planned <= now_s + DAY_S:
            records.append(
                _change(
                    _id("CHG", 5, k),
                    title.format(est.names[s], k % 1000),
                    est.names[s],
                    change_type,
                    planned,
                    started,
                    ended,
                    outcome,
                    ended + DAY_S,
                    now_s,
                    source,
                )
            )
    return records


def _background_chaos_runs(est: Estate, seed: int, now_s: int, source: str) -> list[dict | None]:
    """A passing experiment every 31 h (about five a week) on a built-in service."""
    records = []
    for k in _slots(31 * 3600, now_s - HISTORY_S, now_s):
        u = _uniform(seed, 6, k, np.arange(4))
        started = k * 31 * 3600 + int(u[1] * 7200)
        records.append(
            _chaos_run(
                _id("RUN", 6, k),
                est.names[_built_in_service(u[0])],
                FAULTS[int(u[2] * 4)],
                started,
                started + 600,
                False,
                1.0,
                round(20 + 70 * float(u[3]), 1),
                now_s,
                source,
            )
        )
    return records


def _background_alerts(seed: int, start_s: int, now_s: int, source: str) -> list[dict | None]:
    """DiskSpaceLow every 3 h lasting 200 min (so one always fires) and short ConsumerLagHigh bursts."""
    records = []
    for k in _slots(3 * 3600, start_s - 4 * 3600, now_s):
        records.append(
            _alert(
                _id("ALT", 3, k),
                "DiskSpaceLow",
                "audit-log",
                "warning",
                k * 3 * 3600,
                k * 3 * 3600 + 200 * 60,
                now_s,
                source,
                f"audit-log-{k % 2 + 1} data volume above 85%",
            )
        )
    for k in _slots(90 * 60, start_s - 3600, now_s):
        u = _uniform(seed, 7, k, np.arange(2))
        starts = k * 90 * 60 + int(u[0] * 3600)
        records.append(
            _alert(
                _id("ALT", 4, k),
                "ConsumerLagHigh",
                "md-distribution",
                "warning",
                starts,
                starts + 300 + int(u[1] * 1200),
                now_s,
                source,
                "md-distribution consumers lag behind the feed",
            )
        )
    return records


def _event_frame(name: str, records: list[dict | None]) -> pd.DataFrame:
    """A contract frame from event records (epoch seconds for timestamps), with their ``x_`` keys as columns;
    None marks a future event."""
    records = [r for r in records if r is not None]
    if not records:
        return empty_frame(name)
    extra = sorted({key for r in records for key in r if key.startswith("x_")})
    frame = pd.DataFrame.from_records(records, columns=[c.name for c in CONTRACTS[name]] + extra)
    for col in CONTRACTS[name]:
        if col.kind == "ts":
            seconds = frame[col.name].astype("float64")
            frame[col.name] = utc_column(seconds, unit="s")
        elif col.kind in ("int", "float", "bool"):
            frame[col.name] = frame[col.name].astype({"int": "int64", "float": "float64", "bool": "bool"}[col.kind])
    first_ts = next(c.name for c in CONTRACTS[name] if c.kind == "ts")
    return frame.sort_values([first_ts, frame.columns[0]], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- the source


class DemoOptions(SourceOptions):
    """The simulated estate of a securities firm: every frame, from a seeded, deterministic simulation."""

    seed: int = Field(42, ge=0, le=2**63 - 1, description="Seed of the simulation.")
    services: int = Field(
        len(ESTATE),
        ge=len(ESTATE),
        le=20000,
        description=(
            "Size of the estate; beyond the built-in services, synthetic chains are added (benchmarks use 1000)."
        ),
    )
    window_h: float = Field(6, ge=0.01, le=168, description="Hours of metrics each poll returns.")
    step_s: int = Field(60, ge=1, le=3600, description="Seconds between metric points.")
    fail: bool = Field(False, description="Make every poll fail, for trying out stale handling.")
    frames: list[Literal[EMITTED]] = Field(
        default_factory=lambda: list(EMITTED), description=("The frames to emit (default: all).")
    )

    @field_validator("step_s")
    @classmethod
    def _within_the_window(cls, step_s: int, info) -> int:
        if step_s > info.data.get("window_h", 168) * 3600:
            raise ValueError("window_h must span at least one step_s")
        return step_s


@register
@dataclass
class DemoSource(Source):
    """The simulated estate."""

    kind = "demo"
    options_model = DemoOptions
    injected: list[dict] = field(default_factory=list)

    @classmethod
    def offers(cls, options: dict[str, Any]) -> frozenset[str]:
        """The frames named by ``frames`` (default: every frame the demo emits)."""
        frames = options.get("frames", EMITTED)
        return frozenset(EMITTED).intersection(frames) if isinstance(frames, (list, tuple)) else frozenset(EMITTED)

    def inject_incident(self, incident_id: str, title: str, priority: int, service: str, opened_at: Any) -> None:
        """Add a new, unacknowledged incident to every later fetch (while ``frames`` includes incidents)."""
        self.injected.append(
            _incident(
                incident_id,
                title,
                priority,
                service,
                "service-desk",
                _epoch_s(opened_at),
                2**62,
                2**62,
                _epoch_s(opened_at),
                self.name,
            )
        )

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        cfg = self.config
        if cfg.fail:
            raise SourceError("demo source told to fail")
        est = _estate(cfg.services)
        now_s = _epoch_s(now)
        steps = int(cfg.window_h * 3600 // cfg.step_s)
        end_ts = now_s // cfg.step_s * cfg.step_s
        ts = end_ts - cfg.step_s * np.arange(steps - 1, -1, -1, dtype=np.int64)
        start_s = int(ts[0])
        service_metrics, resource_metrics, log_rates, latest_rps = _metric_frames(est, cfg.seed, ts)
        spans = _all_spans(est, cfg.seed, -(-start_s // 60), (now_s - 120) // 60)
        calls = _select_calls(spans)
        events = _episode_events(est, cfg.seed, start_s, now_s, self.name)
        events["incidents"] += _background_incidents(est, cfg.seed, now_s, self.name)
        events["changes"] += _background_changes(est, cfg.seed, now_s, self.name)
        events["chaos_runs"] += _background_chaos_runs(est, cfg.seed, now_s, self.name)
        events["incidents"] += [i for i in self.injected if i["opened_at"] <= now_s]
        alerts = [
            a
            for a in events["alerts"] + _background_alerts(cfg.seed, start_s, now_s, self.name)
            if a is not None and (a["ends_at"] is None or a["ends_at"] >= start_s)
        ]
        frames = {
            "services": pd.DataFrame(
                {
                    "service": list(est.names),
                    "display_name": list(est.display),
                    "tier": est.tier,
                    "owner": list(est.owner),
                    "runbook_url": [RUNBOOK_URL.format(s) for s in est.names],
                    "x_display_name_zh": [NAMES_ZH.get(s) for s in est.names],
                }
            ),
            "chains": _chains_frame(est),
            "edges": _edges_frame(est, latest_rps),
            "service_metrics": service_metrics,
            "resource_metrics": resource_metrics,
            "instances": pd.DataFrame(
                {
                    "service": np.array(est.names, dtype=object)[est.inst_service].tolist(),
                    "instance": est.inst_names.tolist(),
                    "site": [SITES[i] for i in est.inst_site],
                }
            ),
            "log_rates": log_rates,
            "service_requests": _service_requests(cfg.seed, now_s, self.name),
            "calls": _span_table(est, spans, calls[np.argsort(spans["start_ns"][calls], kind="stable")]),
            "spans": _span_table(est, spans, _select_trace_rows(est, spans, calls)),
            "alerts": _event_frame("alerts", alerts),
            "incidents": _event_frame("incidents", events["incidents"]),
            "changes": _event_frame("changes", events["changes"]),
            "chaos_runs": _event_frame("chaos_runs", events["chaos_runs"]),
            "feed_status": self.feed_status(now_s),
            "business_metrics": business.business_metrics(cfg.seed, ts),
        }
        frames["calls"] = frames["calls"][[c.name for c in CONTRACTS["calls"]]]
        return {name: validate(name, frames[name]) for name in cfg.frames}

    def feed_status(self, now_s: int) -> pd.DataFrame:
        """The ``feed_status`` frame at ``now_s`` (epoch seconds), as a poll then would return it."""
        return _feed_status(_estate(self.config.services), self.config.seed, now_s)

    def history(self, start: datetime, end: datetime, step_s: int | None = None) -> dict[str, pd.DataFrame]:
        """service_metrics and resource_metrics over [start, end), a point per ``step_s`` (default: the
        option), without traces or events."""
        cfg = self.config
        step_s = int(step_s or cfg.step_s)
        first = -(-_epoch_s(start) // step_s) * step_s
        ts = np.arange(first, _epoch_s(end), step_s, dtype=np.int64)
        if not len(ts):
            return {}
        service_metrics, resource_metrics, _log_rates, _latest = _metric_frames(_estate(cfg.services), cfg.seed, ts)
        return {
            "service_metrics": validate("service_metrics", service_metrics),
            "resource_metrics": validate("resource_metrics", resource_metrics),
        }

    def spans(self, trace_id: str) -> pd.DataFrame:
        """The whole trace for ``trace_id``, regenerated from the id; empty when unknown."""
        cfg = self.config
        if not isinstance(trace_id, str) or not _TRACE_ID.fullmatch(trace_id):
            return empty_frame("spans")
        est = _estate(cfg.services)
        minute, chain, k = int(trace_id[:8], 16), int(trace_id[8:14], 16), int(trace_id[14:16], 16)
        if chain >= len(est.chains) or k >= TRACES_PER_MINUTE:
            return empty_frame("spans")
        spans = _chain_spans(est, cfg.seed, chain, np.array([minute], np.int64), np.array([k], np.int64))
        if f"{int(spans['check'][0]):016x}" != trace_id[16:]:
            return empty_frame("spans")
        return validate("spans", _span_table(est, spans, np.arange(len(spans["step"]))))

    def log_lines(
        self,
        services: tuple[str, ...],
        start: datetime,
        end: datetime,
        limit: int,
        instances: tuple[str, ...] = (),
        trace_id: str | None = None,
    ) -> pd.DataFrame:
        """Lines of ``services`` (their ``instances`` when given) in [start, end], regenerated from the
        estate: the trace's own lines first, then per minute a summary and the site episode's errors."""
        cfg = self.config
        est = _estate(cfg.services)
        start_s, end_s = _epoch_s(start), _epoch_s(end)
        wanted = [
            i
            for i, name in enumerate(est.inst_names)
            if est.names[est.inst_service[i]] in services and (not instances or name in instances)
        ]
        wanted_names = set(est.inst_names[wanted])
        rows = [r for r in _trace_lines(est, self.spans(trace_id)) if r[2] in wanted_names] if trace_id else []
        for minute in range(-(-start_s // 60), end_s // 60 + 1):
            for i in wanted:
                rows += _minute_lines(est, cfg.seed, minute, i)
        if not rows:
            return empty_frame("log_lines")
        frame = pd.DataFrame(rows, columns=[c.name for c in CONTRACTS["log_lines"]])
        frame["ts"] = utc_column(frame["ts"], unit="ns")
        frame["trace_id"] = frame["trace_id"].astype("object")
        frame = frame[frame["ts"].between(_utc(start_s), _utc(end_s))]
        return validate("log_lines", frame.head(min(limit, LOG_LIMIT)).reset_index(drop=True))

    def check(self) -> Health:
        """Report the options without generating anything."""
        cfg = self.config
        if cfg.fail:
            return Health(False, "demo source told to fail")
        return Health(True, f"demo estate of {cfg.services} services, seed {cfg.seed}")


def _trace_lines(est: Estate, spans: pd.DataFrame) -> list[tuple]:
    """What each span of a trace logged at its instance: its start, and a warning or error when it
    was slow or failed."""
    rows = []
    base = dict(zip(est.names, est.base_ms))
    for span in spans.itertuples():
        at = span.start.value
        rows.append((at, span.service, span.instance, "info", f"{span.operation} started", span.trace_id))
        end = at + int(span.duration_ms * 1e6)
        if span.status == "error":
            rows.append(
                (end, span.service, span.instance, "error", f"{span.operation} failed: upstream error", span.trace_id)
            )
        elif span.duration_ms > 10 * base.get(span.service, span.duration_ms):
            rows.append(
                (
                    end,
                    span.service,
                    span.instance,
                    "warning",
                    f"{span.operation} slow: {span.duration_ms:.0f} ms",
                    span.trace_id,
                )
            )
    return rows


def _minute_lines(est: Estate, seed: int, minute: int, instance: int) -> list[tuple]:
    """One instance's lines in one minute: a summary, and errors while its site loses its exchange line."""
    service, name = est.names[est.inst_service[instance]], est.inst_names[instance]
    at = minute * 60 * 10**9 + int(_uniform(seed, est.keys[est.inst_service[instance]], instance, minute)[0] * 59e9)
    rows = [
        (at, service, name, "info", f"handled requests in the last minute ({SITES[est.inst_site[instance]]})", None)
    ]
    if est.inst_site[instance] == DEGRADED_SITE and _during(np.array([minute * 60]), seed, "site_errors")[0]:
        rows.append(
            (
                at + 10**9,
                service,
                name,
                "error",
                f"connection reset by {SITES[DEGRADED_SITE]} exchange line; retrying",
                None,
            )
        )
    return rows


def _service_requests(seed: int, now_s: int, source: str) -> pd.DataFrame:
    """Standard service requests of the last 30 days: each item at its weekly rate, most met in time."""
    records = []
    for item_no, (item, category, target_h, per_week) in enumerate(REQUEST_ITEMS):
        period = 7 * DAY_S // per_week
        for k in _slots(period, now_s - HISTORY_S, now_s):
            u = _uniform(seed, 8, item_no, k, np.arange(3))
            opened = k * period + int(u[0] * period)
            took = target_h * 3600 * (0.2 + 0.9 * float(u[1]))
            if not now_s - HISTORY_S <= opened <= now_s:
                continue
            done = opened + took <= now_s
            state = "cancelled" if u[2] < 0.03 else ("fulfilled" if done else "open")
            records.append(
                {
                    "request_id": f"REQ{item_no}{k % 1_000_000:06d}",
                    "item": item,
                    "category": category,
                    "opened_at": opened,
                    "fulfilled_at": opened + took if state == "fulfilled" else None,
                    "state": state,
                    "target_h": target_h,
                    "source": source,
                }
            )
    return _event_frame("service_requests", records)


def _feed_status(est: Estate, seed: int, now_s: int) -> pd.DataFrame:
    """``feeds.feed_status`` at the sites of the feed handler's instances, with the stall episodes of the
    last ``feeds.SEARCH_DAYS``."""
    handler = est.index[FEED_STALL[0]]
    first = est.inst_offset[handler]
    sites = [SITES[i] for i in dict.fromkeys(est.inst_site[first : first + est.instances[handler]].tolist())]
    start_s = now_s - feeds.SEARCH_DAYS * DAY_S
    stalls = [_cycle_times(n, seed)["feed_stall"] for n in _cycles(start_s, now_s, seed)]
    return feeds.feed_status(now_s, seed, sites, stalls, SITES[FEED_STALL[1] % len(SITES)], FEED_STALL[2])


def _chains_frame(est: Estate) -> pd.DataFrame:
    rows = [
        (cid, cname, step + 1, est.names[s]) for cid, cname, members in est.chains for step, s in enumerate(members)
    ]
    frame = pd.DataFrame(rows, columns=["chain", "chain_name", "step", "service"]).astype({"step": "int64"})
    return frame.assign(x_chain_name_zh=frame["chain"].map(CHAIN_NAMES_ZH))


def _edges_frame(est: Estate, latest_rps: np.ndarray) -> pd.DataFrame:
    """Caller -> callee for consecutive chain steps, at most the caller's rate or the callee's share."""
    pairs = sorted({(a, b) for _c, _n, members in est.chains for a, b in zip(members, members[1:])})
    callers = pd.Series([b for _a, b in pairs]).value_counts()
    return pd.DataFrame(
        {
            "caller": [est.names[a] for a, _b in pairs],
            "callee": [est.names[b] for _a, b in pairs],
            "calls_per_s": [float(min(latest_rps[a], latest_rps[b] / callers[b])) for a, b in pairs],
        }
    )
