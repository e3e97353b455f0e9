"""Pre-plan checklist ticks on SQLite and the real PostgreSQL: written inside the audited transaction, read back
per incident and since a moment, rolled back with the audit row when the write fails."""

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.command import checklist, preplans
from dashboard.security.access import AccessStore, Identity
from tests.unit.test_preplans import plan_text

T0 = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
MANAGER = Identity("li.wei", frozenset({"manager"}), "user")


@pytest.fixture
def access(database_url):
    store = AccessStore(database_url)
    store.migrate()
    yield store
    store.close()


def test_ticks_share_the_audit_rows_transaction_and_read_back(access):
    plan = preplans.parse(plan_text(2))
    for minutes, (step, done) in enumerate([(1, True), (2, True), (2, False)]):
        with access.audited(MANAGER, "incident.preplan_step", "INC1", {"step": step}) as connection:
            checklist.record(
                connection, "itsm", "INC1", plan, step, done, MANAGER.name, T0 + timedelta(minutes=minutes)
            )
    with pytest.raises(ValueError), access.audited(MANAGER, "incident.preplan_step", "INC1", {"step": 9}) as connection:
        checklist.record(connection, "itsm", "INC1", plan, 9, True, MANAGER.name, T0)

    ticks = checklist.for_incident(access.engine, "itsm", "INC1")
    assert ticks[["preplan_id", "version", "step", "done", "actor"]].values.tolist() == [
        ["gateway-down", 2, 1, True, "li.wei"],
        ["gateway-down", 2, 2, True, "li.wei"],
        ["gateway-down", 2, 2, False, "li.wei"],
    ]
    assert ticks["at"].tolist() == [T0 + timedelta(minutes=m) for m in range(3)]
    assert str(ticks["at"].dt.tz) == "UTC"
    assert len(checklist.since(access.engine, T0 + timedelta(minutes=1))) == 2
    assert checklist.for_incident(access.engine, "itsm", "INC2").empty
    trail = [(r["action"], r["target"]) for r in access.audit_trail()]
    assert trail == [("incident.preplan_step", "INC1")] * 3  # the failed write left no audit row either


def test_the_last_use_of_each_preplan_reads_back_on_both_databases(access):
    plan, other = preplans.parse(plan_text(2)), preplans.parse(plan_text(1).replace("gateway-down", "site-failover"))
    for minutes, (chosen, incident) in enumerate([(plan, "INC1"), (other, "INC2"), (plan, "INC3"), (other, "INC2")]):
        with access.engine.begin() as connection:
            checklist.record(connection, "itsm", incident, chosen, 1, True, "li.wei", T0 + timedelta(minutes=minutes))
    uses = checklist.last_uses(access.engine).sort_values("preplan_id")
    assert uses[["preplan_id", "version", "incident_id", "at"]].values.tolist() == [
        ["gateway-down", 2, "INC3", T0 + timedelta(minutes=2)],
        ["site-failover", 1, "INC2", T0 + timedelta(minutes=3)],
    ]
