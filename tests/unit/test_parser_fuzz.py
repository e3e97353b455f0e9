"""Every adapter's parser on random and malformed payloads: it raises only the adapter's own error
types (SourceError, ContractError, or RejectedFile for one chaos file) and whatever frame it returns
passes its contract."""

import json

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datasources import chaos as chaosruns
from datasources.base import ContractError, SourceError, validate
from datasources.chaos import chaosmesh, chaostoolkit, litmus
from datasources.itsm import jira, request_tracker, servicenow, sql
from datasources.monitoring import alertmanager, prometheus
from datasources.traces import jaeger, otlp_files, zipkin

OWN_ERRORS = (SourceError, ContractError, chaosruns.RejectedFile)
NOW = pd.Timestamp("2026-03-02T01:00:00Z")
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["2026-03-02T01:00:00Z", "1", "NaN", "+Inf", "critical", "firing", "Closed", "{}", "2026-13-45"]),
)
KEYS = st.sampled_from(
    [
        "status",
        "data",
        "result",
        "resultType",
        "metric",
        "values",
        "value",
        "labels",
        "startsAt",
        "endsAt",
        "status",
        "fingerprint",
        "spans",
        "traceID",
        "spanID",
        "id",
        "traceId",
        "name",
        "timestamp",
        "duration",
        "tags",
        "localEndpoint",
        "serviceName",
        "resourceSpans",
        "scopeSpans",
        "attributes",
        "startTimeUnixNano",
        "endTimeUnixNano",
        "number",
        "short_description",
        "priority",
        "state",
        "opened_at",
        "sys_id",
        "issues",
        "fields",
        "key",
        "summary",
        "created",
        "items",
        "Subject",
        "Created",
        "Status",
        "run",
        "steady_states",
        "start",
        "end",
        "experiment",
        "metadata",
        "spec",
        "kind",
        "phase",
        "opscenter_column",
        "service",
        "incident_id",
        "title",
        "source",
    ]
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=6)),
    max_leaves=25,
)
pages = st.lists(
    st.one_of(
        json_values,
        st.dictionaries(
            st.sampled_from(["result", "issues", "items"]),
            st.lists(st.dictionaries(KEYS, json_values, max_size=8), max_size=4),
        ),
    ),
    max_size=3,
)


def check(frame_name, call):
    try:
        frame = call()
    except OWN_ERRORS:
        return
    validate(frame_name, frame)


@FUZZ
@given(json_values)
def test_prometheus(payload):
    def parse():
        result = prometheus.result_of(payload, "q")
        if not isinstance(result, list):
            raise SourceError("not a list")
        return prometheus.service_metrics_frame(result, "service")

    check("service_metrics", parse)
    check("edges", lambda: prometheus.edges_frame(payload if isinstance(payload, list) else [], "caller", "callee"))


@FUZZ
@given(json_values)
def test_alertmanager(payload):
    check("alerts", lambda: alertmanager.alerts_frame(payload, "am", "http://am", NOW))


@FUZZ
@given(json_values)
def test_jaeger(payload):
    check("spans", lambda: jaeger.spans_from_traces(jaeger.data_of(payload)))


@FUZZ
@given(json_values)
def test_zipkin(payload):
    check("spans", lambda: zipkin.spans_from_traces(payload))


@FUZZ
@given(st.one_of(json_values.map(json.dumps), st.text(max_size=60)))
def test_otlp_files(text):
    check("spans", lambda: otlp_files.spans_from_documents(otlp_files.parse_documents(text, "f.json")))


@FUZZ
@given(pages)
def test_servicenow(payload):
    check("incidents", lambda: servicenow.parse_incidents(payload, "https://sn", servicenow.DEFAULTS, "sn"))
    check("changes", lambda: servicenow.parse_changes(payload, "https://sn", servicenow.DEFAULTS, "sn"))


@FUZZ
@given(pages)
def test_jira(payload):
    check("incidents", lambda: jira.parse_incidents(payload, "https://jira", jira.DEFAULT_FIELDS, jira.DEFAULTS, "j"))


@FUZZ
@given(pages)
def test_request_tracker(payload):
    check("incidents", lambda: request_tracker.parse_incidents(payload, "https://rt", request_tracker.DEFAULTS, "rt"))


@FUZZ
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                ["incident_id", "title", "priority", "state", "opened_at", "service", "source", "url", "change_id"]
            ),
            scalars,
        ),
        max_size=4,
    )
)
def test_sql_rows(rows):
    check("incidents", lambda: sql.parse_rows("incidents", rows, servicenow.DEFAULTS, "db"))


@FUZZ
@given(json_values)
def test_chaos_records(document):
    for module, args in ((chaostoolkit, ("run-1",)), (litmus, ()), (chaosmesh, ())):
        check(
            "chaos_runs",
            lambda module=module, args=args: chaosruns.runs_frame(
                [module.run_record(document, *args, {}, {}, "chaos")]
            ),
        )
