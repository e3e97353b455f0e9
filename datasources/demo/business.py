"""The demo estate's business figures (``business_metrics``): orders and bank-securities transfers.

Equity trading (service ``order-gateway``): orders per second and the share that succeed per trading
counter and channel, rejects per second per counter and reason, each counter's p99 latency, and the
chain's totals (rows without dimensions). Accounts (service ``bank-transfer``): transfers per second
and the share that succeed, per channel and in total. Orders flow only while the A-share market is
live (``calendar.LIVE_PHASES``: its auctions and continuous trading), transfers on its trading days from
09:00 to 16:00; outside them the frame holds no row for them.

Episodes, in the demo's two-hour cycle (``TIMELINE``): a reject spike on ``SPIKE_COUNTER`` (risk-limit
rejects), a transfer outage at the bank's side (the ``bank-transfer`` service itself stays healthy), and
the order gateway's error episode, during which every counter's orders fail; counters slow down while
pre-trade risk is saturated. Every value is a function of (seed, time, key), as in the rest of the demo.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import datasources.demo as demo
from dashboard.analytics.calendar import LIVE_PHASES, PHASES, session_codes
from datasources.base import BUSINESS_DIMENSIONS, empty_frame

ORDER_CHAIN, ORDER_SERVICE = "equity-trading", "order-gateway"
TRANSFER_CHAIN, TRANSFER_SERVICE = "accounts", "bank-transfer"
COUNTERS = (  # trading counter, share of orders, base p99 latency in ms
    ("central-a", 0.35, 9.0),
    ("central-b", 0.35, 9.0),
    ("fast-1", 0.15, 1.6),
    ("fast-2", 0.15, 1.6),
)
CHANNELS = (("app", 0.6), ("pc", 0.25), ("api", 0.15))  # channel, share of orders
TRANSFER_CHANNELS = (("app", 0.8), ("pc", 0.2))
REJECT_REASONS = (("insufficient_funds", 0.002), ("price_limit", 0.001), ("risk_limit", 0.0006), ("other", 0.0004))
ORDER_PEAK_PER_S = 800.0
TRANSFER_PEAK_PER_S = 30.0
TRANSFER_BASE_FAILURE = 0.002
SPIKE_COUNTER, SPIKE_REASON, SPIKE_RATIO = "central-b", "risk_limit", 0.12
OUTAGE_SUCCESS = 0.35  # the share of transfers that still succeed while the bank's side is down
TRANSFER_HOURS = (9 * 60, 16 * 60)  # local minutes of the day transfers are taken on a trading day
SLOW_COUNTERS = 2.2  # counter p99 factor while pre-trade risk is saturated


def orders_flow(ts_s: np.ndarray) -> np.ndarray:
    """Whether orders flow at each of the UTC seconds ``ts_s``: the A-share market is live then."""
    codes = session_codes("cn", pd.DatetimeIndex(pd.to_datetime(np.asarray(ts_s), unit="s", utc=True)))
    return np.isin(codes, [PHASES.index(p) for p in LIVE_PHASES])


def transfers_flow(ts_s: np.ndarray) -> np.ndarray:
    """Whether bank-securities transfers are taken at each of the UTC seconds ``ts_s``."""
    local = np.asarray(ts_s) + demo.SHANGHAI_OFFSET_S
    minute = local % demo.DAY_S // 60
    hours = (minute >= TRANSFER_HOURS[0]) & (minute < TRANSFER_HOURS[1])
    return hours & demo._trading(local // demo.DAY_S)


def _rows(ts: np.ndarray, chain: str, service: str, metric: str, values: np.ndarray, **dimensions) -> pd.DataFrame:
    """Long rows of one metric at the timestamps ``ts`` (seconds), its dimensions fixed."""
    frame = pd.DataFrame({"ts": ts, "chain": chain, "service": service, "metric": metric, "value": values})
    for dimension in BUSINESS_DIMENSIONS:
        frame[dimension] = dimensions.get(dimension)
    return frame


def _orders(seed: int, ts: np.ndarray) -> list[pd.DataFrame]:
    """The equity-trading chain's figures at the timestamps when orders flow."""
    ts = ts[orders_flow(ts)]
    if not len(ts):
        return []
    total = ORDER_PEAK_PER_S * demo._load(ts)
    failing = demo._episode_error(ORDER_SERVICE, ts, seed)
    spike = demo._during(ts, seed, "reject_spike")
    slow = np.where(demo._during(ts, seed, "saturation"), SLOW_COUNTERS, 1.0)
    parts, orders_sum, success_sum, rejected_sum = [], np.zeros(len(ts)), np.zeros(len(ts)), np.zeros(len(ts))
    for counter, share, p99_ms in COUNTERS:
        key = demo._crc(counter)
        rejects = np.zeros(len(ts))
        for r, (reason, ratio) in enumerate(REJECT_REASONS):
            extra = np.where(spike, SPIKE_RATIO, 0.0) if (counter, reason) == (SPIKE_COUNTER, SPIKE_REASON) else 0.0
            reason_ratio = ratio * np.exp(0.3 * demo._normal(seed, key, ts, 40 + r)) + extra
            rejected = total * share * reason_ratio
            parts.append(
                _rows(ts, ORDER_CHAIN, ORDER_SERVICE, "order_rejects_per_s", rejected, counter=counter, reason=reason)
            )
            rejects, rejected_sum = rejects + reason_ratio, rejected_sum + rejected
        for h, (channel, channel_share) in enumerate(CHANNELS):
            orders = total * share * channel_share * (1 + 0.05 * demo._normal(seed, key, h, ts, 50))
            success = np.clip(1 - rejects - failing - 0.0005 * demo._uniform(seed, key, h, ts, 51), 0.0, 1.0)
            orders_sum, success_sum = orders_sum + orders, success_sum + orders * success
            parts.append(
                _rows(ts, ORDER_CHAIN, ORDER_SERVICE, "orders_per_s", orders, counter=counter, channel=channel)
            )
            parts.append(
                _rows(ts, ORDER_CHAIN, ORDER_SERVICE, "order_success_ratio", success, counter=counter, channel=channel)
            )
        latency = p99_ms * (1 + 0.3 * demo._busy(ts)) * slow * np.exp(0.1 * demo._normal(seed, key, ts, 52))
        parts.append(_rows(ts, ORDER_CHAIN, ORDER_SERVICE, "counter_latency_p99_ms", latency, counter=counter))
    parts += [
        _rows(ts, ORDER_CHAIN, ORDER_SERVICE, "orders_per_s", orders_sum),
        _rows(ts, ORDER_CHAIN, ORDER_SERVICE, "order_success_ratio", success_sum / orders_sum),
        _rows(ts, ORDER_CHAIN, ORDER_SERVICE, "order_rejects_per_s", rejected_sum),
    ]
    return parts


