"""The demo exporter: OpenMetrics text whose counters grow with time and whose exemplars the demo knows."""

import re

import pandas as pd

from datasources.demo import DemoSource
from datasources.demo.exporter import DemoExporter, label_text

START = 1795000000.0


def samples(text):
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            series, value = line.split(" # ")[0].rsplit(" ", 1)
            values[series] = float(value)
    return values


def test_counters_grow_and_the_text_ends_with_eof():
    clock = iter([START, START + 30]).__next__
    exporter = DemoExporter(clock=clock)
    first, second = exporter.render(), exporter.render()
    assert first.endswith("# EOF\n") and "# TYPE http_server_request_duration_seconds histogram" in first
    before, after = samples(first), samples(second)
    counters = [k for k in before if k.endswith("_total") or "_bucket" in k or "_count" in k]
    assert counters and all(after[k] >= before[k] for k in counters)
    cpu = 'node_cpu_seconds_total{instance="pretrade-risk-1",service="pretrade-risk",cpu="0",mode="idle"}'
    assert 0 < after[cpu] - before[cpu] <= 30


def test_exemplars_carry_trace_ids_the_demo_knows():
    text = DemoExporter(clock=lambda: START).render()
    exemplars = re.findall(r'_bucket\{service="([^"]+)".*# \{trace_id="([0-9a-f]{32})"\}', text)
    assert len(exemplars) > 50
    demo = DemoSource(name="demo")
    for service, trace_id in exemplars[:10]:
        assert service in set(demo.spans(trace_id)["service"])


def test_label_values_are_escaped():
    assert label_text({"a": 'x"y\\z\n'}) == '{a="x\\"y\\\\z\\n"}'


def test_feeds_carry_their_last_tick_as_of_the_scrape_and_counters_that_grow():
    stall = 1796090400.0  # 2026-12-01 10:00 in Shanghai: the SSE feeds at sh-dc2 have stalled since 09:57
    clock = iter([stall, stall + 30]).__next__
    exporter = DemoExporter(clock=clock)
    before, after = samples(exporter.render()), samples(exporter.render())

    def tick(site):
        return "opscenter_feed_last_tick_timestamp_seconds" + label_text(
            {"market": "SSE", "feed": "sse-level1", "site": site}
        )

    assert after[tick("sh-dc1")] > stall + 25 and after[tick("sh-dc2")] < stall - 150
    assert after[tick("sh-dc2")] == before[tick("sh-dc2")]  # a stalled feed's last tick stays put
    messages = "opscenter_feed_messages_total" + label_text({"market": "SZSE", "feed": "szse-level2", "site": "sh-dc2"})
    assert 30 * 3000 < after[messages] - before[messages] < 30 * 6000


def test_business_series_advance_only_while_orders_flow():
    at = {"now": pd.Timestamp("2026-12-04 02:10", tz="UTC").timestamp()}  # 10:10 in Shanghai, a Friday
    exporter = DemoExporter(clock=lambda: at["now"])
    exporter.render()
    at["now"] += 30
    text = exporter.render()
    orders = [line for line in text.splitlines() if line.startswith("opscenter_orders_total{")]
    assert len(orders) == 4 * 3 * 2  # counters x channels x results
    assert 'opscenter_order_rejects_total{counter="central-b",reason="risk_limit"}' in text
    assert "opscenter_counter_latency_p99_seconds{" in text and "opscenter_bank_transfers_total{" in text
    at["now"] = pd.Timestamp("2026-12-06 02:10", tz="UTC").timestamp()  # Sunday: nothing flows
    sunday = exporter.render()
    assert "opscenter_counter_latency_p99_seconds{" not in sunday
    assert [line for line in sunday.splitlines() if line.startswith("opscenter_orders_total{")] == orders
