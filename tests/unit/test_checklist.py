"""An incident's pre-plan checklist: ticks and unticks read back, the first tick pinning the version, steps due
by their expected minutes, overdue and late."""

from datetime import timedelta

import pandas as pd
import pytest

from dashboard.command import checklist, preplans
from dashboard.db.history import History
from tests.unit.test_preplans import plan_text

OPENED = pd.Timestamp("2026-11-20 01:30", tz="UTC")


@pytest.fixture
def library(tmp_path) -> preplans.Library:
    (tmp_path / "v1.yaml").write_text(plan_text(1, "2026-01-05"))
    (tmp_path / "v2.yaml").write_text(plan_text(2, "2026-11-01").replace("minutes: 15", "minutes: 20"))
    return preplans.load(tmp_path)


@pytest.fixture
def engine(tmp_path):
    history = History(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    history.migrate()
    yield history.engine
    history.close()


def tick(engine, plan, step, done, minutes, incident="INC1", actor="li.wei"):
    with engine.begin() as connection:
        checklist.record(connection, "itsm", incident, plan, step, done, actor, OPENED + timedelta(minutes=minutes))


def test_ticks_and_unticks_read_back_and_the_last_one_counts(engine, library):
    plan = library.get("gateway-down", 2)
    tick(engine, plan, 1, True, 3)
    tick(engine, plan, 2, True, 10, actor="zhang.min")
    tick(engine, plan, 2, False, 12)
    tick(engine, plan, 1, True, 4, incident="INC2")
    ticks = checklist.for_incident(engine, "itsm", "INC1")
    assert ticks[["step", "done", "actor"]].values.tolist() == [
        [1, True, "li.wei"],
        [2, True, "zhang.min"],
        [2, False, "li.wei"],
    ]
    assert ticks["at"].iloc[0] == OPENED + timedelta(minutes=3)
    state = checklist.state(plan, ticks, OPENED, OPENED + timedelta(minutes=30))
    assert state[["step", "done", "actor"]].values.tolist() == [[1, True, "li.wei"], [2, False, None]]
    assert len(checklist.since(engine, OPENED + timedelta(minutes=4))) == 3


def test_a_step_the_plan_does_not_have_is_refused(engine, library):
    with pytest.raises(ValueError, match="steps 1 to 2"):
        tick(engine, library.get("gateway-down", 2), 3, True, 1)
    with pytest.raises(ValueError):
        tick(engine, library.get("gateway-down", 2), True, True, 1)


def test_steps_fall_due_one_after_the_other_overdue_when_open_late_when_ticked_after(library):
    plan = library.get("gateway-down", 2)  # 5 then 20 minutes
    ticks = pd.DataFrame(
        [["itsm", "INC1", "gateway-down", 2, 1, True, "li.wei", OPENED + timedelta(minutes=7)]],
        columns=checklist.COLUMNS,
    )
    state = checklist.state(plan, ticks, OPENED, OPENED + timedelta(minutes=26))
    assert state["due_at"].tolist() == [OPENED + timedelta(minutes=5), OPENED + timedelta(minutes=25)]
    assert state[["done", "overdue", "late"]].values.tolist() == [[True, False, True], [False, True, False]]
    early = checklist.state(plan, ticks.iloc[:0], OPENED, OPENED + timedelta(minutes=4))
    assert not early["overdue"].any()


def test_the_first_tick_pins_the_version_the_library_chooses_before(engine, library):
    incident = pd.Series({"service": "order-gateway", "runbook_url": None, "opened_at": OPENED})
    assert checklist.plan_of(library, checklist.for_incident(engine, "itsm", "INC1"), incident) == ("gateway-down", 2)
    tick(engine, library.get("gateway-down", 1), 1, True, 3)  # worked on the older version
    assert checklist.plan_of(library, checklist.for_incident(engine, "itsm", "INC1"), incident) == ("gateway-down", 1)
    ticks = checklist.for_incident(engine, "itsm", "INC1")
    assert checklist.state(library.get("gateway-down", 2), ticks, OPENED, OPENED)["done"].tolist() == [False, False]


def test_the_last_use_of_each_preplan_is_its_latest_tick_or_untick(engine, library):
    v1, v2 = library.versions("gateway-down")
    tick(engine, v1, 1, True, 5, incident="INC1")
    tick(engine, v2, 2, True, 30, incident="INC2")
    tick(engine, v2, 2, False, 40, incident="INC2")
    tick(engine, v1, 2, True, 35, incident="INC1")
    uses = checklist.last_uses(engine)
    assert uses[["preplan_id", "version", "incident_id", "at"]].values.tolist() == [
        ["gateway-down", 2, "INC2", OPENED + timedelta(minutes=40)]
    ]
    assert str(uses["at"].dt.tz) == "UTC"
