"""Change freezes on a real ITSM source's changes: ServiceNow's Table API answers (recorded pages on a loopback
server) polled by the servicenow source, then judged like any contract ``changes`` frame."""

import pandas as pd

from dashboard.analytics import freeze
from datasources.base import empty_frame, validate
from datasources.itsm.servicenow import ServiceNowSource
from tests.loopback_http import serve
from tests.unit.test_servicenow import CHANGE_PAGES, INCIDENT_PAGES, NOW, OPTIONS, table_api


def test_servicenow_changes_in_the_a_share_session_are_flagged():
    with serve(table_api({"incident": INCIDENT_PAGES, "change_request": CHANGE_PAGES})) as (base, _seen):
        source = ServiceNowSource(name="sn", options={"url": base, "username": "svc", "password": "pw", **OPTIONS})
        changes = source.fetch(NOW)["changes"]
    found = freeze.breaches(changes, empty_frame("chaos_runs"), empty_frame("chains"), freeze.Rules())
    found = validate("freeze_breaches", found).set_index("id")
    # CHG0030001: a normal release made 10:45-10:53 on Wednesday 18 November; CHG0030002: a standard change
    # planned for 10:00 the next day; CHG0030003 has no dates yet.
    assert sorted(found.index) == ["CHG0030001", "CHG0030002"]
    assert found["flagged"].all() and (found["reason"] == "session").all() and (found["freeze"] == "cn").all()
    assert found.loc["CHG0030001", "ts"] == pd.Timestamp("2026-11-18 02:45", tz="UTC")
    assert found.loc["CHG0030001", "url"].startswith(base)
    late = freeze.Rules(sessions=False, windows=(freeze.Window("Rebalancing", NOW, NOW + pd.Timedelta(days=2)),))
    assert list(freeze.breaches(changes, empty_frame("chaos_runs"), empty_frame("chains"), late)["id"]) == [
        "CHG0030002"
    ]
