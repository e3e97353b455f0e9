"""The duty roster: who is on duty at a moment (overnight shifts, weekdays, hand-overs), and the config's
``notifications`` section checked and located (literal secrets, unknown channels and people, a roster file)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dashboard.command.oncall import OnCallSource
from dashboard.command.roster import Roster, on_call_answer, on_duty
from dashboard.core.settings import ConfigError, parse
from datasources.base import empty_frame

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROSTER = Roster.model_validate(
    {
        "people": {"zhang": {"name": "Zhang"}, "li": {"name": "Li"}, "wang": {"name": "Wang"}},
        "levels": [
            {
                "title": "Duty manager",
                "channels": ["pager"],
                "shifts": [
                    {"from": "08:30", "to": "20:30", "who": "zhang", "days": ["mon", "tue", "wed", "thu", "fri"]},
                    {"from": "20:30", "to": "08:30", "who": "li"},
                    {"from": "08:30", "to": "20:30", "who": "wang", "days": ["sat", "sun"]},
                ],
            },
            {"title": "Head", "channels": ["pager"], "shifts": [{"from": "00:00", "to": "24:00", "who": ["wang"]}]},
        ],
    }
)


def who(local: str) -> list[tuple[int, list[str], str | None]]:
    now = datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)
    return [
        (d.level, [p.id for p in d.people], d.until.strftime("%a %H:%M") if d.until else None)
        for d in on_duty(ROSTER, now, "Asia/Shanghai")
    ]


@pytest.mark.parametrize(
    "local, level_one",
    [
        ("2026-12-07 09:31", (["zhang"], "Mon 20:30")),  # Monday day shift
        ("2026-12-07 20:30", (["li"], "Tue 08:30")),  # the hand-over minute belongs to the next shift
        ("2026-12-08 03:00", (["li"], "Tue 08:30")),  # overnight, begun the day before
        ("2026-12-12 12:00", (["wang"], "Sat 20:30")),  # Saturday
    ],
)
def test_who_is_on_duty(local, level_one):
    (level, people, until), (two, head, _) = who(local)
    assert (level, (people, until)) == (1, level_one)
    assert (two, head) == (2, ["wang"])


CONFIG = """
sources: [{kind: demo, name: demo}]
notifications:
  channels:
    robot: {kind: dingtalk, url: "%s", secret: "${DT_SECRET}"}
  roster: %s
"""
ROSTER_YAML = """
people: {zhang: {name: Zhang}}
levels:
  - title: Duty manager
    channels: [%s]
    shifts: [{from: "08:30", to: "20:30", who: zhang}]
"""
ENV = {"DT_URL": "https://oapi.dingtalk.com/robot/send?access_token=t0ken", "DT_SECRET": "SECabc"}


def test_a_roster_file_is_read_and_read_again_when_it_changes(tmp_path):
    path = tmp_path / "roster.yaml"
    path.write_text(ROSTER_YAML % "robot", encoding="utf-8")
    notify = parse(CONFIG % ("${DT_URL}", "roster.yaml"), str(tmp_path / "config.yaml"), ENV).notifications
    assert notify.current_roster().people["zhang"].name == "Zhang"
    path.write_text((ROSTER_YAML % "robot").replace("name: Zhang", "name: Zhang Wei, mobile: '1380'"), "utf-8")
    assert notify.current_roster().people["zhang"].name == "Zhang Wei"
    path.write_text(ROSTER_YAML % "nowhere", encoding="utf-8")  # broken: the last good roster stays
    assert notify.current_roster().people["zhang"].name == "Zhang Wei"


@pytest.mark.parametrize(
    "url, roster_channel, message",
    [
        ("https://oapi.dingtalk.com/robot/send?access_token=t0ken", "robot", "secrets must be given as"),
        ("${DT_URL}", "nowhere", "roster.yaml:5: levels.0.channels: no channel 'nowhere'"),
    ],
)
def test_a_wrong_notifications_section_is_refused_where_it_is_wrong(tmp_path, url, roster_channel, message):
    (tmp_path / "roster.yaml").write_text(ROSTER_YAML % roster_channel, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        parse(CONFIG % (url, "roster.yaml"), str(tmp_path / "config.yaml"), ENV)
    assert "t0ken" not in str(caught.value)


def test_the_documented_examples_check_out(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text(encoding="utf-8")
    config, roster, oncall = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    (tmp_path / "roster.yaml").write_text(roster, encoding="utf-8")
    env = {name: "https://example.internal/hook?key=x" for name in re.findall(r"\$\{(\w+)\}", config)}
    notify = parse("sources: [{kind: demo, name: demo}]\n" + config, str(tmp_path / "c.yaml"), env).notifications
    assert set(notify.channels) == {"ops-dingtalk", "ops-wecom", "pager", "mail"}
    assert [len(level.shifts) for level in notify.current_roster().levels] == [3, 1]
    env = {"RT_TOKEN": "t", "SNOW_TOKEN": "t", "DINGTALK_URL": "https://example.internal/hook"}
    groups = parse(oncall, str(tmp_path / "o.yaml"), env)
    roster = groups.notifications.current_roster()
    assert [(g.source, g.group) for g in roster.oncall_groups()] == [
        ("rt", "Duty managers"),
        ("snow", "Trading operations"),
    ]


ON_CALL = """
sources:
  - {kind: request_tracker, name: rt, url: "http://127.0.0.1:9"}
  - {kind: demo, name: demo}
