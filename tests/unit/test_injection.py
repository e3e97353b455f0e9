"""Injection strings against every query builder: each value comes back out as one literal, never as syntax."""

import json
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from datasources.base import SourceError
from datasources.itsm import jira, request_tracker, servicenow, sql
from datasources.monitoring import prometheus
from tests.unit.test_urlinput import INJECTIONS

values = st.one_of(st.sampled_from(INJECTIONS), st.text(st.characters(exclude_characters="\uffff"), max_size=40))
SOME = settings(max_examples=150, deadline=None)


def _unquote(literal: str, quote: str) -> str:
    """Read a backslash-escaped literal; fail if anything follows its closing quote."""
    assert literal[0] == quote
    out, i = [], 1
    while literal[i] != quote:
        if literal[i] == "\\":
            i += 1
        out.append(literal[i])
        i += 1
    assert i == len(literal) - 1, f"text after the literal: {literal[i:]!r}"
    return "".join(out)


@SOME
@given(values)
def test_promql_label_values_stay_one_string(value):
    literal = prometheus.promql_string(value)
    assert json.loads(literal) == value
    assert prometheus.matchers({"service": value}) == f"service={literal}"


@pytest.mark.parametrize("name", ['svc"} or up{x="', "a b", "1x", "x=~"])
def test_promql_label_names_are_checked(name):
    with pytest.raises(SourceError):
        prometheus.matchers({name: "v"})


@SOME
@given(values.filter(lambda v: "\r" not in v and "\n" not in v))
def test_servicenow_values_cannot_add_conditions(value):
    query = servicenow.encoded_query(servicenow.condition("cmdb_ci.name", "=", value))
    conditions = [c.replace("\uffff", "^") for c in query.replace("^^", "\uffff").split("^")]  # read left to right
    assert conditions == [f"cmdb_ci.name={value}", "ORDERBYsys_updated_on", "ORDERBYsys_id"]


@pytest.mark.parametrize(
    "build", [lambda v: servicenow.condition("state", "=", v), jira.jql_string, request_tracker.ticketsql_string]
)
def test_line_breaks_are_refused(build):
    with pytest.raises(ValueError):
        build("x\nORDER BY 1")


@SOME
@given(values.filter(lambda v: "\r" not in v and "\n" not in v))
def test_jql_and_ticketsql_values_stay_one_literal(value):
    assert _unquote(jira.jql_string(value), '"') == value
    assert _unquote(request_tracker.ticketsql_string(value), "'") == value


def test_sql_binds_the_time_and_quotes_identifiers():
    query = sql.select(
        "incidents",
        {"table": "ops.incidents", "updated_column": "updated_at", "columns": {"title": 'title"; DROP TABLE x; --'}},
        since=None,
    )
    compiled = query.compile(dialect=postgresql.dialect())
    assert '"title""; DROP TABLE x; --"' in str(compiled)
    since = sql.select("incidents", {"table": "incidents", "updated_column": "updated_at"}, since=datetime(2026, 1, 1))
    assert "%(since)s" in str(since.compile(dialect=postgresql.dialect()))
