"""The wall's "on duty" line and the incident page's notifications, in both languages."""

from __future__ import annotations

import pandas as pd

from dashboard.command.notifications import COLUMNS
from layouts.components import duty, incident_notices

SHOWN = [
    {"level": 1, "title": "Duty manager", "title_zh": "值班经理", "people": ["Zhang Wei"], "until": "20:30"},
    {"level": 2, "title": "Head of operations", "title_zh": None, "people": [], "until": None},
]


def text(component) -> str:
    if isinstance(component, (list, tuple)):
        return " ".join(text(c) for c in component)
    if component is None or isinstance(component, str):
        return component or ""
    return text(getattr(component, "children", None))


def test_the_duty_line_names_each_level_and_its_hand_over():
    assert text(duty._levels(SHOWN, "en")).split() == "On duty L1 Zhang Wei to 20:30 L2 –".split()
    assert text(duty._levels(SHOWN, "zh")).split() == "值班 1级 Zhang Wei 至 20:30 2级 –".split()
    assert duty._levels([], "en") == []


def test_the_notifications_panel_shows_each_outcome_with_its_error_as_tooltip():
    at = pd.Timestamp("2026-12-07 01:31", tz="UTC")
    sent = pd.DataFrame(
        [
            [1, 1, "pager", [{"id": "z", "name": "Zhang Wei"}], at, "sent", 1, at, None],
            [2, 2, "mail", [], at, "pending", 2, pd.NaT, "mail: timed out after 10 s"],
        ],
        columns=COLUMNS,
    )
    section = incident_notices.section(sent, "Asia/Shanghai", "en")
    rows = section.children[1].children
    assert text(rows[0]).split() == "12-07 09:31 level 1 · pager → Zhang Wei sent".split()
    assert text(rows[1]).endswith("mail → nobody on duty retrying")
    assert rows[1].children[-1].title == "mail: timed out after 10 s"
    points = incident_notices.timeline_points(sent, "zh")
    assert points[0] == (at, "第 1 级，经 pager：已发送")
