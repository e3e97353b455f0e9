"""ServiceNow: Table API pages parsed, paged by Link header, queried incrementally and safely."""

import logging
from datetime import timedelta

import pandas as pd
import pytest

from datasources import itsm
from datasources.base import SourceError
from datasources.itsm import servicenow
from datasources.itsm.servicenow import ServiceNowSource, condition, encoded_query
from tests.loopback_http import Reply, recorded, serve

NOW = pd.Timestamp("2026-11-18 04:00", tz="UTC").to_pydatetime()
INCIDENT_PAGES = [recorded("servicenow", f"incident_page{n}.json") for n in (1, 2, 3)]
CHANGE_PAGES = [recorded("servicenow", "change_page1.json")]
OPTIONS = {
    "service_map": {
        "Order Gateway PROD": "order-gateway",
        "Ledger PROD": "ledger",
        "aa11bb22cc33dd44ee55ff6600112233": "kyc-service",
    }
}


def table_api(pages_by_table):
    """Answer Table API requests from recorded pages, one page per offset, with Link headers."""

    def answer(request, base):
        table = request.path.rsplit("/", 1)[1]
        pages = pages_by_table[table]
        limit = int(request.query["sysparm_limit"])
        index = int(request.query["sysparm_offset"]) // limit
        headers = {}
        if index + 1 < len(pages):
            nxt = f"{base}/api/now/table/{table}?sysparm_limit={limit}&sysparm_offset={(index + 1) * limit}"
            headers["Link"] = f'<{base}/api/now/table/{table}?sysparm_offset=0>;rel="first",<{nxt}>;rel="next"'
        return Reply(pages[index] if index < len(pages) else {"result": []}, headers=headers)

    return answer


def test_parse_incidents_handles_every_reference_shape_and_rejects_bad_records(caplog):
    mappings = itsm.Mappings.from_options(OPTIONS, servicenow.DEFAULTS)
    with caplog.at_level(logging.WARNING):
        frame = servicenow.parse_incidents(INCIDENT_PAGES, "https://sn.example", mappings, "sn").set_index(
            "incident_id"
        )
    assert list(frame.index) == ["INC0010001", "INC0010002", "INC0010003", "INC0010005"]
    first = frame.loc["INC0010001"]
    assert (first.priority, first.state, first.service, first.assignment_group, first.change_id) == (
        2,
        "in_progress",
        "order-gateway",
        "Trading Ops",
        "CHG0030001",
    )
    assert first.opened_at == pd.Timestamp("2026-11-18 02:57", tz="UTC")  # value, not the display value
    assert first.acknowledged_at == pd.Timestamp("2026-11-18 03:04", tz="UTC")
    assert first.url == "https://sn.example/nav_to.do?uri=incident.do?sys_id=0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    assert frame.loc["INC0010003", "change_id"] == "CHG0030002" and frame.loc["INC0010003", "state"] == "new"
    assert frame.loc["INC0010005", "service"] == "kyc-service" and frame.loc["INC0010005", "state"] == "closed"
    assert pd.isna(frame.loc["INC0010003", "acknowledged_at"])
    for number, reason in (
        ("INC0010004", "priority 'urgent-ish'"),
        ("INC0010006", "missing opened_at"),
        ("INC0010007", "unknown state '42'"),
    ):
        assert f"sn: incidents record {number} rejected: {reason}" in caplog.text


def test_parse_changes_maps_state_type_and_close_code():
    mappings = itsm.Mappings.from_options(OPTIONS, servicenow.DEFAULTS)
    frame = servicenow.parse_changes(CHANGE_PAGES, "https://sn.example", mappings, "sn").set_index("change_id")
    assert list(frame.index) == ["CHG0030001", "CHG0030002"]  # CHG0030003 has an unknown type
    failed = frame.loc["CHG0030001"]
    assert (failed.type, failed.state, failed.outcome, failed.service) == (
        "normal",
        "review",
        "failed",
        "order-gateway",
    )
    assert (frame.loc["CHG0030002", "state"], frame.loc["CHG0030002", "outcome"]) == ("scheduled", "unknown")


def test_encoded_query_values_cannot_add_conditions():
    assert condition("short_description", "LIKE", "a^NQactive=false") == "short_descriptionLIKEa^^NQactive=false"
    assert encoded_query("", "active=true") == "active=true^ORDERBYsys_updated_on^ORDERBYsys_id"
    with pytest.raises(ValueError):
        condition("x^NQa", "=", "1")
    with pytest.raises(ValueError):
        condition("a", "=", "1\n2")


