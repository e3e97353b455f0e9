"""The maturity evidence of pre-plans: tier-1 services covered by the library, pre-plans drilled by chaos runs
naming them, and major incidents whose checklist was ticked through."""

import pandas as pd
import pytest

from dashboard.command import checklist, preplans
from dashboard.maturity import evidence
from tests.unit.test_maturity import NOW, _frames, _item, _services
from tests.unit.test_preplans import plan_text


@pytest.fixture
def library(tmp_path) -> preplans.Library:
    (tmp_path / "gw.yaml").write_text(plan_text())  # gateway-down v1: order-gateway, two steps
    (tmp_path / "site.yaml").write_text(
        plan_text().replace("gateway-down", "site-failover").replace("services: [order-gateway]", "scenario: site")
    )
    return preplans.load(tmp_path)


SERVICES = _services(("order-gateway", 1, None), ("quote-service", 1, None), ("wealth-portal", 2, None))


def measure(kind, frames, applies_to="tier1", **params):
    result = evidence.evaluate(_item(kind, applies_to, **params), frames, NOW)
    return result.value, result.passed, [f.get("subject") for f in result.findings]


def run(days_ago: float, preplan: str | None, status: str = "passed") -> dict:
    started = NOW - pd.Timedelta(days=days_ago)
    return {
        "run_id": f"r{days_ago}",
        "experiment": "e",
        "service": "order-gateway",
        "fault": "pod-kill",
        "started_at": started,
        "ended_at": started,
        "status": status,
        "deviated": False,
        "probe_success_ratio": 1.0,
        "recovery_s": 5.0,
        "source": "ctk",
        "url": None,
        "x_preplan": preplan,
    }


def test_tier1_services_without_a_preplan_in_the_library_are_found(library):
    frames = {**_frames(services=SERVICES), "preplans": library.frame()}
    assert measure("service_preplans", frames, min=1.0) == (0.5, False, ["quote-service"])
    assert measure("service_preplans", _frames(services=SERVICES), min=1.0)[:2] == (0.0, False)  # no library


def test_a_preplan_counts_as_drilled_when_a_recent_chaos_run_names_it(library):
    def frames(*runs):
        chaos = pd.DataFrame(list(runs))
        return {**_frames(services=SERVICES[:1], chaos_runs=chaos), "preplans": library.frame()}

    assert measure("preplans_drilled", frames(run(10, "gateway-down")), days=90, min=1.0) == (1.0, True, [])
    assert measure("preplans_drilled", frames(run(100, "gateway-down")), days=90, min=1.0) == (
        0.0,
        False,
        ["order-gateway"],
    )
    assert measure("preplans_drilled", frames(run(10, None), run(5, "unknown")), days=90, min=1.0)[:2] == (0.0, False)


def incident(incident_id: str, service: str, priority: int = 1) -> dict:
    return {
        "incident_id": incident_id,
        "title": "t",
        "priority": priority,
        "state": "resolved",
        "service": service,
        "opened_at": NOW - pd.Timedelta(days=3),
        "acknowledged_at": NOW - pd.Timedelta(days=3),
        "resolved_at": NOW - pd.Timedelta(days=2),
        "assignment_group": None,
        "change_id": None,
        "runbook_url": None,
        "source": "itsm",
        "url": None,
    }


def test_major_incidents_with_a_preplan_count_as_complete_when_every_step_was_last_ticked(library):
    incidents = pd.DataFrame(
        [
            incident("INC1", "order-gateway"),  # both steps ticked: complete
            incident("INC2", "order-gateway"),  # step 2 ticked then unticked: incomplete
            incident("INC3", "order-gateway"),  # never ticked: incomplete
            incident("INC4", "wealth-portal"),  # the site pre-plan ticked through although not its service's
            incident("INC5", "wealth-portal"),  # no pre-plan, none ticked: not counted
            incident("INC6", "order-gateway", priority=3),  # not major
        ]
    )
    at = NOW - pd.Timedelta(days=3)
    ticks = pd.DataFrame(
        [
            ["itsm", "INC1", "gateway-down", 1, 1, True, "li", at],
            ["itsm", "INC1", "gateway-down", 1, 2, True, "li", at],
            ["itsm", "INC2", "gateway-down", 1, 1, True, "li", at],
            ["itsm", "INC2", "gateway-down", 1, 2, True, "li", at],
            ["itsm", "INC2", "gateway-down", 1, 2, False, "li", at],
            ["itsm", "INC4", "site-failover", 1, 1, True, "li", at],
            ["itsm", "INC4", "site-failover", 1, 2, True, "li", at],
        ],
        columns=checklist.COLUMNS,
    )
    frames = {**_frames(services=SERVICES, incidents=incidents), "preplans": library.frame(), "preplan_steps": ticks}
    value, passed, found = measure("checklists_completed", frames, "all", days=90, max_priority=2, min=0.8)
    assert (value, passed, sorted(found)) == (0.5, False, ["INC2", "INC3"])
