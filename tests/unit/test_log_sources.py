"""Log sources: loki and elasticsearch on recorded payloads over loopback HTTP, log_files on real files."""

import json
import os

import pandas as pd
import pytest

from datasources import registry
from datasources.base import SourceError, validate
from datasources.logs.loki import literal, one_of, selector
from tests.loopback_http import Reply, recorded, serve

NOW = pd.Timestamp("2025-11-21T12:02:00Z")
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def build(kind, **options):
    return registry.build({"kind": kind, "name": kind, **options})


def test_logql_values_are_escaped_literals():
    assert literal('a"b\\c') == '"a\\"b\\\\c"'
    assert one_of(("a.b", 'x"y')) == '"a\\\\.b|x\\"y"'
    assert selector({"service": "app", "instance": "pod"}, ("s1",), ("i.1",)) == '{app=~"s1", pod=~"i\\\\.1"}'


def test_loki_counts_and_lines_over_http():
    def answer(request, _base):
        return Reply(
            recorded(
                "logs",
                "loki_lines.json" if "|=" in request.query["query"] or "limit" in request.query else "loki_rates.json",
            )
        )

    with serve(answer) as (url, seen):
        source = build("loki", url=url, tenant="ops")
        rates = validate("log_rates", source.fetch(NOW.to_pydatetime())["log_rates"])
        lines = source.log_lines(("order-gateway",), NOW - pd.Timedelta("5min"), NOW, 10, trace_id=TRACE)
    assert rates.set_index(["service", "level"])["count"].groupby(level=[0, 1]).sum().to_dict() == {
        ("order-gateway", "error"): 43,
        ("order-gateway", "warning"): 2,
        ("quote-service", "info"): 1652,
    }
    assert seen[0].query["query"] == 'sum by (service, level) (count_over_time({service=~".+"}[1m]))'
    assert {k.lower(): v for k, v in seen[0].headers.items()}["x-scope-orgid"] == "ops"
    assert seen[1].query["query"] == f'{{service=~"order\\\\-gateway"}} |= "{TRACE}"'
    assert validate("log_lines", lines)["trace_id"].iloc[0] == TRACE
    assert lines["instance"].iloc[0] == "order-gateway-2" and len(lines) == 3


def test_loki_error_answer_is_a_source_error():
    with serve(lambda request, _base: Reply({"status": "error", "error": "parse error"})) as (url, _seen):
        with pytest.raises(SourceError, match="Loki answered"):
            build("loki", url=url).fetch(NOW.to_pydatetime())


def test_elasticsearch_counts_and_lines_over_http():
    def answer(request, _base):
        return Reply(recorded("logs", "es_rates.json" if request.body["size"] == 0 else "es_lines.json"))

    with serve(answer) as (url, seen):
        source = build("elasticsearch", url=url, index="logs-app-*", services=["order-gateway"])
        rates = source.fetch(NOW.to_pydatetime())["log_rates"]
        lines = source.log_lines(("order-gateway",), NOW - pd.Timedelta("5min"), NOW, 10, trace_id=TRACE)
    assert rates.groupby(["service", "level"])["count"].sum().to_dict() == {
        ("order-gateway", "error"): 43,
        ("order-gateway", "warning"): 2,
        ("quote-service", "debug"): 17,
        ("quote-service", "info"): 1652,
    }
    assert seen[0].path == "/logs-app-*/_search"
    assert {"terms": {"service.name": ["order-gateway"]}} in seen[0].body["query"]["bool"]["filter"]
    assert {"term": {"trace.id": TRACE}} in seen[1].body["query"]["bool"]["filter"]
    assert lines["trace_id"].iloc[0] == TRACE and lines["instance"].iloc[0] == "order-gateway-2"
    assert lines["ts"].iloc[0] == pd.Timestamp("2025-11-21T12:01:05Z") and set(lines["level"]) == {"error", "info"}


def write(path, lines, mode="a"):
    with open(path, mode) as handle:
        handle.writelines(line + "\n" for line in lines)


def json_line(second, level, message, **extra):
    return json.dumps(
        {
            "ts": f"2025-11-21T12:00:{second:02d}Z",
            "level": level,
            "message": message,
            "service": "order-gateway",
            **extra,
        }
    )


def test_log_files_reads_json_lines_incrementally_across_a_rotation(tmp_path):
    path = tmp_path / "app.log"
    write(path, [json_line(1, "ERROR", "boom", trace_id=TRACE), json_line(2, "INFO", "ok"), "not json"])
    with open(path, "a") as handle:
        handle.write(json_line(3, "WARN", "partial")[:20])  # an unfinished line waits for its end
    source = build("log_files", path=str(path), instance="og-1")
    first = source.fetch(NOW.to_pydatetime())["log_rates"]
    assert first.groupby("level")["count"].sum().to_dict() == {"error": 1, "info": 1}
    with open(path, "a") as handle:
        handle.write(json_line(3, "WARN", "partial")[20:] + "\n")
    write(path, [json_line(4, "ERROR", "before rotation")])
    os.rename(path, tmp_path / "app.log.1")  # rotated away after lines the source has not read
    write(path, [json_line(5, "ERROR", "after rotation")], mode="w")
    rates = source.fetch(NOW.to_pydatetime())["log_rates"]
    assert rates.groupby("level")["count"].sum().to_dict() == {"error": 3, "info": 1, "warning": 1}
    write(path, [json_line(6, "INFO", "again")], mode="w")  # truncated in place (copytruncate)
    assert source.fetch(NOW.to_pydatetime())["log_rates"]["count"].sum() == 6
    assert source.rejected == 1
    lines = source.log_lines(("order-gateway",), NOW - pd.Timedelta("5min"), NOW, 3, trace_id=TRACE)
    assert lines["message"].iloc[0] == "boom" and len(lines) == 3 and set(lines["instance"]) == {"og-1"}


def test_log_files_plain_text_with_a_pattern(tmp_path):
    path = tmp_path / "gw.log"
    write(
        path,
        [
            "2025-11-21 12:00:01,120 ERROR [order-gateway-2] submit failed trace_id=" + TRACE,
            "2025-11-21 12:00:02,000 INFO [order-gateway-2] fine",
            "garbage",
        ],
    )
    source = build(
        "log_files",
        path=str(path),
        format="text",
        service="order-gateway",
        pattern=r"^(?P<ts>\S+ \S+?),\d+ (?P<level>\w+) \[(?P<instance>[^\]]+)\] (?P<message>.*)$",
    )
    rates = source.fetch(NOW.to_pydatetime())["log_rates"]
    assert rates["count"].sum() == 2 and rates["ts"].iloc[0] == pd.Timestamp("2025-11-21T12:00:00Z")
    lines = source.log_lines(("order-gateway",), NOW - pd.Timedelta("5min"), NOW, 10)
    assert lines.set_index("level")["trace_id"].to_dict() == {"error": TRACE, "info": None}


def test_log_files_refuses_a_pattern_without_the_needed_groups(tmp_path):
    with pytest.raises(SourceError, match="named groups"):
        build("log_files", path=str(tmp_path / "x"), format="text", pattern=r"(?P<ts>\S+)")
