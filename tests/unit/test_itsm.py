"""Shared ITSM pieces: mappings, record checks, incremental merging and the HTTP transport."""

import base64
import logging
from datetime import timedelta

import pandas as pd
import pytest

from datasources import itsm
from datasources.base import SourceError
from datasources.itsm.request_tracker import RequestTrackerSource
from datasources.transport import HttpClient
from tests.loopback_http import Reply, serve

NOW = pd.Timestamp("2026-11-18 04:00", tz="UTC").to_pydatetime()
MAPPINGS = itsm.Mappings.from_options(
    {
        "priority_map": {"Sev1": 1},
        "state_map": {"WIP": "in_progress"},
        "service_map": {"OGW PROD": "order-gateway"},
        "runbook_url": "https://wiki.example/{service}",
    },
    itsm.Mappings(priority={"sev2": 2}),
)


def incident(**changes):
    raw = {
        "incident_id": "INC1",
        "title": "Orders failing",
        "priority": "Sev1",
        "state": "wip",
        "service": "OGW PROD",
        "opened_at": "2026-11-18 02:57:00",
        "acknowledged_at": "2026-11-18T03:04:00+00:00",
        "resolved_at": "1970-01-01T00:00:00Z",
    }
    return {**raw, **changes}


def test_mappings_merge_defaults_with_config_case_insensitively():
    row = itsm.incident_row(incident(), MAPPINGS, "itsm")
    assert (row["priority"], row["state"], row["service"]) == (1, "in_progress", "order-gateway")
    assert itsm.incident_row(incident(priority="SEV2"), MAPPINGS, "itsm")["priority"] == 2
    assert row["runbook_url"] == "https://wiki.example/order-gateway"
    assert row["resolved_at"] is None  # the epoch means "not set"
    assert row["opened_at"] == pd.Timestamp("2026-11-18 02:57", tz="UTC")


def test_contract_values_pass_through_unmapped():
    row = itsm.incident_row(incident(priority="3", state="On_Hold", service="ledger"), MAPPINGS, "itsm")
    assert (row["priority"], row["state"], row["service"]) == (3, "on_hold", "ledger")


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"opened_at": None}, "missing opened_at"),
        ({"opened_at": "last tuesday"}, "is not a date"),
        ({"state": "limbo"}, "unknown state 'limbo'"),
        ({"priority": "urgent-ish"}, "priority 'urgent-ish'"),
        ({"priority": "9"}, "outside 1-5"),
        ({"incident_id": " "}, "missing id"),
        ({"resolved_at": "2026-11-18 01:00:00"}, "before opened_at"),
    ],
)
def test_malformed_incident_is_rejected_with_reason(change, reason):
    with pytest.raises(itsm.RecordError, match=reason):
        itsm.incident_row(incident(**change), MAPPINGS, "itsm")


def test_a_malformed_record_is_logged_by_id_and_the_rest_kept(caplog):
    records = [incident(), incident(incident_id="INC2", priority="garbage"), incident(incident_id="INC3")]
    with caplog.at_level(logging.WARNING, logger="datasources.itsm"):
        frame = itsm.incident_frame(records, MAPPINGS, "itsm")
    assert list(frame["incident_id"]) == ["INC1", "INC3"]
    assert "itsm: incidents record INC2 rejected: priority 'garbage'" in caplog.text


def test_change_rows_map_type_state_and_outcome():
    mappings = itsm.Mappings(change_state={"-1": "implement"}, outcome={"unsuccessful": "failed"})
    raw = {
        "change_id": "CHG1",
        "title": "Release",
        "type": "Normal",
        "state": "-1",
        "outcome": "Unsuccessful",
        "planned_start": "2026-11-18 02:45:00",
    }
    row = itsm.change_row(raw, mappings, "itsm")
    assert (row["type"], row["state"], row["outcome"], row["actual_end"]) == ("normal", "implement", "failed", None)
    assert itsm.change_row({**raw, "outcome": ""}, mappings, "itsm")["outcome"] == "unknown"
    with pytest.raises(itsm.RecordError, match="unknown change type 'expedited'"):
        itsm.change_row({**raw, "type": "expedited"}, mappings, "itsm")


def test_incremental_asks_for_retention_first_then_since_last_poll_less_overlap():
    inc = itsm.Incremental(retention_days=90, overlap_s=300)
    assert inc.since(NOW) == NOW - timedelta(days=90)
    inc.merge(NOW, {"incidents": itsm.incident_frame([incident()], MAPPINGS, "itsm")})
    later = NOW + timedelta(minutes=1)
    assert inc.since(later) == NOW - timedelta(seconds=300)


