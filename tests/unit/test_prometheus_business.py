"""The business figures' query and parse for the prometheus kind, on canned answers."""

import pandas as pd
import pytest

from datasources.base import SourceError, validate
from datasources.monitoring.business import BusinessQuery, business_frame, business_labels, default_queries
from datasources.monitoring.prometheus import COLUMN_LABEL, PrometheusSource, long_points, result_of

ANSWER = {  # a range query's answer as Prometheus gives it
    "status": "success",
    "data": {
        "resultType": "matrix",
        "result": [
            {"metric": {COLUMN_LABEL: "2"}, "values": [[1764814200, "0.9531"], [1764814260, "NaN"]]},
            {
                "metric": {COLUMN_LABEL: "3", "counter": "central-b", "channel": "app"},
                "values": [[1764814200, "0.8741"]],
            },
            {
                "metric": {COLUMN_LABEL: "5", "counter": "central-b", "reason": "risk_limit"},
                "values": [[1764814200, "34.3"]],
            },
            {"metric": {COLUMN_LABEL: "6", "counter": "fast-1"}, "values": [[1764814200, "1.62"]]},
            {"metric": {COLUMN_LABEL: "9"}, "values": [[1764814200, "1.0000001"]]},
        ],
    },
}


def _frame(answer=ANSWER, queries=None):
    points = long_points(result_of(answer, "q"), business_labels(COLUMN_LABEL))
    return validate("business_metrics", business_frame(points, queries or default_queries(), COLUMN_LABEL))


def test_each_series_becomes_rows_of_its_querys_figure_with_its_dimensions():
    frame = _frame()
    assert len(frame) == 5  # the NaN point (no order flowed) is dropped
    total = frame[(frame["metric"] == "order_success_ratio") & frame["counter"].isna()]
    assert total["value"].tolist() == [0.9531] and total["channel"].isna().all()
    spiking = frame[(frame["counter"] == "central-b") & (frame["channel"] == "app")].iloc[0]
    assert (spiking["chain"], spiking["service"], spiking["value"]) == ("equity-trading", "order-gateway", 0.8741)
    reject = frame[frame["metric"] == "order_rejects_per_s"].iloc[0]
    assert reject["reason"] == "risk_limit" and pd.isna(reject["channel"]) and pd.isna(reject["market"])
    transfers = frame[frame["metric"] == "transfer_success_ratio"].iloc[0]
    assert transfers["chain"] == "accounts" and transfers["value"] == 1.0  # a ratio is held to one
    assert transfers["ts"] == pd.Timestamp(1764814200, unit="s", tz="UTC")


def test_ratios_are_held_to_one():
    answer = {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": {COLUMN_LABEL: "0"}, "values": [[1, "1.2"]]}]},
    }
    queries = [BusinessQuery(metric="transfer_success_ratio", chain="accounts", service="bank-transfer", query="x")]
    assert _frame(answer, queries)["value"].tolist() == [1.0]


def test_a_tag_naming_no_query_is_a_source_error():
    answer = {
        "status": "success",
        "data": {"resultType": "matrix", "result": [{"metric": {COLUMN_LABEL: "40"}, "values": [[1, "1"]]}]},
    }
    with pytest.raises(SourceError, match="names no business query"):
        _frame(answer)


def test_the_poll_sends_the_business_queries_as_one_tagged_expression_with_escaped_matchers():
    source = PrometheusSource(name="prom", options={"url": "http://127.0.0.1:9", "match": {"env": 'p"rod'}})
    query = source.config.business_query()
    assert query.count("label_replace(") == len(default_queries()) == 11
    assert 'opscenter_orders_total{result="success",env="p\\"rod"}[5m]' in query
    assert PrometheusSource.offers({}) >= {"business_metrics"}
    assert "business_metrics" not in PrometheusSource.offers({"business": []})
