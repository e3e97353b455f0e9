"""Secrets out of error texts and logs; the history queue keeps writes while the database is away."""

import logging

import pandas as pd
import pytest

from dashboard.core.poller import HistoryQueue
from dashboard.security.redact import RedactingFilter, redact

SECRETS = [
    ("GET https://svc:hunter2@itsm.example/api/now/table/incident: 401", "hunter2"),
    ("GET https://s3cr3tT0ken@jira.example/rest/api/2/search: refused", "s3cr3tT0ken"),
    ("postgresql://ops:pa55word@db:5432/history: connection refused", "pa55word"),
    ("GET http://rt.example/REST/2.0/tickets?token=abcdef123456&page=2: timed out", "abcdef123456"),
    ("header Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y rejected", "eyJhbGciOiJIUzI1NiJ9"),
    ('{"api_key": "k-9988776655", "password": "swordfish"}', "k-9988776655"),
    ('{"api_key": "k-9988776655", "password": "swordfish"}', "swordfish"),
    ('127.0.0.1 - - "GET /wall?kiosk=1&%74oken=Wq3-abcdef_123 HTTP/1.1" 302', "Wq3-abcdef_123"),
    ('127.0.0.1 - - "GET /wall?t%6F%6Ben=Wq3-abcdef_123&kiosk=1 HTTP/1.1" 302', "Wq3-abcdef_123"),
    ('127.0.0.1 - - "GET /wall?kiosk=1&%54OKEN=Wq3-abcdef_123 HTTP/1.1" 302', "Wq3-abcdef_123"),
]


@pytest.mark.parametrize("text, secret", SECRETS)
def test_secrets_are_redacted(text, secret):
    cleaned = redact(text)
    assert secret not in cleaned and "***" in cleaned


def test_plain_text_is_left_alone():
    text = "prometheus: GET http://127.0.0.1:9090/api/v1/query_range: HTTP 503"
    assert redact(text) == text and redact(None) is None


def test_the_logging_filter_redacts_messages_and_tracebacks(caplog):
    logger = logging.getLogger("opscenter.test.redact")
    caplog.handler.addFilter(RedactingFilter())
    logger.warning("source failed: %s", "https://u:topsecret@x.example/")
    try:
        raise RuntimeError("connect to https://u:tracesecret@x.example failed")
    except RuntimeError:
        logger.exception("poll crashed")
    assert "topsecret" not in caplog.text and "tracesecret" not in caplog.text and "***" in caplog.text


class FlakyHistory:
    def __init__(self):
        self.up, self.rows = False, []

    def record_status(self, df):
        if not self.up:
            raise ConnectionError("database away")
        self.rows.append(("source_status", len(df)))

    def upsert(self, frame, df):
        self.record_status(df)
        self.rows[-1] = (frame, len(df))


def test_the_history_queue_keeps_order_and_flushes_when_the_database_returns():
    history = FlakyHistory()
    queue = HistoryQueue(history)
    for frame in ("incidents", "source_status", "changes"):
        queue.add(frame, pd.DataFrame({"a": [1]}))
        assert not queue.flush()
    history.up = True
    assert queue.flush() and len(queue) == 0
    assert [f for f, _ in history.rows] == ["incidents", "source_status", "changes"]


def test_a_full_history_queue_drops_status_rows_before_entities():
    queue = HistoryQueue(FlakyHistory(), limit=3)
    for frame in ("incidents", "source_status", "changes", "chaos_runs"):
        queue.add(frame, pd.DataFrame({"a": [1]}))
    assert [f for f, _ in queue._items] == ["incidents", "changes", "chaos_runs"] and queue.dropped == 1
