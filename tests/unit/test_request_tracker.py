"""Request Tracker: a recorded REST2 tickets page parsed, and opscenter's priorities 1-5 written to RT and read
back the same, with read and write maps that disagree refused at load."""

import logging
import re
from datetime import UTC, datetime

import pytest

from dashboard.core.poller import Poller
from dashboard.core.settings import ConfigError, parse
from dashboard.core.store import FrameStore, LocalFrameCache
from datasources.base import OptionsError, SourceError
from datasources.itsm import request_tracker
from datasources.itsm.request_tracker import RequestTrackerSource
from tests.loopback_http import Reply, recorded, serve

PAGE = recorded("request_tracker", "tickets_page1.json")  # RT 5.0.3 on SQLite, the suite's RT
BASE = "https://rt.example.internal"


def source(**options) -> RequestTrackerSource:
    return RequestTrackerSource(name="rt", options={"url": BASE, "token": "t0k", **options})


def test_the_recorded_page_reads_numbers_by_range_and_labels_by_rt_s_table(caplog):
    with caplog.at_level(logging.WARNING):
        frame = request_tracker.parse_incidents([PAGE], BASE, request_tracker.DEFAULTS, "rt").set_index("incident_id")
    priorities = frame["priority"].to_dict()
    assert priorities == {
        "RT-18": 1,  # an RT user chose High: 100
        "RT-19": 2,  # 75, as opscenter writes P2
        "RT-20": 3,  # Medium: 50
        "RT-21": 4,  # 25
        "RT-22": 5,  # RT's default, 0 (Low)
        "RT-23": 1,  # the label High, as RT keeps a label sent on create
    }
    assert "rt: incidents record RT-24 rejected: priority 'Urgent'" in caplog.text
    down = frame.loc["RT-18"]
    assert (down.state, down.service, down.assignment_group) == ("new", "order-gateway", "Incidents")
    assert down.url == f"{BASE}/Ticket/Display.html?id=18"
    assert frame.loc["RT-21", "state"] == "in_progress"


def test_every_priority_written_reads_back_as_itself():
    rt = source()
    for priority in range(1, 6):
        assert rt.priorities.read(rt.priorities.write(priority)) == priority
    assert [rt.priorities.write(p) for p in range(1, 6)] == [100, 75, 50, 25, 0]
    assert [rt.priorities.read(n) for n in ("150", "99", "74", "49", "24", "-3")] == [1, 2, 3, 4, 5, 5]
    assert [rt.priorities.read(label) for label in ("High", "medium", "LOW")] == [1, 3, 5]


def test_the_config_s_priority_map_comes_first_and_an_unknown_label_is_left_for_the_record_check():
    rt = source(priority_map={"Urgent": 1})
    assert (rt.priorities.read("urgent"), rt.priorities.read("Critical")) == (1, "Critical")


def test_a_site_with_five_labels_writes_and_reads_them():
    labels = {"P1": 100, "P2": 75, "P3": 50, "P4": 25, "P5": 0}
    rt = source(priority_labels=labels, priority_names={p: f"P{p}" for p in range(1, 6)})
    assert rt.priorities.write(2) == "P2" and rt.priorities.read("P2") == 2 and rt.priorities.read("75") == 2


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"priority_names": {1: "High", 2: "High"}},
            "priority_names writes P2 as 'High', which reads back as P1",
        ),
        (
            {"priority_names": {2: 100}},
            "priority_names writes P2 as '100', which reads back as P1 (priority_ranges: P1 from 100, P2 from 75",
        ),
        (
            {"priority_ranges": {1: 70, 2: 60, 3: 40, 4: 20, 5: 0}},
            "priority_names writes P2 as '75', which reads back as P1",
        ),
        (
            {"priority_names": {1: "high"}},
            "priority_names writes P1 as 'high', not a label of priority_labels (case matters: High, Low, Medium)",
        ),
        (
            {"priority_map": {"100": 2}},
            "priority_names writes P1 as '100', which reads back as P2 (priority_map)",
        ),
        ({"priority_ranges": {1: 50, 2: 75}}, "priority_ranges must fall as the priority's number rises"),
        ({"priority_ranges": {}}, "priority_ranges needs at least one priority"),
        ({"priority_names": {1: "-5"}}, "priority_names writes P1 as '-5'; RT stores no negative priority"),
    ],
)
def test_read_and_write_maps_that_disagree_are_refused_at_load(options, message):
    with pytest.raises(OptionsError, match=re.escape(f"rt: options: {message}")):
        source(**options)


def test_a_config_with_rt_s_old_labels_for_p1_and_p2_is_refused_naming_its_line():
    config = """
sources:
  - kind: request_tracker
    name: rt
    url: https://rt.example.internal
    priority_names: {1: High, 2: High, 3: Medium, 4: Low, 5: Low}
"""
    with pytest.raises(ConfigError, match=r"<config>:3: sources\.0: priority_names writes P2 as 'High', which reads"):
        parse(config)


NOW = datetime(2026, 12, 6, 18, 30, tzinfo=UTC)


def old_numbering(*priorities: str) -> dict:
    """The recorded page plus tickets a site numbered 1-5 for P1-P5 before RT's stock priorities were read."""
    extra = [{**PAGE["items"][0], "id": str(30 + i), "Priority": p} for i, p in enumerate(priorities)]
    return {**PAGE, "items": PAGE["items"][:6] + extra}


