"""Escalation with an injected clock: a new P1 tells level 1 once, each unacknowledged period the next level;
an acknowledgement stops it; failures are retried with back-off; every attempt is audited as "opscenter"."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.command import actions, declared, notifications
from dashboard.command.escalation import FIRST_RETRY_S, MAX_ATTEMPTS, EscalationJob, next_level
from dashboard.command.roster import on_call_answer
from dashboard.core.leases import LocalLeases
from dashboard.core.settings import parse
from dashboard.db.history import History
from dashboard.db.tables import audit_log
from datasources.base import empty_frame
from datasources.itsm import request_tracker
from tests.loopback_http import Reply, recorded, serve

T0 = datetime(2026, 12, 7, 1, 31, tzinfo=UTC)  # 09:31 in Shanghai, a Monday
CONFIG = """
sources: [{kind: demo, name: demo}]
notifications:
  ack_minutes: 5
  link_url: https://opscenter.example.internal
  channels:
    pager: {kind: webhook, url: "%s/hook"}
  roster:
    people:
      zhang.wei: {name: Zhang Wei, mobile: "13800000001"}
      li.na: {name: Li Na}
      wang.fang: {name: Wang Fang}
    levels:
      - title: Duty manager
        channels: [pager]
        shifts: [{from: "08:30", to: "20:30", who: zhang.wei}, {from: "20:30", to: "08:30", who: li.na}]
      - title: Head of operations
        channels: [pager]
        shifts: [{from: "00:00", to: "24:00", who: wang.fang}]
