"""Business figures from Prometheus: the ``business_metrics`` frame from configured queries.

Each query (``BusinessQuery``) names the figure it returns (one of ``BUSINESS_METRICS``), the chain and
the service it belongs to, and a PromQL expression (a template, as the service queries are). A series'
labels named like a dimension column (``counter``, ``channel``, ``market``, ``reason``) fill that
column; a series without any is the chain's total. The defaults read the demo exporter's names:

| figure | default expression (by chain total, and broken down) |
| --- | --- |
| orders_per_s | ``sum(rate(opscenter_orders_total[$rate]))``, by counter, channel |
| order_success_ratio | the rate of ``opscenter_orders_total{result="success"}`` over all, by counter, channel |
| order_rejects_per_s | ``sum(rate(opscenter_order_rejects_total[$rate]))``, by counter, reason |
| counter_latency_p99_ms | ``1000 * max by (counter) (opscenter_counter_latency_p99_seconds)`` |
| transfers_per_s | ``sum(rate(opscenter_bank_transfers_total[$rate]))``, by channel |
| transfer_success_ratio | the rate of ``opscenter_bank_transfers_total{result="success"}`` over all, by channel |

The source sends them all as one range query over its window, each tagged with its place in
the list; ``business_frame`` turns the answer's points into the frame. Points without a value (a ratio
of nothing: no order flowed) are dropped, ratios are held to [0, 1] and other figures to >= 0.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from datasources.base import BUSINESS_DIMENSIONS, BUSINESS_METRICS, CONTRACTS, empty_frame, parser, utc_column
from datasources.options import Strict


class BusinessQuery(Strict):
    """One business figure's query."""

    metric: Literal[BUSINESS_METRICS] = Field(description="The figure the query returns.")
    chain: str = Field(description="The business chain it belongs to.")
    service: str = Field(description="The service that reports it.")
    query: str = Field(description="PromQL template; labels named counter, channel, market or reason fill them.")


def _rate(selector: str, by: str = "") -> str:
    return f"sum{by} (rate({selector}[$rate]))"


def _ratio(metric: str, by: str = "") -> str:
    """The rate of ``metric``'s successes over the rate of all of it."""
    succeeded = metric + '{result="success",$match}'
    return f"{_rate(succeeded, by)} / {_rate(metric + '{$match}', by)}"


def _both(metric: str, chain: str, service: str, expression, by: str) -> list[dict[str, str]]:
    """The chain's total and its breakdown ``by`` of one figure."""
    return [
        {"metric": metric, "chain": chain, "service": service, "query": expression("")},
        {"metric": metric, "chain": chain, "service": service, "query": expression(f" by ({by})")},
    ]


ORDERS, REJECTS, TRANSFERS = "opscenter_orders_total", "opscenter_order_rejects_total", "opscenter_bank_transfers_total"
TRADING, ACCOUNTS = ("equity-trading", "order-gateway"), ("accounts", "bank-transfer")
DEFAULT_QUERIES = (
    *_both("orders_per_s", *TRADING, lambda by: _rate(ORDERS + "{$match}", by), "counter, channel"),
    *_both("order_success_ratio", *TRADING, lambda by: _ratio(ORDERS, by), "counter, channel"),
    *_both("order_rejects_per_s", *TRADING, lambda by: _rate(REJECTS + "{$match}", by), "counter, reason"),
    {
        "metric": "counter_latency_p99_ms",
        "chain": TRADING[0],
        "service": TRADING[1],
        "query": "1000 * max by (counter) (opscenter_counter_latency_p99_seconds{$match})",
    },
    *_both("transfers_per_s", *ACCOUNTS, lambda by: _rate(TRANSFERS + "{$match}", by), "channel"),
    *_both("transfer_success_ratio", *ACCOUNTS, lambda by: _ratio(TRANSFERS, by), "channel"),
)


def default_queries() -> list[BusinessQuery]:
    return [BusinessQuery(**spec) for spec in DEFAULT_QUERIES]


def business_labels(tag: str) -> tuple[str, ...]:
    """The labels the business query's points are read with: its tag and the dimensions."""
    return (tag, *BUSINESS_DIMENSIONS)


@parser()
def business_frame(points: pd.DataFrame, queries: list[BusinessQuery], tag: str) -> pd.DataFrame:
    """The ``business_metrics`` frame from the long points (ts, value, ``business_labels(tag)``) of the tagged query,
    the tag being each query's index in ``queries``."""
    points = points[points["value"].notna() & points[tag].notna()]
    if points.empty:
        return empty_frame("business_metrics")
    index = points[tag].astype(int)
    if (index < 0).any() or (index >= len(queries)).any():
        raise ValueError(f"a series tagged {tag}={points[tag].iloc[0]!r} names no business query")
    spec = pd.DataFrame([q.model_dump() for q in queries]).iloc[index.to_numpy()].reset_index(drop=True)
    ratio = spec["metric"].str.endswith("_ratio").to_numpy()
    value = points["value"].to_numpy().clip(0.0, None)
    value = np.where(ratio, value.clip(0.0, 1.0), value)
    frame = pd.DataFrame(
        {
            "ts": points["ts"].to_numpy(),
            "chain": spec["chain"],
            "service": spec["service"],
            "metric": spec["metric"],
            "value": value,
            **{d: points[d].to_numpy(dtype=object) for d in BUSINESS_DIMENSIONS},
        }
    )
    frame["ts"] = utc_column(frame["ts"])
    return frame[[c.name for c in CONTRACTS["business_metrics"]]]