notifications:
  roster:
    people: {zhang: {name: Zhang}}
    levels:
      - title: Duty manager
        %s
"""


@pytest.mark.parametrize(
    "level, message",
    [
        (
            "oncall: {source: demo, group: Duty}",
            "c.yaml:10: notifications.roster.levels.0.oncall.source: no source "
            "'demo' that reads on-call groups \\(rt\\)",
        ),
        ("oncall: {source: rt}", "c.yaml:10: notifications.roster.levels.0.oncall.group: "),
        ("oncall: {source: rt, group: Duty, queue: x}", "c.yaml:10: notifications.roster.levels.0.oncall.queue: "),
        ("title_zh: 值班经理", "c.yaml:9: notifications.roster.levels.0: .*expected either shifts or oncall"),
        (
            "oncall: {source: rt, group: Duty}\n        shifts: [{from: '00:00', to: '24:00', who: zhang}]",
            "c.yaml:9: notifications.roster.levels.0: .*expected either shifts or oncall",
        ),
    ],
)
def test_a_wrong_on_call_level_is_refused_where_it_is_wrong(level, message):
    with pytest.raises(ConfigError, match=message):
        parse(ON_CALL % level, "c.yaml", {})


@pytest.mark.parametrize("interval, message", [(5, "must be at least 10"), ("soon", "expected a number")])
def test_the_on_call_groups_are_read_no_more_often_than_every_ten_seconds(interval, message):
    config = ON_CALL.replace("  roster:", f"  oncall_interval_s: {interval}\n  roster:", 1)
    with pytest.raises(ConfigError, match=f"c.yaml:6: notifications.oncall_interval_s: {message}"):
        parse(config % "oncall: {source: rt, group: Duty}", "c.yaml", {})
    assert parse(ON_CALL % "oncall: {source: rt, group: Duty}", "c.yaml", {}).notifications.oncall_interval_s == 60


def test_a_level_from_an_on_call_group_shows_the_last_good_read_and_whether_it_is_stale():
    notify = parse(ON_CALL % "oncall: {source: rt, group: Duty}", "c.yaml", {}).notifications
    roster, now = notify.current_roster(), datetime(2026, 12, 7, 1, 31, tzinfo=SHANGHAI)
    assert [(g.source, g.group) for g in roster.oncall_groups()] == [("rt", "Duty")]
    frame = empty_frame("on_call")
    frame.loc[0] = ["rt", "Duty", "li.na", "Li Na", "li.na@example.com", None]
    frame.loc[1] = ["rt", "Other", "wang", "Wang", None, None]
    read = {"ok": True, "last_success": now.isoformat(), "interval_s": 60}

    def level_one(answer):
        (level,) = on_duty(roster, now, "Asia/Shanghai", answer)
        return [p.name for p in level.people], level.itsm, level.read_at, level.stale

    assert level_one(None) == ([], "rt", None, False)  # not read yet
    assert level_one(on_call_answer(frame, read, now)) == (["Li Na"], "rt", now, False)
    failed = on_call_answer(frame, {**read, "ok": False}, now)
    assert level_one(failed) == (["Li Na"], "rt", now, True)
    quiet = on_call_answer(frame, read, now + timedelta(minutes=10))  # no poll for ten intervals: stale too
    assert level_one(quiet)[3] is True


class Reader:
    """An ITSM source's on-call reads: the people of each group it knows."""

    def __init__(self, groups: dict[str, list[dict]]):
        self.groups = groups

    def on_call(self, group: str) -> list[dict]:
        return self.groups[group]


@pytest.mark.parametrize(
    "named, status, expected",
    [
        ("Duty", None, ([], None, False, True)),  # the oncall source has not polled yet
        ("Duty", {"ok": False, "last_success": None, "interval_s": 60}, ([], None, True, True)),  # never read
        ("Heads", "read", ([], None, False, True)),  # a group the roster names since the last read
        ("Empty", "read", ([], "read", False, False)),  # read: nobody on call
        ("Duty", "read", (["Li Na"], "read", False, False)),
    ],
)
def test_a_group_outside_the_last_good_read_is_unread_never_empty(named, status, expected):
    now = datetime(2026, 12, 7, 1, 31, tzinfo=SHANGHAI)
    read = {"ok": True, "last_success": now.isoformat(), "interval_s": 60}
    li_na = {"person": "li.na", "name": "Li Na", "email": None, "mobile": None}
    last = parse(
        ON_CALL % "oncall: {source: rt, group: Duty}\n      - {title: Two, oncall: {source: rt, group: Empty}}"
    )
    reader = OnCallSource(
        "oncall", 60, roster=last.notifications.current_roster, readers={"rt": Reader({"Duty": [li_na], "Empty": []})}
    )
    frame = reader.fetch(now)["on_call"]
    roster = parse(ON_CALL % f"oncall: {{source: rt, group: {named}}}", "c.yaml", {}).notifications.current_roster()
    (level,) = on_duty(roster, now, "Asia/Shanghai", on_call_answer(frame, read if status == "read" else status, now))
    shown = [p.name for p in level.people], "read" if level.read_at == now else level.read_at, level.stale
    assert (*shown, level.unread) == expected
