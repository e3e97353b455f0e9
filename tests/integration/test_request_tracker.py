"""Request Tracker 5 for real: tickets created, updated and resolved through REST2, read back by the adapter."""

import logging
import os
import secrets
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pandas as pd
import pytest
import requests
import sqlalchemy as sa

from dashboard.command import actions, declared
from dashboard.command.oncall import OnCallSource
from dashboard.command.roster import on_call_answer, on_duty
from dashboard.command.source import CommandSource, ticket_marker
from dashboard.command.writeback import WritebackJob
from dashboard.core.poller import Poller
from dashboard.core.settings import parse
from dashboard.core.store import COMMAND_SOURCE, ONCALL_SOURCE, FrameStore, LocalFrameCache
from dashboard.db.history import History
from dashboard.db.tables import declared_incidents, incident_actions
from dashboard.security.access import AccessStore, Identity
from datasources.base import SourceError
from datasources.itsm.request_tracker import RequestTrackerSource
from layouts.components import duty
from tests.conftest import free_port, need
from tests.faults import wait_for_port

SETUP = Path("/usr/sbin/rt-setup-database")
SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
AUTH = ("root", "password")  # the password rt-setup-database gives root
SITE_CONFIG = """
Set($rtname, 'opscenter-test');
Set($Organization, 'opscenter.test');
Set($WebDomain, '127.0.0.1');
Set($WebPort, {port});
Set($WebBaseURL, 'http://127.0.0.1:{port}');
Set($DatabaseType, 'SQLite');
Set($DatabaseName, '{dir}/rt.sqlite');
Set($Timezone, 'UTC');
Set($LogToSTDERR, 'warning');
Set($LogToSyslog, undef);
Set($MasonDataDir, '{dir}/mason');
Set($MasonSessionDir, '{dir}/sessions');
1;
"""
INITIAL_DATA = """
@Queues = ({ Name => 'Incidents', Description => 'Production incidents' });
@CustomFields = ({ Name => 'Service', Type => 'FreeformSingle', LookupType => 'RT::Queue-RT::Ticket',
                   Queue => ['Incidents'] });
1;
"""


class RequestTracker:
    """A Request Tracker 5 on SQLite in ``home``, served standalone on a free loopback port; stoppable."""

    def __init__(self, home: Path):
        self.home, self.port = home, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        for name in ("mason", "sessions", "empty"):
            (home / name).mkdir()
        (home / "RT_SiteConfig.pm").write_text(SITE_CONFIG.format(port=self.port, dir=home))
        (home / "initialdata").write_text(INITIAL_DATA)
        self.env = {
            **os.environ,
            "RT_SITE_CONFIG": str(home / "RT_SiteConfig.pm"),
            "RT_SITE_CONFIG_DIR": str(home / "empty"),
        }
        for extra in ([], ["--action", "insert", "--datafile", str(home / "initialdata")]):
            args = [str(SETUP), *extra, "--skip-create"] if extra else [str(SETUP), "--action", "init", "--skip-create"]
            subprocess.run(args, env=self.env, check=True, capture_output=True, timeout=120)
        self.server: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and wait until REST2 answers."""
        with open(self.home / "server.log", "ab") as log:
            self.server = subprocess.Popen(
                [str(SERVER), "--server", "Standalone", "--port", str(self.port)],
                env=self.env,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{self.url}/REST/2.0/queues/all", auth=AUTH, timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            if self.server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"rt-server did not answer: {(self.home / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server and wait until its port refuses connections."""
        self.server.terminate()
        self.server.wait(timeout=20)
        wait_for_port(self.port, up=False)


@pytest.fixture(scope="session")
def rt_server(tmp_path_factory):
    """A running Request Tracker 5 shared by the module's tests."""
    if not (SETUP.exists() and SERVER.exists()):
        need("Request Tracker 5", "install request-tracker5 rt5-db-sqlite rt5-standalone")
    server = RequestTracker(tmp_path_factory.mktemp("rt"))
    server.start()
    try:
        yield server
    finally:
        if server.server.poll() is None:
            server.stop()