def _transfers(seed: int, ts: np.ndarray) -> list[pd.DataFrame]:
    """The accounts chain's transfer figures at the timestamps when transfers are taken."""
    ts = ts[transfers_flow(ts)]
    if not len(ts):
        return []
    total = TRANSFER_PEAK_PER_S * np.maximum(demo._load(ts), 0.3)
    outage = demo._during(ts, seed, "transfer_outage")
    parts, transfers_sum, success_sum = [], np.zeros(len(ts)), np.zeros(len(ts))
    for h, (channel, share) in enumerate(TRANSFER_CHANNELS):
        transfers = total * share * (1 + 0.08 * demo._normal(seed, h, ts, 60))
        failure = TRANSFER_BASE_FAILURE * np.exp(0.3 * demo._normal(seed, h, ts, 61))
        success = np.where(outage, OUTAGE_SUCCESS * (1 + 0.1 * demo._uniform(seed, h, ts, 62)), 1 - failure)
        transfers_sum, success_sum = transfers_sum + transfers, success_sum + transfers * success
        parts.append(_rows(ts, TRANSFER_CHAIN, TRANSFER_SERVICE, "transfers_per_s", transfers, channel=channel))
        parts.append(_rows(ts, TRANSFER_CHAIN, TRANSFER_SERVICE, "transfer_success_ratio", success, channel=channel))
    parts += [
        _rows(ts, TRANSFER_CHAIN, TRANSFER_SERVICE, "transfers_per_s", transfers_sum),
        _rows(ts, TRANSFER_CHAIN, TRANSFER_SERVICE, "transfer_success_ratio", success_sum / transfers_sum),
    ]
    return parts


def business_metrics(seed: int, ts: np.ndarray) -> pd.DataFrame:
    """The ``business_metrics`` frame at the timestamps ``ts`` (UTC seconds), ordered by time."""
    parts = _orders(seed, ts) + _transfers(seed, ts)
    if not parts:
        return empty_frame("business_metrics")
    frame = pd.concat(parts, ignore_index=True).sort_values("ts", kind="stable", ignore_index=True)
    frame["ts"] = demo._utc_ns(frame["ts"].to_numpy() * 10**9)
    return frame.astype(dict.fromkeys(("chain", "service", "metric", *BUSINESS_DIMENSIONS), "str"))


def cycle_episodes(times: dict[str, tuple[int, int]]) -> list[tuple[str, str, str, int, int]]:
    """The business episodes of one cycle (``TIMELINE`` in epoch seconds) that fall while their figures flow:
    (kind, service, counter or None, start, end)."""
    found = []
    spike, outage = times["reject_spike"], times["transfer_outage"]
    if orders_flow(np.array([spike[0]]))[0]:
        found.append(("reject_spike", ORDER_SERVICE, SPIKE_COUNTER, *spike))
    if transfers_flow(np.array([outage[0]]))[0]:
        found.append(("transfer_outage", TRANSFER_SERVICE, None, *outage))
    return found
