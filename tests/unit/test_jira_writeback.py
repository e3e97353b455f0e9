"""Jira write-back against a stateful fake of its REST API v3: comments once, transitions, assignee, priority."""

from datetime import UTC, datetime, timedelta

import pytest

from datasources.itsm.jira import JiraSource, adf, adf_text
from tests.fake_itsm import Outbox, marked
from tests.fake_jira import FakeJira, adf_problem
from tests.loopback_http import serve

T0 = datetime(2026, 11, 18, 1, 31, tzinfo=UTC)
ACCOUNT = "5b10ac8d82e05b22cc7d4ef5"


@pytest.fixture
def site(tmp_path):
    """A fake Jira site, a source writing back to it, and the outbox delivering to it."""
    fake = FakeJira(accounts=[ACCOUNT])
    with serve(fake) as (base, seen):
        options = {"url": base, "username": "opscenter", "token": "s3cret", "account_ids": {"zhang.min": ACCOUNT}}
        source = JiraSource(name="jsm", options=options)
        box = Outbox(tmp_path / "history.sqlite3", [source])
        yield fake, box, seen
        box.close()


def test_text_becomes_a_valid_document_and_reads_back():
    text = "[opscenter action 7] li.wei added a note in opscenter.\n\nline one\nline two\n\n\n"
    doc = adf(text)
    assert adf_problem(doc) is None
    assert adf_text(doc) == "[opscenter action 7] li.wei added a note in opscenter.line oneline two"
    assert [p["content"][1] for p in doc["content"][1:]] == [{"type": "hardBreak"}]


def test_each_action_lands_once_and_moves_the_issue(site):
    fake, box, seen = site
    fake.add_issue("OPS-101")
    taken = [
        ("acknowledge", {}),
        ("assign", {"role": "commander", "user": "zhang.min"}),
        ("assign", {"role": "communications", "user": "wang.fang"}),
        ("priority", {"priority": 1}),
        ("note", {"text": "Orders are queueing at the gateway.\nFailover in progress.", "public": True}),
        ("resolve", {"text": "Gateway restarted."}),
    ]
    ids = [box.act("jsm", "OPS-101", a, T0 + timedelta(minutes=m), d) for m, (a, d) in enumerate(taken)]

    assert box.job(T0 + timedelta(minutes=10)) == len(ids)

    issue = fake.issues["OPS-101"]
    assert (issue["status"], issue["resolution"], issue["assignee"], issue["priority"]) == (
        "Resolved",
        "Done",
        ACCOUNT,
        "Highest",
    )
    public, internal = fake.comments("OPS-101", internal=False), fake.comments("OPS-101", internal=True)
    assert [marked(public, i) for i in ids] == [0, 0, 0, 0, 1, 0]
    assert [marked(internal, i) for i in ids] == [1, 1, 1, 1, 0, 1]
    assert "Orders are queueing at the gateway.\nFailover in progress." in public[0]
    assert fake.rejected == []
    moves = [r.body["transition"]["id"] for r in seen if r.method == "POST" and r.path.endswith("/transitions")]
    assert moves == ["11", "21"]  # Start work, then Resolve

    box.pending()  # every mark lost: the comments are found (over several pages), nothing is sent again
    before = len(seen)
    assert box.job(T0 + timedelta(minutes=11)) == len(ids)
    assert len(fake.comments("OPS-101")) == len(ids)
    assert [r.method for r in seen[before:]] == ["GET"] * (len(seen) - before)


def test_an_issue_moved_on_in_jira_is_left_where_it_is(site, caplog):
    fake, box, seen = site
    fake.add_issue("OPS-102", status="Pending")
    fake.add_issue("OPS-103", status="Resolved")
    box.act("jsm", "OPS-102", "acknowledge", T0)
    box.act("jsm", "OPS-103", "acknowledge", T0)
    box.act("jsm", "OPS-103", "resolve", T0)
    box.act("jsm", "OPS-102", "assign", T0, {"role": "commander", "user": "nobody"})
    assert box.job(T0) == 4
    assert fake.issues["OPS-102"]["status"] == "Pending" and fake.issues["OPS-103"]["status"] == "Resolved"
    assert fake.issues["OPS-102"]["assignee"] is None
    assert not any(r.path.endswith("/transitions") for r in seen)
    assert "no account_ids entry for 'nobody'" in caplog.text
    assert len(fake.comments("OPS-102")) == 2 and len(fake.comments("OPS-103")) == 2


def test_no_transition_to_a_configured_status_is_logged_and_the_comment_kept(site, caplog):
    fake, box, _seen = site
    fake.add_issue("OPS-104", status="Pending")
    resolved = box.act("jsm", "OPS-104", "resolve", T0)
    assert box.job(T0) == 1
    assert fake.issues["OPS-104"]["status"] == "Pending" and marked(fake.comments("OPS-104"), resolved) == 1
    assert "no transition from 'Pending' to any of ['Resolved', 'Done', 'Closed']" in caplog.text
