"""Declared incidents: declaring from nothing and from an alert, the duplicate refused, the incidents frame
their actions make, and who commands each watched incident."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboard.command import actions, declared, oversight
from dashboard.command.source import CommandSource
from dashboard.command.writeback import WritebackJob
from dashboard.core.leases import LocalLeases
from dashboard.db.history import History
from datasources.base import validate

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
ALERT = {
    "alert_id": "fp-1",
    "name": "OrderGatewayLatencyHigh",
    "service": "order-gateway",
    "severity": "critical",
    "summary": "p95 over 500 ms",
    "source": "alertmanager",
    "url": "http://am.example/#/alerts?fp-1",
}


@pytest.fixture
def engine(tmp_path):
    history = History(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    history.migrate()
    yield history.engine
    history.close()


def declare(engine, fields, at=T0):
    with engine.begin() as connection:
        return declared.declare(connection, "alice", fields, at)


def act(engine, incident_id, action, detail, at, source=declared.SOURCE):
    with engine.begin() as connection:
        actions.record(connection, source, incident_id, action, "alice", detail, at)


def test_a_declared_incident_is_in_the_frame_and_follows_its_actions(engine):
    first = declare(engine, {"title": "Quotes frozen", "service": "market-data", "priority": 1})
    frame = validate("incidents", declared.incident_frame(engine, pd.Timestamp(T0)))
    row = frame.set_index("incident_id").loc[first]
    assert (row.source, row.title, row.priority, row.state, row.service) == (
        "opscenter",
        "Quotes frozen",
        1,
        "new",
        "market-data",
    )
    act(engine, first, "acknowledge", {}, T0 + timedelta(minutes=2))
    act(engine, first, "priority", {"priority": 2}, T0 + timedelta(minutes=3))
    row = declared.incident_frame(engine, pd.Timestamp(T0)).iloc[0]
    assert (row.state, row.priority, row.acknowledged_at) == ("in_progress", 2, pd.Timestamp(T0 + timedelta(minutes=2)))
    act(engine, first, "resolve", {}, T0 + timedelta(minutes=9))
    assert declared.incident_frame(engine, pd.Timestamp(T0)).iloc[0].state == "resolved"
    assert [a for a in actions.for_incident(engine, "opscenter", first)["action"]][0] == "declare"


def test_an_open_alert_is_declared_once(engine):
    first = declare(engine, declared.from_alert(ALERT))
    row = declared.incident_frame(engine, pd.Timestamp(T0)).iloc[0]
    assert (row.service, row.title, row.x_alert_url, row.priority) == (
        "order-gateway",
        "OrderGatewayLatencyHigh",
        ALERT["url"],
        2,
    )
    with pytest.raises(declared.AlreadyDeclared) as refused:
        declare(engine, declared.from_alert(ALERT))
    assert refused.value.incident_id == first
    act(engine, first, "resolve", {}, T0 + timedelta(minutes=5))
    assert declare(engine, declared.from_alert(ALERT)) != first  # resolved: the alert may be declared again


@pytest.mark.parametrize(
    "fields", [{"title": "", "priority": 1}, {"title": "x", "priority": 7}, {"title": "x" * 201, "priority": 1}]
)
def test_an_incomplete_declaration_is_refused(engine, fields):
    with pytest.raises(ValueError):
        declare(engine, fields)
    assert declared.incident_frame(engine, pd.Timestamp(T0)).empty


def test_the_commander_and_the_last_update_turn_amber_when_overdue(engine):
    act(engine, "RT-7", "assign", {"role": "commander", "user": "li"}, T0, source="rt")
    act(engine, "RT-7", "assign", {"role": "commander", "user": "wang"}, T0 + timedelta(minutes=1), source="rt")
    act(engine, "RT-7", "assign", {"role": "scribe", "user": "zhao"}, T0 + timedelta(minutes=2), source="rt")
    command = validate("incident_command", oversight.command_frame(engine, pd.Timestamp(T0)))
    incidents = pd.DataFrame(
        {
            "source": ["rt", "rt", "rt"],
            "incident_id": ["RT-7", "RT-8", "RT-9"],
            "priority": [1, 2, 3],
            "opened_at": pd.to_datetime([T0 - timedelta(hours=1)] * 3, utc=True),
        }
    )
    now = pd.Timestamp(T0 + timedelta(minutes=20))
    watch = oversight.watched(incidents, command, now, {2: 60})
    assert list(watch.index) == [("rt", "RT-7"), ("rt", "RT-8")]  # P3 is not watched
    assert watch.loc[("rt", "RT-7")].to_dict() == {
        "commander": "wang",
        "updated_at": pd.Timestamp(T0 + timedelta(minutes=2)),
        "stale_at": pd.Timestamp(T0 + timedelta(minutes=17)),
        "stale": True,
    }
    nobody = watch.loc[("rt", "RT-8")]
    assert nobody["commander"] is None and nobody["updated_at"] == pd.Timestamp(T0 - timedelta(hours=1))
    assert not oversight.watched(incidents, command, pd.Timestamp(T0 + timedelta(minutes=5)))["stale"].iloc[0]


class Ticketing:
    """An ITSM source that opens tickets and takes write-back, recording what it was handed."""

    name = "itsm"
    writes_back = True

    def __init__(self):
        self.opened, self.delivered = [], []

    def open_ticket(self, marker: str, incident: dict) -> tuple[str, str]:
        self.opened.append((marker, incident["title"]))
        return "T-1", "https://itsm.example/T-1"

    def write_back(self, incident_id, action_id, action, actor, detail, at) -> None:
        self.delivered.append((incident_id, action, actor, at))


def test_the_write_back_job_opens_a_declared_incidents_ticket_and_delivers_its_actions_there(engine):
    target = Ticketing()
    command = CommandSource(declared.SOURCE, 10.0, engine=engine, target=target)
    job = WritebackJob([command, target], engine, LocalLeases())
    incident = declare(engine, {"title": "Orders rejected", "service": "order-gateway", "priority": 1})
    act(engine, incident, "acknowledge", {}, T0 + timedelta(minutes=2))

    assert job(T0 + timedelta(minutes=3)) == 2
    assert [title for _marker, title in target.opened] == ["Orders rejected"]
    assert target.delivered == [("T-1", "acknowledge", "alice", T0 + timedelta(minutes=2))]
    assert declared.get(engine, incident)["ticket_id"] == "T-1"
    delivered = actions.for_incident(engine, declared.SOURCE, incident)
    assert delivered["writeback"].tolist() == ["delivered", "delivered"]
