"""A real Prometheus with the adapter's recording rules: promtool accepts `opscenter prometheus-rules`, Prometheus
loads and evaluates the rules, and frames read from the recorded series (backfilled by promtool over an hour of
backfilled histograms) equal the frames of the raw queries, in polls and history; ``auto`` falls back to the raw
queries where the recorded series do not reach."""

import json
import math
import shutil
import subprocess
import urllib.request
from datetime import UTC, datetime

import pandas as pd
import pytest

from dashboard.cli import main
from datasources.monitoring import prometheus as prom
from datasources.monitoring.prometheus import PrometheusSource, rules_file
from tests.servers import PROMTOOL, _binary, backfill, backfill_rules, histogram_backfill, prometheus, wait_until

SHARES = {  # whole 120ths of a minute's 5,880 + 120 requests: rates are the same at whatever second a rule runs
    "uniform-1s": lambda b: math.floor(120 * min(b, 1.0)) / 120,
    "exponential-100ms": lambda b: math.floor(120 * (1 - math.exp(-b / 0.1))) / 120,
    "quiet": lambda b: min(b, 1.0),
}
RECORDED_M = 70  # minutes of recorded series before the end: a poll's hour and a little more


def source(url: str, **options) -> PrometheusSource:
    return PrometheusSource(name="prom", options={"url": url, **options})


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """Prometheus over 80 minutes of histograms and their last 70 minutes of recorded series, evaluating the
    rules; yields its URL, the end of the data, and the rules file."""
    workdir = tmp_path_factory.mktemp("recorded")
    end_s = int(datetime.now(UTC).timestamp()) // 60 * 60 - 60
    data = workdir / "data"
    backfill(histogram_backfill(SHARES, end_s, minutes=80, quiet=("quiet",)), data)
    rules = workdir / "rules.yml"
    rules.write_text(rules_file([source("http://127.0.0.1:9")]))
    with prometheus(workdir, data_dir=data) as url:
        backfill_rules(url, rules, end_s - RECORDED_M * 60, end_s, workdir / "recorded")
    for block in (workdir / "recorded").iterdir():
        shutil.move(block, data / block.name)
    with prometheus(workdir, data_dir=data, rule_files=(rules,)) as url:
        yield url, end_s, rules


def test_promtool_accepts_the_printed_rules(tmp_path, capsys):
    config = tmp_path / "opscenter.yaml"
    config.write_text(
        "sources:\n"
        "  - {kind: prometheus, name: prod, url: 'http://127.0.0.1:9', match: {env: prod}, rate: 1m}\n"
        "  - {kind: prometheus, name: test, url: 'http://127.0.0.1:9', match: {env: test}, rate: 1m}\n"
        "  - {kind: demo, name: demo}\n"
    )
    assert main(["prometheus-rules", "--config", str(config)]) == 0
    rules = tmp_path / "rules.yml"
    rules.write_text(capsys.readouterr().out)
    checked = subprocess.run([_binary(PROMTOOL, "promtool"), "check", "rules", str(rules)], capture_output=True)
    assert checked.returncode == 0 and b"SUCCESS: 10 rules found" in checked.stdout, checked
    assert "service:http_server_request_duration_seconds:p95_rate1m" in rules.read_text()
    assert main(["prometheus-rules", "--config", str(config), "--source", "demo"]) == 2
    assert "no Prometheus source demo; the config's: prod, test" in capsys.readouterr().err


def test_prometheus_loads_and_evaluates_the_rules(recorded):
    url, _, _ = recorded

    def groups():
        with urllib.request.urlopen(f"{url}/api/v1/rules", timeout=5) as response:
            found = json.load(response)["data"]["groups"]
        evaluated = [rule for group in found for rule in group["rules"] if rule["lastEvaluation"][:4] != "0001"]
        return found if len(evaluated) == 5 else None

    [group] = wait_until(groups, 10, "the rules evaluated")
    assert group["name"] == "opscenter: prom" and {rule["health"] for rule in group["rules"]} == {"ok"}


def test_a_poll_from_recorded_series_equals_the_raw_poll(recorded):
    url, end_s, _ = recorded
    end = datetime.fromtimestamp(end_s, UTC)
    raw = source(url, recorded="never").fetch(end)["service_metrics"]
    auto = source(url)
    from_records = auto.fetch(end)["service_metrics"]
    assert auto.uses_recorded(end_s, 3600) and "quantile" not in str(auto._series_seen)
    assert len(raw) == 3 * 61 and raw["latency_p95_ms"].notna().sum() == 2 * 61
    pd.testing.assert_frame_equal(from_records, raw, rtol=1e-9)


def test_history_from_recorded_series_equals_the_raw_history(recorded):
    url, end_s, _ = recorded
    end = pd.Timestamp(end_s, unit="s", tz="UTC")
    start = end - pd.Timedelta(minutes=RECORDED_M - 5)
    raw = source(url, recorded="never").history(start, end)["service_metrics"]
    auto = source(url)
    pd.testing.assert_frame_equal(auto.history(start, end)["service_metrics"], raw, rtol=1e-9)
    assert "quantile" not in str(auto._series_seen)
    longer = source(url)  # starts before the recorded series: the raw queries
    earlier = end - pd.Timedelta(minutes=RECORDED_M + 5)
    assert not longer.uses_recorded(end_s - 60, (RECORDED_M + 4) * 60)
    assert len(longer.history(earlier, end)["service_metrics"]) == 3 * (RECORDED_M + 5)
    assert any("quantile" in query for query in longer._series_seen)


def test_auto_without_recorded_series_polls_raw_and_asks_again_only_hourly(recorded, monkeypatch):
    url, end_s, _ = recorded
    other_rate = source(url, rate="2m")  # no rules record the two-minute rate
    first = other_rate.fetch(datetime.fromtimestamp(end_s, UTC))["service_metrics"]
    assert other_rate.client.requests_sent == 11  # ten queries and the look for recorded series
    other_rate.fetch(datetime.fromtimestamp(end_s, UTC))
    assert other_rate.client.requests_sent == 21
    monkeypatch.setattr(prom, "RECHECK_S", 0)  # an hour later
    other_rate.fetch(datetime.fromtimestamp(end_s, UTC))
    assert other_rate.client.requests_sent == 32
    assert first["latency_p95_ms"].notna().any() and any("quantile" in q for q in other_rate._series_seen)
