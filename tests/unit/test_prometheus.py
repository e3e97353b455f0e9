"""Prometheus parsing on canned API answers: frames, NaN and +Inf, missing labels, errors, safe PromQL."""

import math

import pandas as pd
import pytest
import yaml

from datasources.base import SourceError
from datasources.monitoring import prometheus as prom

T0 = 1763700000


def settings(options):
    """The validated options of a Prometheus source configured with ``options``."""
    return prom.PrometheusSource(name="prom", options={"url": "http://127.0.0.1:9090", **options}).config


def series(labels, values):
    return {"metric": labels, "values": [[T0 + 60 * i, v] for i, v in enumerate(values)]}


def tagged(column, values, **labels):
    return series({**labels, prom.COLUMN_LABEL: column}, values)


def test_service_metrics_from_a_tagged_matrix():
    result = [
        tagged("requests_per_s", ["10", "12"], service="a"),
        tagged("error_ratio", ["0.02", "0"], service="a"),
        tagged("latency_p50_ms", ["5", "6"], service="a"),
        tagged("latency_p95_ms", ["NaN", "+Inf"], service="a"),
        tagged("latency_p99_ms", ["20", "-Inf"], service="a"),
        tagged("requests_per_s", ["NaN", "3"], service="b"),
    ]
    frame = prom.service_metrics_frame(result, "service")
    assert list(frame["service"]) == ["a", "a", "b"]
    first = frame.iloc[0]
    assert (first["requests_per_s"], first["error_ratio"], first["latency_p50_ms"]) == (10, 0.02, 5)
    assert math.isnan(first["latency_p95_ms"]) and math.isnan(frame.iloc[1]["latency_p95_ms"])
    assert math.isnan(frame.iloc[1]["latency_p99_ms"])
    assert frame["ts"].iloc[0] == pd.Timestamp(T0, unit="s", tz="UTC")
    assert frame.iloc[2]["requests_per_s"] == 3 and math.isnan(frame.iloc[2]["error_ratio"])


def test_series_without_the_service_label_are_dropped():
    result = [tagged("requests_per_s", ["1"], service="a"), tagged("requests_per_s", ["2"])]
    assert list(prom.service_metrics_frame(result, "service")["service"]) == ["a"]


def test_a_result_where_no_series_has_the_label_is_an_error():
    with pytest.raises(SourceError, match="no series carries the label 'service'"):
        prom.service_metrics_frame([tagged("requests_per_s", ["1"], job="api")], "service")


def test_empty_results_give_empty_frames():
    assert prom.service_metrics_frame([], "service").empty
    assert prom.edges_frame([], "client", "server").empty


def test_resources_map_instances_to_services():
    cfg = settings({"resources": ["node", "cadvisor"], "instance_services": {"10.0.0.9:9100": "ledger"}})
    node, cadvisor = cfg.resource_sets
    result = [
        tagged("cpu_ratio", ["0.5"], instance="10.0.0.9:9100"),
        tagged("cpu_ratio", ["1.2"], instance="h2", service="clearing"),
        tagged("memory_bytes", ["+Inf"], instance="h2", service="clearing"),
        tagged("cpu_ratio", ["0.1"], instance="unmapped"),
    ]
    frame = prom.resource_metrics_frame(result, node, cfg.instance_services)
    assert frame[["service", "instance", "cpu_ratio"]].values.tolist() == [
        ["ledger", "10.0.0.9:9100", 0.5],
        ["clearing", "h2", 1.0],
    ]
    assert math.isnan(frame.iloc[1]["memory_bytes"])
    pods = prom.resource_metrics_frame(
        [tagged("memory_bytes", ["1e9"], pod="order-gateway-7d4b9c8f6d-x2kqz")], cadvisor, {}
    )
    assert pods[["service", "instance"]].values.tolist() == [["order-gateway", "order-gateway-7d4b9c8f6d-x2kqz"]]


def test_edges_and_services():
    vector = [
        {"metric": {"client": "a", "server": "b"}, "value": [T0, "4.5"]},
        {"metric": {"client": "a", "server": "c"}, "value": [T0, "NaN"]},
    ]
    assert prom.edges_frame(vector, "client", "server").values.tolist() == [["a", "b", 4.5]]
    info = [
        {
            "metric": {
                "service": "a",
                "display_name": "Service A",
                "display_name_zh": "甲服务",
                "tier": "1",
                "owner": "team",
            },
            "value": [T0, "1"],
        }
    ]
    services = prom.services_frame(info, ["a", "b"], "service", 2)
    assert services[["service", "display_name", "tier"]].values.tolist() == [["a", "Service A", 1], ["b", "b", 2]]
    assert services["x_display_name_zh"].fillna("").tolist() == ["甲服务", ""]


def test_calls_from_exemplars():
    cfg = settings({})
    data = [
        {
            "seriesLabels": {
                "service": "a",
                "instance": "a-1",
                "http_route": "GET /x",
                "http_response_status_code": "503",
                "le": "0.5",
            },
            "exemplars": [
                {"labels": {"trace_id": "abc123"}, "value": "0.25", "timestamp": T0},
                {"labels": {"other": "x"}, "value": "0.1", "timestamp": T0},
                {"labels": {"traceID": "def456"}, "value": "NaN", "timestamp": T0},
            ],
        },
        {
            "seriesLabels": {"instance": "x"},
            "exemplars": [{"labels": {"trace_id": "f00"}, "value": "1", "timestamp": T0}],
        },
    ]
    calls = prom.calls_from_exemplars(data, cfg)
    assert calls[["trace_id", "service", "operation", "duration_ms", "status", "instance"]].values.tolist() == [
        ["abc123", "a", "GET /x", 250.0, "error", "a-1"]
    ]
    assert calls["start"].iloc[0] == pd.Timestamp(T0, unit="s", tz="UTC") - pd.Timedelta(milliseconds=250)