def test_a_ticket_numbered_1_to_5_keeps_its_old_priority_and_the_source_s_status_says_which_and_what_to_set():
    page = old_numbering("1", "2", "5")
    with serve(lambda request, base: Reply(page)) as (base, _):
        rt = RequestTrackerSource(name="rt", options={"url": base, "token": "t0k"})
        poller = Poller([rt], FrameStore(LocalFrameCache(), sources=["rt"]), clock=lambda: NOW)
        status = poller.poll(rt)
    frame = poller.store.frame("incidents").set_index("incident_id")
    assert frame.loc[["RT-30", "RT-31", "RT-32", "RT-18", "RT-22"], "priority"].tolist() == [1, 2, 5, 1, 5]
    assert frame.loc[["RT-30", "RT-18"], "x_priority_raw"].tolist() == ["1", "100"]
    assert status["ok"] and status["error"] is None
    warning = status["warning"]
    assert "RT-30, RT-31, RT-32" in warning and "RT-18" not in warning and "RT-22" not in warning
    assert "priority_map" in warning and "priority_ranges" in warning


@pytest.mark.parametrize(
    "options, read",
    [
        ({"priority_map": {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}}, [1, 2, 5]),  # the site said how they read
        ({"priority_ranges": {1: 100, 2: 75, 3: 50, 4: 25, 5: 0}}, [5, 5, 5]),  # ranges set: read by them
    ],
)
def test_a_site_that_configured_its_priorities_reads_them_as_configured_without_a_warning(options, read):
    page = old_numbering("1", "2", "5")
    with serve(lambda request, base: Reply(page)) as (base, _):
        rt = RequestTrackerSource(name="rt", options={"url": base, "token": "t0k", **options})
        frame = rt.fetch(NOW)["incidents"].set_index("incident_id")
    assert frame.loc[["RT-30", "RT-31", "RT-32"], "priority"].tolist() == read
    assert rt.warnings() == []


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), (1, True), (True, True), ("0", False), (0, False), ("", False), (None, False)]
)
def test_a_record_is_disabled_only_when_it_says_so(value, expected):
    assert request_tracker.disabled({"Disabled": value}) is expected
    assert request_tracker.disabled({}) is False


def test_a_group_record_s_members_are_its_users_and_groups_and_malformed_entries_are_skipped():
    members = [
        {"type": "user", "id": "oc.zhang"},
        {"type": "group", "id": "7"},
        {"type": "group", "id": 8},
        {"type": "group", "id": "../tickets"},  # not a group id: never put in a path
        {"type": "group", "id": "²"},  # a digit, not a decimal one
        {"type": "group", "id": "١٢"},  # decimal, not ASCII
        {"type": "group", "id": "007"},  # group 7 again
        {"type": "group"},
        {"type": "user", "id": ""},
        {"type": "queue", "id": "3"},
        "oc.li",
        None,
    ]
    assert request_tracker.group_members({"Members": members}) == (["oc.zhang"], ["7", "8", "7"])
    with pytest.raises(SourceError, match=r"malformed payload \(group_members\)"):
        request_tracker.group_members({"Members": None})


def rt_groups(groups: dict):
    """A fake RT answering a search for group 1 by name, the records of ``groups`` (id -> members as (type, id)
    pairs, or the ``Reply`` given), and each user's record."""

    def answer(request, base):
        name = request.path.rsplit("/", 1)[-1]
        if request.path == "/REST/2.0/groups":
            return Reply({"items": [{"id": 1}]})
        if request.path.startswith("/REST/2.0/group/"):
            members = groups[name]
            if isinstance(members, Reply):
                return members
            return Reply({"Members": [{"type": kind, "id": id_} for kind, id_ in members]})
        return Reply({"Name": name, "EmailAddress": f"{name}@example.com"})

    return answer


def read_on_call(groups: dict) -> tuple[list[str], list[str]]:
    """The people on call in fake group 1 and the paths read."""
    with serve(rt_groups(groups)) as (base, seen):
        people = [p["person"] for p in source(url=base).on_call("Duty")]
    return people, [r.path for r in seen]


def test_nested_groups_are_followed_through_a_cycle_reading_each_group_and_each_person_once():
    people, read = read_on_call(
        {
            "1": [("user", "a"), ("group", "2"), ("group", "3")],
            "2": [("user", "b"), ("group", "1"), ("group", "3"), ("user", "a")],  # back to 1: a cycle
            "3": [("user", "c"), ("user", "b"), ("group", "2")],
        }
    )
    assert people == ["a", "b", "c"]
    groups = [path for path in read if path.startswith("/REST/2.0/group/")]
    assert groups == ["/REST/2.0/group/1", "/REST/2.0/group/2", "/REST/2.0/group/3"]
    assert [path for path in read if path.startswith("/REST/2.0/user/")] == [f"/REST/2.0/user/{p}" for p in "abc"]


def test_nested_groups_are_read_up_to_max_groups_then_refused_naming_the_source_and_group():
    limit = request_tracker.MAX_GROUPS
    chain = {str(g): [("user", f"u{g}"), ("group", str(g + 1))] for g in range(1, limit + 1)}
    with pytest.raises(SourceError, match=f"rt: on-call group 'Duty' nests more than {limit - 1} groups"):
        read_on_call(chain)
    people, read = read_on_call({**chain, str(limit): [("user", f"u{limit}")]})
    assert people == [f"u{g}" for g in range(1, limit + 1)]
    assert len([path for path in read if path.startswith("/REST/2.0/group/")]) == limit


def test_people_are_bounded_across_nested_groups_and_a_nested_record_not_a_dict_is_refused():
    many = request_tracker.itsm.MAX_ON_CALL
    groups = {"1": [("user", f"u{i}") for i in range(many)] + [("group", "2")], "2": [("user", "one.more")]}
    with pytest.raises(SourceError, match=f"rt: on-call group 'Duty' has {many + 1} people"):
        read_on_call(groups)
    with pytest.raises(SourceError, match="rt: expected a group record from REST2 group"):
        read_on_call({"1": [("user", "a"), ("group", "2")], "2": Reply(["not", "a", "record"])})
