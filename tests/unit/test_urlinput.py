"""The URL value check: allowed characters and lengths, injection strings refused."""

from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.core.settings import ConfigError
from dashboard.i18n import pick_lang
from dashboard.maturity import model as catalogue
from dashboard.security.urlinput import KINDS, UrlInputError, clean, instant, window

INJECTIONS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR '1'='1",
    "1; DROP TABLE incidents--",
    'x"}) or vector(1)',
    'x"} or up{job=~".+',
    "priority=1^ORstate!=7",
    "project = OPS OR 1=1",
    "../../etc/passwd",
    "%2e%2e%2f",
    "a b",
    "a\nb",
    "a\x00b",
    "${OPSCENTER_SECRET}",
    "{{7*7}}",
    "javascript:alert(1)",
    "é",
    "x" * 300,
]
VALID = {
    "chain": ["equity-trading", "margin_financing", "A1.b"],
    "service": ["quote-service", "pretrade-risk-2", "svc:8080"],
    "trace_id": ["4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"],
    "incident_id": ["INC0012345", "OPS-123", "4711"],
    "lang": ["en", "zh"],
    "calls": ["failed", "slowest"],
    "playlist": ["operations", "night-shift"],
    "site": ["sh-dc1", "cn-shanghai-a", "aws:ap-east-1"],
    "time": ["now", "now-15m", "2024-03-01T08:00:00+08:00", "1709280000000"],
    "item": ["MON-01", "HA-04", "ops.rota_2"],
    "actor": ["alice", "display:lobby-wall", "cli:root", "j.doe@example.com", "local"],
    "action": ["audit.export", "incident.acknowledge", "audit.read"],
    "page": ["1", "42", "999999"],
    "preplan": ["order-gateway-down", "site_failover.v2", "bcm9"],
    "version": ["1", "12"],
}


@pytest.mark.parametrize("kind", KINDS)
def test_valid_values_pass_unchanged(kind):
    for value in VALID[kind]:
        assert clean(kind, value) == value


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("value", INJECTIONS)
def test_injection_strings_are_refused(kind, value):
    with pytest.raises(UrlInputError) as error:
        clean(kind, value)
    assert kind in str(error.value) and len(str(error.value)) < 200


def test_missing_values_take_the_default():
    assert clean("lang", None, "zh") == "zh"
    assert clean("chain", "") is None


@pytest.mark.parametrize(
    "kind, value",
    [
        ("trace_id", "abc"),
        ("trace_id", "g" * 32),
        ("lang", "fr"),
        ("playlist", "Operations"),
        ("chain", "-x"),
        ("chain", "x" * 65),
        ("item", "MON 01"),
        ("item", "x" * 33),
        ("item", ".hidden"),
    ],
)
def test_values_outside_their_kind_are_refused(kind, value):
    with pytest.raises(UrlInputError):
        clean(kind, value)


@given(st.sampled_from(KINDS), st.text(max_size=200))
def test_accepted_values_never_carry_markup_quotes_or_whitespace(kind, value):
    try:
        accepted = clean(kind, value)
    except UrlInputError:
        return
    assert accepted is None or not set(accepted) & set("<>\"'`;{}()[]=&%$\\/ \t\r\n\0")


def test_window_checks_then_resolves():
    now = datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert window("now-6h", None, now).start.hour == 6
    for raw in ("now-1h' OR 1=1", "<script>", "x" * 41):
        with pytest.raises(UrlInputError):
            window(raw, "now", now)
    with pytest.raises(UrlInputError, match="before"):
        window("now", "now-1h", now)


def test_page_language_goes_through_the_check():
    assert pick_lang("zh", "en") == "zh"
    assert pick_lang("<script>", "en") == "en"
    assert pick_lang(None, "zh") == "zh"


def test_every_catalogue_item_id_is_a_valid_item_and_the_catalogue_refuses_any_other():
    model = catalogue.load()
    assert all(clean("item", item.id) == item.id for item in model.items)
    with pytest.raises(ConfigError, match="items.0.id"):
        catalogue.parse(
            "domains: {a: A}\nitems:\n  - {id: 'MON 01', domain: a, level: 1, title: t, description: d, rule: manual}\n"
        )


def test_one_bound_of_an_open_range():
    now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    assert instant("from", None, now) is None and instant("to", "", now) is None
    assert instant("from", "now-2d", now) == pd.Timestamp("2026-02-28T12:00Z")
    assert instant("to", "2026-03-01T08:00:00+08:00", now) == pd.Timestamp("2026-03-01T00:00Z")
    with pytest.raises(UrlInputError, match="not 'now'"):
        instant("from", "yesterday", now)
