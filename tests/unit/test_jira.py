"""Jira: JQL search pages parsed, paged by nextPageToken, queried incrementally and safely."""

import logging
from datetime import timedelta

import pandas as pd

from datasources import itsm
from datasources.itsm import jira
from datasources.itsm.jira import JiraSource, jql_string, search_jql
from tests.loopback_http import Reply, recorded, serve

NOW = pd.Timestamp("2026-11-18 04:00", tz="UTC").to_pydatetime()
INCIDENT_PAGES = [recorded("jira", f"incidents_page{n}.json") for n in (1, 2)]
CHANGE_PAGES = [recorded("jira", "changes_page1.json")]
FIELDS = {
    "service": "components",
    "assignment_group": "customfield_10050",
    "type": "customfield_10060",
    "planned_start": "customfield_10061",
    "planned_end": "customfield_10062",
}
OPTIONS = {"fields": FIELDS, "service_map": {"Order Gateway": "order-gateway"}}


def test_parse_incidents_reads_offsets_changelog_and_links(caplog):
    mappings = itsm.Mappings.from_options(OPTIONS, jira.DEFAULTS)
    fields = {**jira.DEFAULT_FIELDS, **FIELDS}
    with caplog.at_level(logging.WARNING):
        frame = jira.parse_incidents(INCIDENT_PAGES, "https://x.atlassian.net", fields, mappings, "jira")
    frame = frame.set_index("incident_id")
    assert list(frame.index) == ["OPS-101", "OPS-102", "OPS-103"]
    first = frame.loc["OPS-101"]
    assert first.opened_at == pd.Timestamp("2026-11-18 02:57", tz="UTC")  # +0800 converted to UTC
    assert first.acknowledged_at == pd.Timestamp("2026-11-18 03:04", tz="UTC")  # the status transition
    assert (first.priority, first.state, first.service, first.assignment_group, first.change_id) == (
        2,
        "in_progress",
        "order-gateway",
        "Trading Ops",
        "CHG-7",
    )
    assert first.url == "https://x.atlassian.net/browse/OPS-101"
    assert (frame.loc["OPS-102", "state"], frame.loc["OPS-102", "priority"]) == ("resolved", 3)
    assert (frame.loc["OPS-103", "state"], frame.loc["OPS-103", "priority"]) == ("new", 1)  # by status category
    assert "jira: incidents record OPS-104 rejected: priority 'Whenever'" in caplog.text


def test_parse_changes_reads_custom_fields_and_resolution():
    mappings = itsm.Mappings.from_options(OPTIONS, jira.DEFAULTS)
    fields = {**jira.DEFAULT_FIELDS, **FIELDS}
    frame = jira.parse_changes(CHANGE_PAGES, "https://x.atlassian.net", fields, mappings, "jira").set_index("change_id")
    failed = frame.loc["CHG-7"]
    assert (failed.type, failed.state, failed.outcome, failed.service) == (
        "normal",
        "closed",
        "failed",
        "order-gateway",
    )
    assert failed.planned_start == pd.Timestamp("2026-11-18 02:45", tz="UTC")
    assert failed.actual_end == pd.Timestamp("2026-11-18 02:53", tz="UTC")
    assert (frame.loc["CHG-8", "type"], frame.loc["CHG-8", "state"]) == ("standard", "scheduled")


def test_jql_values_are_quoted():
    assert jql_string('OPS" OR project = "SECRET') == '"OPS\\" OR project = \\"SECRET"'
    jql = search_jql("issuetype = Incident", ["OPS", 'X"Y'], NOW - timedelta(minutes=6, seconds=1), NOW)
    assert jql == (
        '(issuetype = Incident) AND project in ("OPS", "X\\"Y") AND updated >= -7m ORDER BY updated ASC, key ASC'
    )


def test_fetch_pages_by_token_and_then_polls_incrementally():
    def answer(request, base):
        if "Change" in request.query["jql"]:
            return Reply(CHANGE_PAGES[0])
        return Reply(INCIDENT_PAGES[1] if request.query.get("nextPageToken") == "CAEaAggB" else INCIDENT_PAGES[0])

    with serve(answer) as (base, seen):
        source = JiraSource(
            name="jira",
            options={"url": base, "username": "ops@example.com", "token": "t", "projects": ["OPS"], **OPTIONS},
        )
        frames = source.fetch(NOW)
        assert len(frames["incidents"]) == 3 and len(frames["changes"]) == 2
        assert [r.query.get("nextPageToken") for r in seen[:2]] == [None, "CAEaAggB"]
        assert seen[0].path == "/rest/api/3/search/jql" and seen[0].query["expand"] == "changelog"
        assert "updated >= -129600m" in seen[0].query["jql"] and "customfield_10050" in seen[0].query["fields"]
        seen.clear()
        source.fetch(NOW + timedelta(minutes=1))
        assert "updated >= -6m" in seen[0].query["jql"]
