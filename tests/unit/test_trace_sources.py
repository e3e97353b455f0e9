"""Jaeger, Zipkin and OTLP files: recorded payloads in the published formats become calls and spans."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from datasources.base import SourceError, validate
from datasources.traces import calls_from_spans, hex_trace_id, jaeger, otlp_files, zipkin
from tests.canned import Reply, canned_server

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "traces"
NOW = pd.Timestamp("2025-11-21 04:45", tz="UTC").to_pydatetime()
SLOW, FAILED = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b700f067aa0ba902b7"


def load(name):
    return json.loads((FIXTURES / name).read_text())


def assert_expected_calls(calls, failed_id=FAILED):
    """Entry spans only: the gateway's outgoing client span is not a call of its own."""
    validate("calls", calls)
    got = sorted(zip(calls["trace_id"], calls["service"], calls["duration_ms"], calls["status"]))
    assert got == sorted(
        [
            (SLOW, "order-gateway", 120.0, "ok"),
            (SLOW, "pretrade-risk", 90.0, "ok"),
            (failed_id, "order-gateway", 30.0, "ok"),
            (failed_id, "pretrade-risk", 25.0, "error"),
        ]
    )
    slow_risk = calls[(calls["trace_id"] == SLOW) & (calls["service"] == "pretrade-risk")].iloc[0]
    assert slow_risk["operation"].lower() == "checkorder" and slow_risk["instance"] == "pretrade-risk-2"
    assert slow_risk["start"] == pd.Timestamp("2025-11-21 04:40:00.010", tz="UTC")


def assert_slow_trace(spans):
    validate("spans", spans)
    assert len(spans) == 3 and set(spans["trace_id"]) == {SLOW}
    by_id = spans.set_index("span_id")
    assert pd.isna(by_id.loc["a1a1a1a1a1a1a1a1", "parent_id"])
    assert by_id.loc["a3a3a3a3a3a3a3a3", "parent_id"] == "a2a2a2a2a2a2a2a2"
    assert by_id.loc["a3a3a3a3a3a3a3a3", "service"] == "pretrade-risk"


# ---------------------------------------------------------------- Jaeger


def test_jaeger_payload_to_calls():
    assert_expected_calls(calls_from_spans(jaeger.spans_from_traces(load("jaeger_traces.json")["data"])))


def test_jaeger_source_searches_slow_and_failed_traces_per_service():
    payload = load("jaeger_traces.json")
    routes = {
        "/api/services": Reply({"data": ["order-gateway", "pretrade-risk"], "errors": None}),
        "/api/traces": Reply(payload),
        f"/api/traces/{SLOW}": Reply({"data": payload["data"][:1]}),
    }
    with canned_server(routes) as server:
        source = jaeger.JaegerSource(name="jaeger", options={"url": server.url, "min_duration_ms": 50})
        frames = source.fetch(NOW)
        spans = source.spans(SLOW)
        searches = [q for _m, path, q in server.requests if path == "/api/traces"]
    assert_expected_calls(frames["calls"])
    assert_slow_trace(spans)
    assert len(searches) == 4 and {q["service"][0] for q in searches} == {"order-gateway", "pretrade-risk"}
    assert sum(q.get("tags") == ['{"error": "true"}'] for q in searches) == 2
    assert sum(q.get("minDuration") == ["50ms"] for q in searches) == 2
    assert all(int(q["end"][0]) - int(q["start"][0]) == 3600 * 10**6 for q in searches)


def test_jaeger_errors_are_reported():
    with pytest.raises(SourceError, match="Jaeger error: storage unavailable"):
        jaeger.data_of({"data": None, "errors": [{"code": 500, "msg": "storage unavailable"}]})


def test_unknown_trace_gives_no_spans():
    with canned_server({}) as server:
        assert jaeger.JaegerSource(name="j", options={"url": server.url}).spans(SLOW).empty
        assert zipkin.ZipkinSource(name="z", options={"url": server.url}).spans(SLOW).empty


def test_trace_ids_are_checked_before_they_reach_a_path():
    with pytest.raises(SourceError, match="not a trace id"):
        hex_trace_id("../../admin")


# ---------------------------------------------------------------- Zipkin


def test_zipkin_payload_to_calls():
    spans = zipkin.spans_from_traces(load("zipkin_traces.json"))
    assert_expected_calls(calls_from_spans(spans), failed_id="00f067aa0ba902b7")
    assert spans.set_index("span_id").loc["a1a1a1a1a1a1a1a1", "instance"] == "10.0.0.1:8080"


def test_zipkin_source_searches_and_answers_one_trace():
    traces = load("zipkin_traces.json")
    routes = {
        "/api/v2/services": Reply(["order-gateway", "pretrade-risk"]),
        "/api/v2/traces": Reply(traces),
        f"/api/v2/trace/{SLOW}": Reply(traces[0]),
    }
    with canned_server(routes) as server:
        source = zipkin.ZipkinSource(name="zipkin", options={"url": server.url, "services": ["pretrade-risk"]})
        frames = source.fetch(NOW)
        spans = source.spans(SLOW)
        searches = [q for _m, path, q in server.requests if path == "/api/v2/traces"]
    assert_expected_calls(frames["calls"], failed_id="00f067aa0ba902b7")
    assert_slow_trace(spans)
    assert [q["serviceName"][0] for q in searches] == ["pretrade-risk"] * 2
    assert [q.get("annotationQuery") for q in searches] == [None, ["error"]]
    assert searches[0]["lookback"] == [str(3600 * 1000)]


# ---------------------------------------------------------------- OTLP files


def test_otlp_documents_to_calls():
    documents = [json.loads(line) for line in (FIXTURES / "otlp" / "traces-1.jsonl").read_text().splitlines()]
    documents += [load("otlp/traces-2.json")]
    assert_expected_calls(calls_from_spans(otlp_files.spans_from_documents(documents)))


def test_otlp_files_source(tmp_path):
    for path in (FIXTURES / "otlp").iterdir():
        shutil.copy(path, tmp_path)
    source = otlp_files.OtlpFilesSource(name="otlp", options={"path": str(tmp_path)})
    assert_expected_calls(source.fetch(NOW)["calls"])
    assert_slow_trace(source.spans(SLOW.upper()))
    assert source.check().ok


def test_otlp_files_name_the_file_and_line_of_bad_json(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"resourceSpans": []}\n{"resourceSpans": [\n')
    source = otlp_files.OtlpFilesSource(name="otlp", options={"path": str(tmp_path)})
    with pytest.raises(SourceError, match=r"bad.jsonl:2: invalid JSON"):
        source.fetch(NOW)


def test_otlp_files_over_the_size_limit(tmp_path):
    shutil.copy(FIXTURES / "otlp" / "traces-2.json", tmp_path)
    source = otlp_files.OtlpFilesSource(name="otlp", options={"path": str(tmp_path), "max_bytes": 100})
    with pytest.raises(SourceError, match="over the limit of 100"):
        source.fetch(NOW)


def test_otlp_files_missing_directory(tmp_path):
    source = otlp_files.OtlpFilesSource(name="otlp", options={"path": str(tmp_path / "absent")})
    with pytest.raises(SourceError, match="readable directory"):
        source.fetch(NOW)
    assert not source.check().ok