@pytest.fixture
def rt_url(rt_server):
    """The running Request Tracker's web root."""
    if rt_server.server.poll() is not None:  # a test that stopped it failed before starting it again
        rt_server.start()
    return rt_server.url


def rest(url, method, path, body):
    response = requests.request(method, f"{url}/REST/2.0/{path}", json=body, auth=AUTH, timeout=10)
    response.raise_for_status()
    return response.json()


def create(url, subject, priority, service):
    body = {"Queue": "Incidents", "Subject": subject, "Priority": priority, "CustomFields": {"Service": service}}
    return rest(url, "POST", "ticket", body)["id"]


def now():
    return datetime.now(UTC)


def test_tickets_created_updated_and_resolved_read_back(rt_url, caplog):
    source = RequestTrackerSource(
        name="rt",
        options={
            "url": rt_url,
            "username": AUTH[0],
            "password": AUTH[1],
            "page_size": 2,
            "priority_map": {"Urgent": 1},
        },
    )
    down = create(rt_url, "Order submissions failing", "High", "order-gateway")
    slow = create(rt_url, "Quotes slow", "Medium", "quote-service")
    urgent = create(rt_url, "Margin feed stalled", "Urgent", "margin-core")
    odd = create(rt_url, "Odd priority", "Critical", "ledger")
    rest(rt_url, "PUT", f"ticket/{slow}", {"Status": "open"})

    with caplog.at_level(logging.WARNING):
        first = source.fetch(now())["incidents"].set_index("incident_id")
    assert f"rt: incidents record RT-{odd} rejected: priority 'Critical'" in caplog.text  # a label RT does not know
    assert {f"RT-{down}", f"RT-{slow}"} <= set(first.index) and f"RT-{odd}" not in first.index
    new = first.loc[f"RT-{down}"]
    assert (new.state, new.priority, new.service, new.assignment_group) == ("new", 1, "order-gateway", "Incidents")
    assert (first.loc[f"RT-{slow}", "priority"], first.loc[f"RT-{urgent}", "priority"]) == (3, 1)
    assert pd.isna(new.acknowledged_at) and pd.isna(new.resolved_at)  # RT's 1970-01-01 means unset
    assert new.url == f"{rt_url}/Ticket/Display.html?id={down}"
    assert first.loc[f"RT-{slow}", "state"] == "in_progress" and not pd.isna(first.loc[f"RT-{slow}", "acknowledged_at"])

    rest(rt_url, "PUT", f"ticket/{down}", {"Status": "open"})
    rest(rt_url, "PUT", f"ticket/{down}", {"Status": "resolved"})
    second = source.fetch(now() + timedelta(seconds=1))["incidents"].set_index("incident_id")
    done = second.loc[f"RT-{down}"]
    assert done.state == "resolved" and done.acknowledged_at <= done.resolved_at
    assert len(second) == len(first)


def test_polls_after_the_first_ask_only_for_recent_updates(rt_url):
    source = RequestTrackerSource(
        name="rt", options={"url": rt_url, "username": AUTH[0], "password": AUTH[1], "overlap_s": 0}
    )
    queries = []
    send = source.transport.get

    def recorded(path, params=None):
        queries.append(f"{source.transport.url(path)}?{urlencode(params or {}, doseq=True)}")
        return send(path, params)

    source.transport.get = recorded
    create(rt_url, "Ledger postings delayed", "Low", "ledger")
    time.sleep(1.1)  # LastUpdated has whole seconds
    first = source.fetch(now())["incidents"]
    time.sleep(1.1)
    later = create(rt_url, "Margin calls late", "High", "margin-core")
    second = source.fetch(now())["incidents"]
    assert f"RT-{later}" in set(second["incident_id"]) and len(second) == len(first) + 1
    fetched = requests.get(queries[-1], auth=AUTH, timeout=10).json()
    assert [item["id"] for item in fetched["items"]] == [str(later)]  # the second poll saw only the new ticket


MANAGER = Identity("duty-manager", frozenset({"manager"}), "test")


