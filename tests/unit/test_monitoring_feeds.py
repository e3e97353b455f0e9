"""feed_status from Prometheus's instant vectors: labels mapped, odd series dropped, values bounded."""

import pytest

from datasources.base import SourceError, validate
from datasources.monitoring.feeds import FeedOptions, feed_status_frame
from datasources.monitoring.prometheus import PrometheusOptions, PrometheusSource

AT = 1796090400.0


def series(value, **labels):
    return {"metric": labels, "value": [AT, str(value)]}


def test_each_column_comes_from_its_vector_by_market_feed_and_site():
    answers = {
        "tick_age_s": [
            series(181.2, market="SSE", feed="sse-level1", site="sh-dc2"),
            series(0.4, market="SSE", feed="sse-level1", site="sh-dc1"),
            series(3, market="NYSE", feed="x", site="sh-dc1"),  # not a market of the contract
            series(3, market="SSE", site="sh-dc1"),  # no feed label
        ],
        "messages_per_s": [series(850, market="SSE", feed="sse-level1", site="sh-dc1")],
        "sequence_gaps": [series("NaN", market="SSE", feed="sse-level1", site="sh-dc1")],
    }
    frame = validate("feed_status", feed_status_frame(answers, FeedOptions(), AT))
    rows = frame.set_index("site")
    assert list(rows.index) == ["sh-dc1", "sh-dc2"]
    assert rows.loc["sh-dc2", "tick_age_s"] == pytest.approx(181.2)
    assert rows.loc["sh-dc1", "messages_per_s"] == 850 and rows["sequence_gaps"].isna().all()
    assert (frame["ts"] == frame["ts"].iloc[0]).all() and frame["ts"].iloc[0].timestamp() == AT


def test_labels_are_configurable_and_an_empty_answer_is_an_empty_frame():
    options = FeedOptions(market_label="exchange", site_label="dc")
    answers = {"tick_age_s": [series(1, exchange="HKEX", feed="omd", dc="cloud-sh")]}
    assert feed_status_frame(answers, options, AT)[["market", "site"]].values.tolist() == [["HKEX", "cloud-sh"]]
    assert feed_status_frame({"tick_age_s": []}, options, AT).empty


def test_a_malformed_answer_is_a_source_error():
    with pytest.raises(SourceError):
        feed_status_frame({"tick_age_s": [{"metric": {"market": "SSE", "feed": "a", "site": "b"}}]}, FeedOptions(), AT)


def test_unknown_columns_are_refused_and_the_defaults_render_with_the_labels():
    with pytest.raises(ValueError, match="unknown feed_status columns"):
        FeedOptions(queries={"latency": "up"})
    cfg = PrometheusOptions(
        kind="prometheus", name="p", url="http://127.0.0.1:9", feeds={"market_label": "exchange"}, match={"env": "prod"}
    )
    query = cfg.render(cfg.feeds.all_queries["tick_age_s"], **cfg.feeds.labels)
    assert query == 'time() - max by (exchange, feed, site) (opscenter_feed_last_tick_timestamp_seconds{env="prod"})'


def test_feed_status_is_offered_only_with_the_feeds_option():
    assert "feed_status" not in PrometheusSource.offers({"url": "http://127.0.0.1:9"})
    assert "feed_status" in PrometheusSource.offers({"url": "http://127.0.0.1:9", "feeds": {}})
