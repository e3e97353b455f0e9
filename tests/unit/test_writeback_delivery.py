"""Write-back delivery against the fakes of ServiceNow and Jira: once after a timeout the ITSM had already
acted on, kept pending with back-off on a 5xx, a refused credential said plainly, no credentials off the host."""

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.command.writeback import FIRST_RETRY_S
from datasources.itsm.jira import JiraSource
from datasources.itsm.servicenow import ServiceNowSource
from tests.fake_itsm import Outbox, marked
from tests.fake_jira import FakeJira
from tests.fake_servicenow import FakeServiceNow
from tests.loopback_http import Reply, serve

T0 = datetime(2026, 11, 18, 1, 31, tzinfo=UTC)


@dataclass
class Kind:
    fake: type
    source: type
    incident: str

    def add(self, fake) -> None:
        if isinstance(fake, FakeJira):
            fake.add_issue(self.incident)
        else:
            fake.add_incident(self.incident)

    def notes(self, fake) -> list[str]:
        return fake.comments(self.incident) if isinstance(fake, FakeJira) else fake.journal(self.incident)


KINDS = {
    "servicenow": Kind(FakeServiceNow, ServiceNowSource, "INC0010042"),
    "jira": Kind(FakeJira, JiraSource, "OPS-101"),
}


@pytest.fixture(params=sorted(KINDS))
def itsm(request, tmp_path):
    """One kind's fake with one incident, and a way to build the outbox of a source pointed at it."""
    kind = KINDS[request.param]
    fake = kind.fake()
    kind.add(fake)
    with serve(fake) as (base, seen):
        boxes = []

        def outbox(password="s3cret", **options) -> Outbox:
            auth = {"url": base, "username": "opscenter", "password": password, "timeout_s": 1, "retries": 0}
            source = kind.source(name="itsm", options={**auth, **options})
            boxes.append(Outbox(tmp_path / f"history{len(boxes)}.sqlite3", [source]))
            return boxes[-1]

        yield kind, fake, outbox, seen
        for box in boxes:
            box.close()


def test_an_action_applied_but_timed_out_is_delivered_once_on_the_retry(itsm):
    kind, fake, outbox, _seen = itsm
    box = outbox(retries=2)  # the transport's own retries must not send the note again either
    noted = box.act("itsm", kind.incident, "note", T0, {"text": "Failing over."})
    fake.stall = threading.Event()
    try:
        assert box.job(T0) == 0
    finally:
        fake.stall.set()
        fake.stall = None
    first = box.row(noted)
    assert first["writeback"] == "pending" and "timed out" in first["last_error"]
    assert marked(kind.notes(fake), noted) == 1  # the ITSM had taken it

    assert box.job(first["next_attempt_at"]) == 1
    assert box.row(noted)["writeback"] == "delivered"
    assert marked(kind.notes(fake), noted) == 1 and fake.rejected == []


def test_a_server_error_leaves_the_action_pending_with_back_off_and_the_incident_in_order(itsm):
    kind, fake, outbox, _seen = itsm
    box = outbox()
    noted = box.act("itsm", kind.incident, "note", T0, {"text": "Vendor engaged."})
    resolved = box.act("itsm", kind.incident, "resolve", T0, {"text": "Restarted."})
    fake.failures = [Reply({"error": "maintenance"}, 503)]
    assert box.job(T0) == 0
    first, waiting = box.row(noted), box.row(resolved)
    assert first["attempts"] == 1 and "HTTP 503" in first["last_error"]
    assert first["next_attempt_at"] == T0 + timedelta(seconds=FIRST_RETRY_S)
    assert (waiting["writeback"], waiting["attempts"]) == ("pending", 0)  # held behind the earlier one
    assert box.job(T0 + timedelta(seconds=FIRST_RETRY_S / 2)) == 0 and box.row(noted)["attempts"] == 1

    assert box.job(first["next_attempt_at"]) == 2
    assert [marked(kind.notes(fake), i) for i in (noted, resolved)] == [1, 1]


def test_refused_credentials_are_a_clear_error_and_the_action_waits(itsm):
    kind, fake, outbox, seen = itsm
    box = outbox(password="wrong-password")
    noted = box.act("itsm", kind.incident, "note", T0, {"text": "Vendor engaged."})
    assert box.job(T0) == 0
    row = box.row(noted)
    assert row["writeback"] == "pending"
    assert "itsm: write-back refused: the ITSM did not accept the credentials (HTTP 401)" in row["last_error"]
    assert "wrong-password" not in row["last_error"]
    assert kind.notes(fake) == [] and {r.method for r in seen} == {"GET"}


def test_credentials_follow_a_redirect_on_the_source_only(itsm):
    kind, fake, outbox, seen = itsm
    box = outbox()
    with serve(lambda request, base: Reply({})) as (elsewhere, seen_elsewhere):
        fake.failures = [Reply(b"", 307, {"Location": seen_path_on(elsewhere.replace("127.0.0.1", "localhost"))})]
        noted = box.act("itsm", kind.incident, "note", T0, {"text": "Vendor engaged."})
        assert box.job(T0) == 0
        assert seen_elsewhere == []
        assert "refusing a redirect (HTTP 307)" in box.row(noted)["last_error"]

        fake.failures = [Reply(b"", 308, {"Location": "/api/moved"})]  # on the source: followed, with credentials
        assert box.job(box.row(noted)["next_attempt_at"]) == 0
        assert seen[-1].path == "/api/moved" and seen[-1].headers.get("Authorization") == fake.auth


def seen_path_on(base: str) -> str:
    return f"{base}/api/elsewhere"