"""


def incidents(*rows: dict) -> pd.DataFrame:
    frame = empty_frame("incidents")
    base = {
        "title": "Order gateway rejecting orders",
        "state": "new",
        "service": "order-gateway",
        "opened_at": pd.Timestamp(T0 - timedelta(minutes=1)),
        "acknowledged_at": pd.NaT,
        "resolved_at": pd.NaT,
        "assignment_group": "trading",
        "change_id": "",
        "runbook_url": "",
        "source": "itsm",
        "url": "",
    }
    return pd.concat([frame, pd.DataFrame([{**base, **row} for row in rows])], ignore_index=True).astype(frame.dtypes)


@pytest.fixture
def history(tmp_path):
    history = History(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    history.migrate()
    yield history
    history.close()


def job_for(base: str, history: History, frame: pd.DataFrame) -> EscalationJob:
    settings = parse(CONFIG % base).notifications
    return EscalationJob(settings, history.engine, LocalLeases(), lambda: frame, "Asia/Shanghai")


def audit_rows(history: History) -> list[dict]:
    with history.engine.connect() as connection:
        rows = connection.execute(sa.select(audit_log).order_by(audit_log.c.id)).mappings().all()
    return [{**row, "detail": json.loads(row["detail"])} for row in rows]


def test_a_p1_notifies_the_duty_manager_once_then_escalates_until_acknowledged(history):
    frame = incidents({"incident_id": "INC1", "priority": 1}, {"incident_id": "INC2", "priority": 2})
    with serve(lambda request, base: Reply(None, status=204)) as (base, seen):
        job, other_poller = job_for(base, history, frame), job_for(base, history, frame)
        assert job.run(T0) == 1
        assert other_poller.run(T0 + timedelta(seconds=30)) == 0  # the level is open already: not twice
        assert job.run(T0 + timedelta(minutes=4)) == 0
        assert [(r.body["level"], r.body["recipients"][0]["name"]) for r in seen] == [(1, "Zhang Wei")]
        assert seen[0].body["title"] == "[P1] INC1 Order gateway rejecting orders"
        assert "https://opscenter.example.internal/incidents/INC1" in seen[0].body["text"]

        assert other_poller.run(T0 + timedelta(minutes=5)) == 1  # five minutes unacknowledged: level 2
        assert seen[1].body["level"] == 2 and seen[1].body["event"] == "incident.escalated"
        assert seen[1].body["title"].startswith("Escalated to level 2: [P1] INC1")
        assert seen[1].body["recipients"][0]["name"] == "Wang Fang"
        assert job.run(T0 + timedelta(minutes=30)) == 0  # no level 3
    sent = notifications.for_incident(history.engine, "itsm", "INC1")
    assert sent[["level", "status", "attempts"]].values.tolist() == [[1, "sent", 1], [2, "sent", 1]]
    rows = audit_rows(history)
    assert [(r["actor"], r["action"], r["target"], r["detail"]["level"]) for r in rows] == [
        ("opscenter", "incident.notify", "INC1", 1),
        ("opscenter", "incident.notify", "INC1", 2),
    ]
    assert rows[0]["detail"]["outcome"] == "sent" and rows[0]["detail"]["channel"] == "pager"


def test_an_acknowledgement_in_opscenter_stops_the_escalation(history):
    frame = incidents({"incident_id": "INC1", "priority": 1})
    with serve(lambda request, base: Reply(None, status=204)) as (base, seen):
        job = job_for(base, history, frame)
        job.run(T0)
        with history.engine.begin() as connection:
            actions.record(connection, "itsm", "INC1", "acknowledge", "li.wei", {}, T0 + timedelta(minutes=2))
        assert job.run(T0 + timedelta(minutes=10)) == 0
    assert len(seen) == 1


def test_an_incident_acknowledged_at_its_source_is_not_notified(history):
    frame = incidents({"incident_id": "INC1", "priority": 1, "acknowledged_at": pd.Timestamp(T0)})
    with serve(lambda request, base: Reply(None, status=204)) as (base, seen):
        assert job_for(base, history, frame).run(T0) == 0
    assert seen == []


def test_a_failing_channel_is_retried_with_back_off_then_given_up(history):
    frame = incidents({"incident_id": "INC1", "priority": 1})
    with serve(lambda request, base: Reply({"error": "down"}, status=503)) as (base, seen):
        job = job_for(base, history, frame)
        job.run(T0)
        job.run(T0 + timedelta(seconds=FIRST_RETRY_S - 1))  # not yet due
        assert len(seen) == 1
        job.run(T0 + timedelta(seconds=FIRST_RETRY_S))
        assert len(seen) == 2
        row = notifications.for_incident(history.engine, "itsm", "INC1").iloc[0]
        assert row["status"] == "pending" and "HTTP 503" in row["last_error"]
        for step in range(2, 60):  # ten minutes more, a run every 15 s
            job.run(T0 + timedelta(seconds=15 * step))
    level_one = notifications.for_incident(history.engine, "itsm", "INC1").iloc[0]
    assert level_one["status"] == "failed" and level_one["attempts"] == MAX_ATTEMPTS
    failed = [r for r in audit_rows(history) if r["detail"]["level"] == 1]
    assert len(failed) == MAX_ATTEMPTS and all(r["detail"]["outcome"] == "failed" for r in failed)
    assert "HTTP 503" in failed[0]["detail"]["error"] and base not in failed[0]["detail"]["error"]


def test_next_level_waits_for_the_acknowledgement_period():
    opened = {1: T0}
    assert next_level({}, T0, 5, 2) == 1
    assert next_level(opened, T0 + timedelta(minutes=4, seconds=59), 5, 2) is None
    assert next_level(opened, T0 + timedelta(minutes=5), 5, 2) == 2
    assert next_level({1: T0, 2: T0}, T0 + timedelta(hours=1), 5, 2) is None


def test_a_roster_without_channels_is_shown_and_sends_nothing(history):
    quiet = re.sub(r"  channels:\n    pager: .*\n", "", CONFIG).replace("        channels: [pager]\n", "")
    settings = parse(quiet % ()).notifications
    assert settings.channels == {} and all(not level.channels for level in settings.current_roster().levels)
    job = EscalationJob(
        settings,
        history.engine,
        LocalLeases(),
        lambda: incidents({"incident_id": "INC1", "priority": 1}),
        "Asia/Shanghai",
    )
    job.run(T0)
    job.run(T0 + timedelta(minutes=30))
    assert audit_rows(history) == []


def test_the_ticket_opened_for_a_declared_incident_is_not_notified_again(history):
    frame = incidents(
        {"incident_id": "OC-1", "priority": 1, "source": "opscenter", "x_ticket_source": "itsm", "x_ticket": "INC7"},
        {"incident_id": "INC7", "priority": 2},
    )
    with serve(lambda request, base: Reply(None, status=204)) as (base, seen):
        settings = parse((CONFIG % base).replace("ack_minutes: 5", "ack_minutes: 5\n  priorities: [1, 2]"))
        job = EscalationJob(settings.notifications, history.engine, LocalLeases(), lambda: frame, "Asia/Shanghai")
        assert job.run(T0) == 1
    assert [(r.body["incident_id"], r.body["level"]) for r in seen] == [("OC-1", 1)]


def test_a_p1_read_from_request_tracker_is_escalated(history):
    page = recorded("request_tracker", "tickets_page1.json")  # High (100) and P2 (75) among RT's tickets
    frame = request_tracker.parse_incidents([page], "https://rt.example.internal", request_tracker.DEFAULTS, "rt")
    with serve(lambda request, base: Reply(None, status=204)) as (base, seen):
        job = job_for(base, history, frame)
        assert job.run(T0) == 2
        assert job.run(T0 + timedelta(minutes=5)) == 2
    assert sorted((r.body["incident_id"], r.body["level"], r.body["priority"]) for r in seen) == [
        ("RT-18", 1, 1),
        ("RT-18", 2, 1),
        ("RT-23", 1, 1),
        ("RT-23", 2, 1),
    ]


def test_a_declared_incident_s_ticket_is_not_notified_before_opscenter_s_frame_names_it(history):
    with history.engine.begin() as connection:
        incident = declared.declare(connection, "li.wei", {"title": "Orders rejected", "priority": 1}, T0)
    declared.linked(history.engine, incident, "itsm", "INC7", None)  # the ticket opened, the frame not re-read
    frame = incidents(
        {"incident_id": incident, "priority": 1, "source": "opscenter"}, {"incident_id": "INC7", "priority": 1}
    )
    with serve(lambda request, base: Reply(None, status=204)) as (base, seen):
        assert job_for(base, history, frame).run(T0) == 1
    assert [(r.body["incident_id"], r.body["level"]) for r in seen] == [(incident, 1)]


ON_CALL_CONFIG = """
sources: [{kind: request_tracker, name: rt, url: "http://127.0.0.1:9"}]
notifications:
  ack_minutes: 5
  channels:
    pager: {kind: webhook, url: "%s/hook"}
  roster:
    people: {wang.fang: {name: Wang Fang}}
    levels:
      - title: Duty manager
        channels: [pager]
        shifts: [{from: "00:00", to: "24:00", who: wang.fang}]
      - title: Head of operations
        channels: [pager]
        oncall: {source: rt, group: Heads on call}