def test_status_error_and_bad_answers():
    with pytest.raises(SourceError, match="Prometheus error bad_data: parse error"):
        prom.result_of({"status": "error", "errorType": "bad_data", "error": "parse error"}, "up{")
    with pytest.raises(SourceError, match="not a Prometheus API answer"):
        prom.result_of(["x"], "up")


def test_a_resource_set_is_one_tagged_query():
    cfg = settings({})
    node = cfg.resource_sets[0]
    expression = prom.tagged({c: cfg.render(q, instance=node.instance_label) for c, q in node.queries.items()})
    assert expression.count("label_replace(") == 5 and expression.count(" or label_replace(") == 4
    assert 'rate(node_cpu_seconds_total{mode="idle",}[5m])' in expression


def test_quantiles_are_aggregated_in_promql():
    cfg = settings({})
    assert cfg.render(cfg.service_queries["latency_p95_ms"]) == (
        "1000 * histogram_quantile(0.95, sum by (service, le) "
        "(rate(http_server_request_duration_seconds_bucket{}[5m])))"
    )


def test_label_values_are_escaped():
    hostile = 'prod"} or vector(1) or up{x="\\'
    cfg = settings({"match": {"env": hostile}})
    rendered = cfg.render(prom.EXEMPLAR_QUERY)
    assert rendered == 'http_server_request_duration_seconds_bucket{env="prod\\"} or vector(1) or up{x=\\"\\\\"}'
    assert prom.promql_string("a\nb") == '"a\\nb"'


@pytest.mark.parametrize(
    "options, message",
    [
        ({"match": {"bad-label": "x"}}, "not a valid label name"),
        ({"service_label": "svc name"}, "not a valid label name"),
        ({"metric": "rate(x)"}, "not a valid metric name"),
        ({"rate": "5m) or vector(1"}, "PromQL duration"),
        ({"queries": {"p42": "up"}}, "unknown column"),
        ({"colour": "red"}, "unknown option"),
        ({"window_m": 1, "step_s": 120}, "step_s"),
        (
            {"resources": [{"preset": "cadvisor", "instnace_label": "pod"}]},
            r"option 'resources.0.instnace_label': unknown option; did you mean 'instance_label'\?",
        ),
        ({"resources": [{"service_pattern": "[a-z]+-[0-9]"}]}, "named group 'service'"),
        ({"resources": ["kubelet"]}, "'node' or 'cadvisor'"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(SourceError, match=message):
        cfg = settings(options)
        cfg.render(prom.EXEMPLAR_QUERY)


def test_recording_rules_record_the_raw_aggregations_under_conventional_names():
    cfg = settings({"rate": "1m", "match": {"env": "prod"}, "service_label": "app", "queries": {"error_ratio": "up"}})
    rules = {rule["record"]: rule for rule in cfg.recording_rules()}
    assert sorted(rules) == [
        "app:http_server_request_duration_seconds:p50_rate1m",
        "app:http_server_request_duration_seconds:p95_rate1m",
        "app:http_server_request_duration_seconds:p99_rate1m",
        "app:http_server_request_duration_seconds_count:rate1m",
    ]  # the replaced column is read as written
    p95 = rules["app:http_server_request_duration_seconds:p95_rate1m"]
    assert cfg.service_query("latency_p95_ms", recorded=False) == f"1000 * {p95['expr']}"
    assert p95["labels"] == {"env": "prod"}
    assert cfg.service_query("latency_p95_ms", recorded=True) == (
        '1000 * app:http_server_request_duration_seconds:p95_rate1m{env="prod"}'
    )
    assert cfg.service_query("error_ratio", recorded=True) == "up"


def test_a_rules_file_groups_sources_and_refuses_two_meanings_of_one_series():
    def source(name, **options):
        return prom.PrometheusSource(name=name, options={"url": "http://127.0.0.1:9090", **options})

    text = prom.rules_file([source("a"), source("b"), source("c", rate="1m")])
    groups = yaml.safe_load(text)["groups"]
    assert [(g["name"], len(g["rules"])) for g in groups] == [("opscenter: a, b", 5), ("opscenter: c", 5)]
    with pytest.raises(SourceError, match="sources a and d would record .*_errors:ratio_rate5m differently"):
        prom.rules_file([source("a"), source("d", error_values="5..|429")])


def test_gathered_parts_make_the_frame_their_concatenation_makes():
    def part(minute: int, services: list[str]) -> pd.DataFrame:
        return prom.validate(
            "resource_metrics",
            pd.DataFrame(
                {
                    "ts": pd.Timestamp("2026-11-18", tz="UTC") + pd.Timedelta(minutes=minute),
                    "service": pd.Series(services, dtype="str"),
                    "instance": pd.Series([f"{s}-1" for s in services], dtype="str"),
                    **{c: [0.5] * len(services) for c in prom.RESOURCE_COLUMNS},
                }
            ),
        )

    parts = [part(0, ["b", "a"]), part(1, []), part(2, ["a", "c"])]
    gathered = prom.Gathered("resource_metrics")
    for frame in parts:
        gathered.add(frame)
    expected = pd.concat(parts, ignore_index=True)
    pd.testing.assert_frame_equal(gathered.frame(), expected)
    assert prom.Gathered("resource_metrics").frame().empty