@pytest.fixture
def writeback(rt_url, tmp_path):
    """A poller of the RT source with history and the write-back job, and the access store the page writes through."""
    source = RequestTrackerSource(name="rt", options={"url": rt_url, "username": AUTH[0], "password": AUTH[1]})
    history = History(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    history.migrate()
    store = FrameStore(LocalFrameCache(), sources=["rt"])
    poller = Poller([source], store, history)
    job = WritebackJob([source], history.engine, poller.leases)
    poller.after_polls.append(job)
    access = AccessStore(f"sqlite:///{tmp_path / 'history.sqlite3'}")
    yield poller, job, access, history.engine
    access.close()
    history.close()


def act(access, incident_id, action, detail=None) -> int:
    """An action as the incident page records it: through the audited write path."""
    with access.audited(MANAGER, f"incident.{action}", incident_id, detail) as connection:
        return actions.record(connection, "rt", incident_id, action, MANAGER.name, detail or {}, now())


def rt_notes(url, ticket) -> list[dict]:
    """The ticket's attachments with their subject and content."""
    items = rest(url, "GET", f"ticket/{ticket}/attachments?fields=Subject,Content&per_page=100", None)["items"]
    return [{"subject": i["Subject"], "content": i.get("Content") or ""} for i in items]


def state(engine, action_id) -> dict:
    with engine.connect() as connection:
        row = connection.execute(sa.select(incident_actions).where(incident_actions.c.id == action_id)).one()
    return dict(row._mapping)


def test_an_acknowledgement_and_a_note_reach_the_ticket_within_one_poll(writeback, rt_url):
    poller, job, access, engine = writeback
    ticket = create(rt_url, "Settlement files late", "High", "settlement")
    acknowledged = act(access, f"RT-{ticket}", "acknowledge")
    noted = act(access, f"RT-{ticket}", "note", {"text": "Failing over to the standby SFTP host.", "public": True})

    assert poller.tick() == ["rt"]  # one poll, then the write-back job

    assert rest(rt_url, "GET", f"ticket/{ticket}", None)["Status"] == "open"
    notes = {n["subject"]: n["content"] for n in rt_notes(rt_url, ticket)}
    assert notes[f"[opscenter action {acknowledged}]"].startswith(
        f"[opscenter action {acknowledged}] duty-manager acknowledged the incident in opscenter."
    )
    assert "Failing over to the standby SFTP host." in notes[f"[opscenter action {noted}]"]
    assert {state(engine, i)["writeback"] for i in (acknowledged, noted)} == {"delivered"}
    read_back = poller.sources[0].fetch(now())["incidents"].set_index("incident_id").loc[f"RT-{ticket}"]
    assert read_back.state == "in_progress" and pd.notna(read_back.acknowledged_at)
    assert [r["action"] for r in access.audit_trail()[:2]] == ["incident.note", "incident.acknowledge"]

    with engine.begin() as connection:  # delivered, but the mark lost: the retry finds the marker
        connection.execute(sa.update(incident_actions).values(writeback="pending"))
    assert job(now()) == 2
    subjects = [n["subject"] for n in rt_notes(rt_url, ticket)]
    assert (
        subjects.count(f"[opscenter action {noted}]") == 1 and subjects.count(f"[opscenter action {acknowledged}]") == 1
    )


def test_with_rt_stopped_actions_stay_queued_and_arrive_when_it_is_back(writeback, rt_server, rt_url):
    _poller, job, access, engine = writeback
    ticket = create(rt_url, "Margin feed stalled", "High", "margin-core")
    rt_server.stop()
    try:
        noted = act(access, f"RT-{ticket}", "note", {"text": "Vendor engaged."})
        resolved = act(access, f"RT-{ticket}", "resolve", {"text": "Feed restarted."})
        at = now()
        assert job(at) == 0
        first, waiting = state(engine, noted), state(engine, resolved)
        assert first["writeback"] == "pending" and first["attempts"] == 1 and "127.0.0.1" in first["last_error"]
        assert first["next_attempt_at"] > at
        assert waiting["writeback"] == "pending" and waiting["attempts"] == 0  # held behind the earlier one
        assert job(at) == 0 and state(engine, noted)["attempts"] == 1  # not due again before its back-off
    finally:
        rt_server.start()
    assert job(state(engine, noted)["next_attempt_at"]) == 2
    assert [state(engine, i)["writeback"] for i in (noted, resolved)] == ["delivered", "delivered"]
    assert rest(rt_url, "GET", f"ticket/{ticket}", None)["Status"] == "resolved"
    subjects = [n["subject"] for n in rt_notes(rt_url, ticket)]
    assert subjects.count(f"[opscenter action {noted}]") == 1 and subjects.count(f"[opscenter action {resolved}]") == 1


def test_a_priority_change_reaches_the_ticket_and_reads_back(writeback, rt_url):
    poller, job, access, _engine = writeback
    ticket = create(rt_url, "Quote fan-out lagging", "Low", "quote-service")
    for priority, number in ((2, "75"), (1, "100"), (3, "50")):
        act(access, f"RT-{ticket}", "priority", {"priority": priority})
        assert job(now()) == 1
        assert rest(rt_url, "GET", f"ticket/{ticket}", None)["Priority"] == number
        read_back = poller.sources[0].fetch(now())["incidents"].set_index("incident_id").loc[f"RT-{ticket}"]
        assert read_back.priority == priority


def test_declared_p1_and_p2_tickets_read_back_as_p1_and_p2(rt_url):
    source = RequestTrackerSource(name="rt", options={"url": rt_url, "username": AUTH[0], "password": AUTH[1]})
    opened = {}
    for priority in (1, 2):
        marker = f"[opscenter OC-{secrets.token_hex(4)} 20261207T0131Z]"  # the suite's RT outlives one database
        incident = {"title": "Order gateway rejecting orders", "service": "order-gateway", "priority": priority}
        opened[priority] = source.open_ticket(marker, incident)[0]
    read_back = source.fetch(now())["incidents"].set_index("incident_id")["priority"]
    assert (read_back[opened[1]], read_back[opened[2]]) == (1, 2)


def test_a_priority_an_rt_user_chooses_reads_as_documented(rt_url):
    """RT's High is P1, Medium P3, Low P5 (docs/sources.md, "Priorities in Request Tracker")."""
    source = RequestTrackerSource(name="rt", options={"url": rt_url, "username": AUTH[0], "password": AUTH[1]})
    chosen = {}
    for label in ("High", "Medium", "Low"):
        chosen[label] = create(rt_url, f"Chosen {label}", 0 if label != "Low" else 50, "ledger")
        rest(rt_url, "PUT", f"ticket/{chosen[label]}", {"Priority": label})  # as RT's priority menu sets it
    read_back = source.fetch(now())["incidents"].set_index("incident_id")["priority"]
    assert [read_back[f"RT-{chosen[label]}"] for label in ("High", "Medium", "Low")] == [1, 3, 5]


def test_a_ticket_an_old_site_numbered_1_reads_as_p1_and_the_status_names_it(rt_url):
    source = RequestTrackerSource(name="rt", options={"url": rt_url, "username": AUTH[0], "password": AUTH[1]})
    old = create(rt_url, "Numbered the old way", 1, "ledger")
    poller = Poller([source], FrameStore(LocalFrameCache(), sources=["rt"]), clock=now)
    status = poller.poll(source)
    read_back = poller.store.frame("incidents").set_index("incident_id").loc[f"RT-{old}"]
    assert (read_back.priority, read_back.x_priority_raw) == (1, "1")
    assert status["ok"] and f"RT-{old}" in status["warning"] and "priority_map" in status["warning"]


@pytest.fixture
def declaring(writeback):
    """The write-back poller with opscenter's own source added, opening the tickets of declared incidents in RT."""
    poller, _job, access, engine = writeback
    command = CommandSource(COMMAND_SOURCE, 10.0, engine=engine, target=poller.sources[0])
    poller.sources.append(command)
    job = WritebackJob(poller.sources, engine, poller.leases)
    poller.after_polls[:] = [job]
    return poller, job, command, access, engine


def declare(access, fields) -> str:
    """An incident declared as the /incidents form declares it: through the audited write path."""
    with access.audited(MANAGER, "incident.declare", "new", fields) as connection:
        return declared.declare(connection, MANAGER.name, fields, now())


def rt_tickets(url, subject) -> list[dict]:
    query = urlencode({"query": f"Subject LIKE '{subject}'", "fields": "Subject,Priority,Queue"})
    return rest(url, "GET", f"tickets?{query}", None)["items"]


def test_a_declared_incident_opens_its_ticket_once_and_its_actions_follow(declaring, rt_url):
    poller, job, command, access, engine = declaring
    title = f"Quotes frozen on the equity gateway {secrets.token_hex(4)}"  # the suite's RT outlives one database
    incident = declare(access, {"title": title, "service": "market-data", "priority": 1, "summary": "No ticks."})

    assert set(poller.tick()) == {"rt", COMMAND_SOURCE}  # one poll, then the write-back job opens the ticket

    [ticket] = rt_tickets(rt_url, title)
    linked = declared.get(engine, incident)
    assert ticket["Subject"] == f"{ticket_marker(incident, linked['opened_at'])} {title}"
    assert ticket["Subject"].startswith(f"[opscenter {incident} ")
    assert rest(rt_url, "GET", f"ticket/{ticket['id']}", None)["Priority"] == "100"  # P1: RT's High
    assert (linked["ticket_source"], linked["ticket_id"]) == ("rt", f"RT-{ticket['id']}")
    assert linked["ticket_url"] == f"{rt_url}/Ticket/Display.html?id={ticket['id']}"
    opened = actions.for_incident(engine, COMMAND_SOURCE, incident).set_index("action").loc["declare"]
    assert opened["writeback"] == "delivered"
    poller.poll(command)
    shown = poller.store.frame("incidents").set_index(["source", "incident_id"]).loc[(COMMAND_SOURCE, incident)]
    assert shown.url == linked["ticket_url"] and shown.x_ticket == f"RT-{ticket['id']}"

    with engine.begin() as connection:  # the ticket opened, but its link and the delivered mark lost: found again
        connection.execute(sa.update(incident_actions).values(writeback="pending"))
        connection.execute(sa.update(declared_incidents).values(ticket_source=None, ticket_id=None, ticket_url=None))
    assert job(now()) == 1
    assert [t["id"] for t in rt_tickets(rt_url, title)] == [ticket["id"]]
    assert declared.get(engine, incident)["ticket_id"] == f"RT-{ticket['id']}"

    with access.audited(MANAGER, "incident.acknowledge", incident) as connection:
        acknowledged = actions.record(connection, COMMAND_SOURCE, incident, "acknowledge", MANAGER.name, {}, now())
    assert job(now()) == 1
    assert rest(rt_url, "GET", f"ticket/{ticket['id']}", None)["Status"] == "open"
    assert f"[opscenter action {acknowledged}]" in [n["subject"] for n in rt_notes(rt_url, ticket["id"])]


ON_CALL_CONFIG = """
sources: [{kind: request_tracker, name: rt, url: "%s"}]
notifications:
  roster:
    people: {}
    levels:
      - {title: Duty manager, oncall: {source: rt, group: Duty managers on call}}
"""


def test_the_on_call_group_is_read_from_rt_and_its_last_good_answer_stays_marked_stale_while_rt_is_away(
    rt_server, rt_url
):
    people = [
        {"Name": "oc.zhang", "RealName": "Zhang Wei", "EmailAddress": "zhang.wei@example.com", "MobilePhone": "1380"},
        {"Name": "oc.li", "EmailAddress": "li.na@example.com"},
        {"Name": "oc.gone", "RealName": "Left Company", "EmailAddress": "gone@example.com", "Disabled": 1},
    ]
    for person in people:
        rest(rt_url, "POST", "user", person)
    rest(rt_url, "POST", "user", {"Name": "oc.other", "RealName": "Not In The Group"})
    group = rest(rt_url, "POST", "group", {"Name": "Duty managers on call"})["id"]
    members = [rest(rt_url, "GET", f"user/{p['Name']}", None)["id"] for p in people]
    rest(rt_url, "PUT", f"group/{group}/members", members)

    source = RequestTrackerSource(name="rt", options={"url": rt_url, "username": AUTH[0], "password": AUTH[1]})
    assert sorted(source.on_call("Duty managers on call"), key=lambda p: p["person"]) == [
        {"person": "oc.li", "name": "oc.li", "email": "li.na@example.com", "mobile": None},
        {"person": "oc.zhang", "name": "Zhang Wei", "email": "zhang.wei@example.com", "mobile": "1380"},
    ]
    with pytest.raises(SourceError, match="expected one Request Tracker group named 'Nobody', found 0"):
        source.on_call("Nobody")
    with pytest.raises(SourceError, match="found 0"):  # a system group of that name is not an on-call group
        source.on_call("Privileged")

    roster = parse(ON_CALL_CONFIG % rt_url).notifications.current_roster()
    clock = [now()]
    reader = OnCallSource(ONCALL_SOURCE, 60, roster=lambda: roster, readers={"rt": source})
    store = FrameStore(LocalFrameCache(), sources=["rt"])
    poller = Poller([reader], store, clock=lambda: clock[0])

    def answer():
        return on_call_answer(store.frame("on_call"), store.status(ONCALL_SOURCE), clock[0])

    def wall():
        (level,) = duty.entries(on_duty(roster, clock[0], "UTC", answer()), "UTC")
        return sorted(level["people"]), level["read"], level["as_of"]

    assert poller.poll(reader)["ok"]
    read_at = clock[0]
    assert wall() == (["Zhang Wei", "oc.li"], None, None)
    renamed = parse(ON_CALL_CONFIG.replace("Duty managers on call", "Heads on call") % rt_url).notifications
    (level,) = duty.entries(on_duty(renamed.current_roster(), clock[0], "UTC", answer()), "UTC")
    assert (level["people"], level["read"]) == ([], "unread")  # a group the roster names since the last read
    rt_server.stop()
    try:
        clock[0] += timedelta(minutes=2)
        status = poller.poll(reader)
        assert not status["ok"] and "group 'Duty managers on call' of rt" in status["error"]
        shown = wall()
        assert shown == (["Zhang Wei", "oc.li"], "stale", read_at.strftime("%H:%M"))
        level = {"itsm": "rt", "read": shown[1], "as_of": shown[2]}
        assert duty.read_note(level, "en") == f"(as of {shown[2]}: rt not answering)"
    finally:
        rt_server.start()


def test_an_on_call_group_s_nested_groups_are_followed_reading_each_group_and_each_person_once(rt_url):
    def user(name, real_name):
        rest(rt_url, "POST", "user", {"Name": name, "RealName": real_name, "EmailAddress": f"{name}@example.com"})
        return rest(rt_url, "GET", f"user/{name}", None)["id"]

    def group(name, *members):
        found = rest(rt_url, "POST", "group", {"Name": name})["id"]
        rest(rt_url, "PUT", f"group/{found}/members", list(members))
        return found

    direct, inner, deep, off = (user(f"nest.{n}", n.title()) for n in ("direct", "inner", "deep", "off"))
    deepest = group("Nest deepest", deep)
    retired = group("Nest retired", off)  # disabled below: RT no longer counts its members in the groups above
    rest(rt_url, "PUT", f"group/{retired}", {"Disabled": 1})
    nested = group("Nest DBA on call", inner, direct, deepest, retired)
    outer = group("Nest duty on call", direct, nested, deepest)  # deepest reached twice, direct in two groups
    (refused,) = rest(rt_url, "PUT", f"group/{nested}/members", [outer])  # RT makes no cycle: see the unit test
    assert refused == "Groups can't be members of their members"

    source = RequestTrackerSource(name="rt", options={"url": rt_url, "username": AUTH[0], "password": AUTH[1]})
    read, get = [], source.transport.get
    source.transport.get = lambda path, params=None: read.append(path) or get(path, params)
    people = [p["person"] for p in source.on_call("Nest duty on call")]  # in the order RT lists members
    assert people[0] == "nest.direct" and sorted(people) == ["nest.deep", "nest.direct", "nest.inner"]
    groups = sorted(path for path in read if path.startswith("REST/2.0/group/"))
    assert groups == sorted(f"REST/2.0/group/{g}" for g in (outer, nested, deepest, retired))
    assert [path for path in read if path.startswith("REST/2.0/user/")] == [f"REST/2.0/user/{p}" for p in people]