"""


def test_a_p1_notifies_whoever_the_itsm_on_call_group_has_on_call(history):
    on_call = empty_frame("on_call")
    on_call.loc[0] = ["rt", "Heads on call", "zhao.lei", "Zhao Lei", "zhao.lei@example.com", None]
    read = {"ok": True, "last_success": T0.isoformat(), "interval_s": 60}
    answers = [on_call_answer(on_call, read, T0)]
    frame = incidents({"incident_id": "INC1", "priority": 1})
    with serve(lambda request, base: Reply(None, status=204)) as (base, seen):
        settings = parse(ON_CALL_CONFIG % base).notifications
        job = EscalationJob(
            settings, history.engine, LocalLeases(), lambda: frame, "Asia/Shanghai", on_call=lambda now: answers[-1]
        )
        assert job.run(T0) == 1
        # the ITSM stops answering: the last good answer stays, and the person it names is told
        answers.append(on_call_answer(on_call, {**read, "ok": False}, T0 + timedelta(minutes=5)))
        assert job.run(T0 + timedelta(minutes=5)) == 1
    assert [(r.body["level"], r.body["recipients"]) for r in seen] == [
        (1, [{"id": "wang.fang", "name": "Wang Fang", "email": None, "mobile": None}]),
        (2, [{"id": "zhao.lei", "name": "Zhao Lei", "email": "zhao.lei@example.com", "mobile": None}]),
    ]
    assert "Zhao Lei" in seen[1].body["text"]