def test_fetch_follows_link_pages_and_then_polls_incrementally():
    answer = table_api({"incident": INCIDENT_PAGES, "change_request": CHANGE_PAGES})
    with serve(answer) as (base, seen):
        source = ServiceNowSource(
            name="sn",
            options={
                "url": base,
                "username": "svc",
                "password": "pw",
                "page_size": 2,
                "incident_query": "active=true",
                **OPTIONS,
            },
        )
        frames = source.fetch(NOW)
        assert len(frames["incidents"]) == 4 and len(frames["changes"]) == 2
        incident_requests = [r for r in seen if r.path.endswith("/incident")]
        assert [r.query["sysparm_offset"] for r in incident_requests] == ["0", "2", "4"]
        first = incident_requests[0].query
        assert first["sysparm_query"] == (
            "active=true^sys_updated_on>=2026-08-20 04:00:00^ORDERBYsys_updated_on^ORDERBYsys_id"
        )
        assert first["sysparm_display_value"] == "all" and "cmdb_ci" in first["sysparm_fields"]
        assert seen[0].headers["Authorization"].startswith("Basic ")
        seen.clear()
        later = NOW + timedelta(minutes=1)
        again = source.fetch(later)
        assert "sys_updated_on>=2026-11-18 03:55:00" in seen[0].query["sysparm_query"]
        assert len(again["incidents"]) == 4  # merged by id, not doubled


def test_requested_items_become_service_requests_with_their_catalogue_targets():
    answer = table_api(
        {
            "incident": INCIDENT_PAGES,
            "change_request": CHANGE_PAGES,
            "sc_req_item": [recorded("servicenow", "sc_req_item_page1.json")],
        }
    )
    with serve(answer) as (base, seen):
        source = ServiceNowSource(name="sn", options={"url": base, "token": "t", "service_requests": True, **OPTIONS})
        requests = source.fetch(NOW)["service_requests"].set_index("request_id")
    assert "cat_item.delivery_time" in [r for r in seen if r.path.endswith("/sc_req_item")][0].query["sysparm_fields"]
    done, waiting = requests.loc["RITM0010001"], requests.loc["RITM0010002"]
    assert (done["item"], done["category"], done["state"], done["target_h"]) == (
        "VPN token replacement",
        "Workplace",
        "fulfilled",
        4.0,
    )
    assert done["fulfilled_at"] - done["opened_at"] == pd.Timedelta(hours=2.5)
    assert waiting["state"] == "open" and pd.isna(waiting["fulfilled_at"]) and waiting["target_h"] == 24.0


DUTY_GROUP = "287ebd7da9fe198100f92cc8d1d2154e"


def on_call_api(request, base):
    """On-Call Scheduling and the Table API as a ServiceNow instance answers them (recorded shapes)."""
    if request.path == "/api/now/table/sys_user_group":
        found = request.query["sysparm_query"] == "name=Trading duty managers"
        return Reply({"result": [{"sys_id": DUTY_GROUP}] if found else []})
    if request.path == "/api/now/on_call_rota/whoisoncall":
        found = request.query["group_ids"] == DUTY_GROUP
        return Reply(recorded("servicenow", "whoisoncall.json") if found else {"result": []})
    if request.path == "/api/now/table/sys_user":
        return Reply(recorded("servicenow", "sys_user_oncall.json"))
    return Reply({"error": {"message": "No such resource"}}, status=404)


def test_the_on_call_group_is_read_from_on_call_scheduling_with_each_person_s_contacts():
    with serve(on_call_api) as (base, seen):
        source = ServiceNowSource(name="sn", options={"url": base, "username": "svc", "password": "pw"})
        people = source.on_call("Trading duty managers")
        by_sys_id = source.on_call(DUTY_GROUP)
    assert (
        people
        == by_sys_id
        == [
            {
                "person": "zhang.wei",
                "name": "Zhang Wei",
                "email": "zhang.wei@example.com",
                "mobile": "+86 138 0000 0001",
            },
            {"person": "li.na", "name": "Li Na", "email": "li.na@example.com", "mobile": None},
            # on call, but the integration user may not read the record: named by sys_id, never dropped
            {
                "person": "9ee1b13dc6112271007f9d0efdb69cd0",
                "name": "9ee1b13dc6112271007f9d0efdb69cd0",
                "email": None,
                "mobile": None,
            },
        ]
    )
    users = [r for r in seen if r.path == "/api/now/table/sys_user"][0].query
    assert users["sysparm_query"] == (
        "sys_idIN5137153cc611227c000bbd1bd8cd2005,46d44a5dc0a8010e0000e2e1dd7d63ab,9ee1b13dc6112271007f9d0efdb69cd0"
    )
    assert all(r.headers["Authorization"].startswith("Basic ") for r in seen)


def test_an_on_call_answer_of_the_wrong_shape_or_an_unknown_group_is_a_source_error():
    def odd(request, base):
        if request.path == "/api/now/on_call_rota/whoisoncall":
            return Reply({"result": [{"userId": "../sys_user?sysparm_query=x"}]})
        return on_call_api(request, base)

    with serve(odd) as (base, _):
        source = ServiceNowSource(name="sn", options={"url": base, "token": "t"})
        with pytest.raises(SourceError, match="not 32 hex digits"):
            source.on_call(DUTY_GROUP)
        with pytest.raises(SourceError, match="no sys_user_group named 'Nobody'"):
            source.on_call("Nobody")


def test_an_on_call_user_without_a_user_name_is_named_by_sys_id_and_the_group_still_reads():
    user = "5137153cc611227c000bbd1bd8cd2005"
    payload = {"result": [{"sys_id": user, "user_name": " ", "name": "Zhang Wei", "email": "", "mobile_phone": ""}]}
    assert servicenow.on_call_people(payload, [user]) == [
        {"person": user, "name": "Zhang Wei", "email": None, "mobile": None}
    ]
