"""ServiceNow write-back against a stateful fake of the Table API: every action lands on the incident once."""

from datetime import UTC, datetime, timedelta

import pytest

from datasources.itsm.servicenow import ServiceNowSource
from tests.fake_itsm import Outbox, marked
from tests.fake_servicenow import FakeServiceNow
from tests.loopback_http import serve

T0 = datetime(2026, 11, 18, 1, 31, 5, tzinfo=UTC)


@pytest.fixture
def instance(tmp_path):
    """A fake instance, a source writing back to it, and the outbox delivering to it."""
    fake = FakeServiceNow()
    with serve(fake) as (base, seen):
        source = ServiceNowSource(name="sn", options={"url": base, "username": "opscenter", "password": "s3cret"})
        box = Outbox(tmp_path / "history.sqlite3", [source])
        yield fake, box, seen
        box.close()


def test_each_action_sets_its_fields_and_its_note_once(instance):
    fake, box, seen = instance
    fake.add_incident("INC0010042")
    commander = fake.add_user("zhang.min")
    taken = [
        ("acknowledge", {}),
        ("assign", {"role": "commander", "user": "zhang.min"}),
        ("assign", {"role": "scribe", "user": "wang.fang"}),
        ("priority", {"priority": 2}),
        ("note", {"text": "Failing over to the standby gateway.", "public": True}),
        ("note", {"text": "Vendor ticket 7781 opened."}),
        ("resolve", {"text": "Gateway restarted; orders flowing."}),
    ]
    ids = [box.act("sn", "INC0010042", a, T0 + timedelta(minutes=m), d) for m, (a, d) in enumerate(taken)]

    assert box.job(T0 + timedelta(minutes=10)) == len(ids)

    incident = fake.incident("INC0010042")
    assert incident["work_start"] == "2026-11-18 01:31:05"  # when it was acknowledged, not when it was sent
    assert (incident["state"], incident["close_code"], incident["close_notes"]) == (
        "6",
        "Solution provided",
        "Gateway restarted; orders flowing.",
    )
    assert (incident["impact"], incident["urgency"], incident["assigned_to"]) == ("1", "2", commander)
    work_notes, comments = fake.journal("INC0010042", "work_notes"), fake.journal("INC0010042", "comments")
    assert [marked(comments, i) for i in ids] == [0, 0, 0, 0, 1, 0, 0]  # only the status update is public
    assert [marked(work_notes, i) for i in ids] == [1, 1, 1, 1, 0, 1, 1]
    assert any("li.wei assigned wang.fang as scribe" in n for n in work_notes)  # no field: the note says it
    assert fake.rejected == []

    box.pending()  # delivered, but every mark lost: found in the journal, no note is sent again
    before = len(seen)
    assert box.job(T0 + timedelta(minutes=11)) == len(ids)
    assert len(fake.journal("INC0010042")) == len(ids)
    assert not any({"work_notes", "comments"} & set(r.body or {}) for r in seen[before:])


def test_an_acknowledgement_keeps_an_earlier_start_and_a_state_past_new(instance):
    fake, box, _seen = instance
    fake.add_incident("INC0010050", state="3", work_start="2026-11-18 01:20:00")
    fake.add_incident("INC0010051", state="7")
    first = box.act("sn", "INC0010050", "acknowledge", T0)
    box.act("sn", "INC0010051", "resolve", T0)
    box.act("sn", "INC0010051", "priority", T0, {"priority": 1})
    assert box.job(T0) == 3
    held = fake.incident("INC0010050")
    assert (held["state"], held["work_start"]) == ("3", "2026-11-18 01:20:00")
    assert marked(fake.journal("INC0010050"), first) == 1
    closed = fake.incident("INC0010051")
    assert closed["state"] == "7" and "impact" not in closed  # a closed incident gets notes, not changes
    assert len(fake.journal("INC0010051")) == 2


def test_an_unknown_commander_is_named_in_the_work_notes_only(instance, caplog):
    fake, box, _seen = instance
    fake.add_incident("INC0010060")
    assigned = box.act("sn", "INC0010060", "assign", T0, {"role": "commander", "user": "nobody"})
    assert box.job(T0) == 1
    assert fake.incident("INC0010060").get("assigned_to") is None
    assert marked(fake.journal("INC0010060", "work_notes"), assigned) == 1
    assert "no sys_user with user_name 'nobody'" in caplog.text


def test_a_missing_incident_stays_pending_with_the_reason(instance):
    _fake, box, _seen = instance
    action = box.act("sn", "INC0099999", "note", T0, {"text": "anyone?"})
    assert box.job(T0) == 0
    row = box.row(action)
    assert row["writeback"] == "pending" and "no incident INC0099999" in row["last_error"]
