"""Market-data feeds from Prometheus: the ``feed_status`` frame from three instant queries, one per column.

The default queries read the metrics of the demo exporter (``opscenter_feed_last_tick_timestamp_seconds``,
``opscenter_feed_messages_total``, ``opscenter_feed_sequence_gaps_total``); a feed handler exposing other names
or labels sets ``feeds.queries`` and the label options. Each query answers a vector labelled by market, feed and
site; a series without those labels, or of a market the contract does not know, is dropped.
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field, field_validator

from datasources.base import CONTRACTS, FEED_MARKETS, empty_frame, parser
from datasources.options import LabelName, Strict

BY = "by ($market, $feed, $site)"
FEED_QUERIES = {
    "tick_age_s": f"time() - max {BY} (opscenter_feed_last_tick_timestamp_seconds{{$match}})",
    "sequence_gaps": f"sum {BY} (increase(opscenter_feed_sequence_gaps_total{{$match}}[5m]))",
    "messages_per_s": f"sum {BY} (rate(opscenter_feed_messages_total{{$match}}[$rate]))",
}
KEYS = ("market", "feed", "site")


class FeedOptions(Strict):
    """Where the market-data feeds' figures are: one PromQL expression per ``feed_status`` column."""

    market_label: LabelName = Field(
        "market", description="Label naming the market (SSE, SZSE, HKEX, futures, indices)."
    )
    feed_label: LabelName = Field("feed", description="Label naming the feed.")
    site_label: LabelName = Field("site", description="Label naming the site that receives the feed.")
    queries: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Expression per feed_status column (tick_age_s, sequence_gaps over 5 minutes, messages_per_s) replacing "
            "the default (templates: `$market`, `$feed`, `$site`, `$match`, `$rate`)."
        ),
    )

    @field_validator("queries")
    @classmethod
    def _known_columns(cls, queries: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(queries) - set(FEED_QUERIES))
        if unknown:
            raise ValueError(f"unknown feed_status columns {unknown}; known: {sorted(FEED_QUERIES)}")
        return queries

    @property
    def all_queries(self) -> dict[str, str]:
        return {**FEED_QUERIES, **self.queries}

    @property
    def labels(self) -> dict[str, str]:
        """Template fields naming the labels: market, feed, site."""
        return {"market": self.market_label, "feed": self.feed_label, "site": self.site_label}


@parser()
def feed_status_frame(answers: dict[str, list[dict]], options: FeedOptions, at: float) -> pd.DataFrame:
    """The ``feed_status`` frame at ``at`` (epoch seconds) from each column's instant vector."""
    labels = options.labels
    values: dict[tuple, dict[str, float]] = {}
    for column, result in answers.items():
        for series in result:
            metric = series.get("metric") or {}
            key = tuple(metric.get(labels[k]) for k in KEYS)
            if None in key or key[0] not in FEED_MARKETS:
                continue
            value = float(series["value"][1])
            values.setdefault(key, {})[column] = value if value == value and abs(value) != float("inf") else None
    if not values:
        return empty_frame("feed_status")
    frame = pd.DataFrame([(*key, *(row.get(c) for c in FEED_QUERIES)) for key, row in sorted(values.items())])
    frame.columns = [*KEYS, *FEED_QUERIES]
    frame[list(FEED_QUERIES)] = frame[list(FEED_QUERIES)].astype("float64").clip(lower=0)
    frame.insert(0, "ts", pd.Timestamp(at, unit="s", tz="UTC").as_unit("ns"))
    return frame[[c.name for c in CONTRACTS["feed_status"]]]