def test_incremental_merges_by_id_and_drops_old_finished_records():
    inc = itsm.Incremental(retention_days=30)
    old_open = incident(incident_id="OLD-OPEN", opened_at="2026-08-01 00:00:00")
    old_done = incident(
        incident_id="OLD-DONE", state="closed", opened_at="2026-08-01 00:00:00", resolved_at="2026-08-02 00:00:00"
    )
    inc.merge(NOW, {"incidents": itsm.incident_frame([incident(), old_open, old_done], MAPPINGS, "itsm")})
    update = itsm.incident_frame([incident(state="resolved", resolved_at="2026-11-18 03:30:00")], MAPPINGS, "itsm")
    merged = inc.merge(NOW + timedelta(minutes=1), {"incidents": update})["incidents"]
    assert sorted(merged["incident_id"]) == ["INC1", "OLD-OPEN"]
    assert merged.set_index("incident_id").loc["INC1", "state"] == "resolved"


def test_transport_retries_then_names_source_url_and_cause():
    calls = []

    def answer(request, base):
        calls.append(request.path)
        return Reply({"error": "busy"}, status=503) if len(calls) < 2 else Reply({"ok": True})

    with serve(answer) as (base, seen):
        transport = HttpClient.from_options("itsm", {"url": base, "token": "s3cret", "backoff_s": 0}, "token")
        assert transport.get("api/thing") == {"ok": True}
        assert seen[0].headers["Authorization"] == "token s3cret"
        failing = HttpClient.from_options("itsm", {"url": base, "retries": 0})
        calls.clear()
        with pytest.raises(SourceError, match=rf"itsm: GET {base}/api/thing: HTTP 503"):
            failing.get("api/thing")
        with pytest.raises(SourceError, match="refusing to follow"):
            failing.get("http://127.0.0.2:9/elsewhere")


def test_transport_reports_an_unreachable_source():
    transport = HttpClient.from_options(
        "itsm", {"url": "http://user:pw@127.0.0.1:9", "retries": 1, "backoff_s": 0, "timeout_s": 1}
    )
    with pytest.raises(SourceError) as info:
        transport.get("api")
    assert "itsm: GET http://127.0.0.1:9/api: connection refused" in str(info.value) and "pw" not in str(info.value)


def test_every_itsm_kind_builds_from_a_config_with_secrets_from_the_environment(monkeypatch):
    from dashboard.core.settings import parse
    from datasources import registry

    monkeypatch.setenv("ITSM_TOKEN", "t0ken")
    settings = parse("""
sources:
  - {kind: servicenow, name: sn, url: "https://example.service-now.com", username: svc, password: "${ITSM_TOKEN}"}
  - {kind: jira, name: jira, url: "https://example.atlassian.net", username: ops@example.com, token: "${ITSM_TOKEN}"}
  - {kind: request_tracker, name: rt, url: "https://rt.example", token: "${ITSM_TOKEN}"}
  - {kind: sql, name: db, url: "sqlite://", incidents: {table: incidents}}
""")
    built = {spec["name"]: registry.build(spec) for spec in settings.sources}
    assert built["sn"].transport.headers["Authorization"] == "Basic " + base64.b64encode(b"svc:t0ken").decode()
    assert built["rt"].transport.headers["Authorization"] == "token t0ken"
    assert built["db"].kind == "sql"


def test_a_declared_incidents_rt_ticket_gets_its_priority_by_an_update():
    def answer(request, base):
        if request.method == "GET":
            return Reply({"items": [], "pages": 0})
        return Reply({"id": 7} if request.method == "POST" else ["Ticket 7: Priority changed"])

    with serve(answer) as (base, seen):
        source = RequestTrackerSource(name="rt", options={"url": base, "token": "t0k"})
        incident = {"title": "Orders rejected", "priority": 1, "service": "order-gateway", "summary": None}
        assert source.open_ticket("[opscenter OC-1 20261207T0131Z]", incident)[0] == "RT-7"
    created, updated = (r for r in seen if r.method != "GET")
    assert "Priority" not in created.body and created.body["Subject"].endswith("Orders rejected")
    assert (updated.method, updated.path, updated.body) == ("PUT", "/REST/2.0/ticket/7", {"Priority": 100})  # P1
