"""Incident actions: what each kind may hold, and the table read back as roles, last update and acknowledgements."""

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboard.command import actions
from dashboard.command.writeback import MAX_RETRY_S, retry_after_s
from dashboard.db.history import History

T0 = datetime(2026, 11, 18, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "action, detail, stored",
    [
        ("acknowledge", {}, {}),
        ("resolve", {"text": " restarted "}, {"text": "restarted"}),
        ("assign", {"role": "scribe", "user": " wang.fang "}, {"role": "scribe", "user": "wang.fang"}),
        ("priority", {"priority": 1}, {"priority": 1}),
        ("note", {"text": "rolled back", "public": True}, {"text": "rolled back", "public": True}),
    ],
)
def test_each_action_keeps_what_it_needs(action, detail, stored):
    assert actions.checked(action, detail) == stored


@pytest.mark.parametrize(
    "action, detail",
    [
        ("assign", {"role": "captain", "user": "x"}),
        ("assign", {"role": "scribe", "user": "  "}),
        ("assign", {"role": "scribe", "user": "x" * 65}),
        ("priority", {"priority": 0}),
        ("priority", {"priority": "1"}),
        ("note", {"text": ""}),
        ("note", {"text": "x" * 4001}),
        ("delete", {}),
    ],
)
def test_an_action_without_what_it_needs_is_refused(action, detail):
    with pytest.raises(ValueError):
        actions.checked(action, detail)


def test_roles_last_update_and_the_first_acknowledgement_read_back(tmp_path):
    history = History(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    history.migrate()
    taken = [
        ("INC1", "acknowledge", {}, 1),
        ("INC1", "assign", {"role": "commander", "user": "li.wei"}, 2),
        ("INC1", "note", {"text": "first"}, 3),
        ("INC1", "assign", {"role": "commander", "user": "zhang.min"}, 4),
        ("INC1", "acknowledge", {}, 5),
        ("INC2", "note", {"text": "other incident"}, 6),
    ]
    with history.engine.begin() as connection:
        ids = [
            actions.record(connection, "itsm", incident, action, "li.wei", detail, T0 + timedelta(minutes=m))
            for incident, action, detail, m in taken
        ]
    one = actions.for_incident(history.engine, "itsm", "INC1")
    assert one["id"].tolist() == ids[:5] and set(one["writeback"]) == {"pending"}
    assert actions.current_roles(one) == {"commander": "zhang.min"}
    assert actions.last_update(one) == pd.Timestamp(T0 + timedelta(minutes=3))
    acks = actions.acknowledgements(history.engine)
    assert acks.values.tolist() == [["itsm", "INC1", pd.Timestamp(T0 + timedelta(minutes=1))]]
    assert [row["id"] for row in actions.due(history.engine, T0 + timedelta(minutes=2), ["itsm"])] == ids[:2]
    assert actions.due(history.engine, T0 + timedelta(minutes=9), ["elsewhere"]) == []
    history.close()


def test_retries_back_off_to_a_ceiling():
    assert [retry_after_s(n) for n in (1, 2, 3)] == [10, 20, 40]
    assert retry_after_s(20) == MAX_RETRY_S
