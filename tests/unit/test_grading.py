"""The grading table, the grade it proposes, the minutes that count (only in session) and the reports it makes due."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from dashboard.analytics import calendar
from dashboard.command import grading
from dashboard.core.settings import ConfigError, parse

CN = calendar.MARKETS["cn"]
SH = ZoneInfo("Asia/Shanghai")
TABLE = grading.load()
SOURCES = "sources:\n  - {kind: demo, name: demo}\n"


def at(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz=SH).tz_convert("UTC")


@pytest.mark.parametrize(
    ("tier", "minutes", "chains", "grade"),
    [
        (1, 4, 1, "general"),  # under 5 minutes of trading
        (1, 5, 1, "relatively_major"),  # 2012 art. 12(4)
        (1, 29, 2, "relatively_major"),
        (1, 30, 1, "major"),  # 2012 art. 11(4)
        (1, 119, 5, "major"),
        (1, 120, 2, "major"),  # long enough, but on too few chains for the highest grade
        (1, 120, 3, "extraordinary"),
        (2, 29, 3, "general"),
        (2, 30, 1, "relatively_major"),  # 2012 art. 12(5)
        (2, 500, 9, "relatively_major"),  # tier 2 never reaches the higher grades
        (3, 500, 9, "general"),
        (None, 500, 0, "general"),  # no service of known tier
    ],
)
def test_the_default_table_proposes(tier, minutes, chains, grade):
    names = tuple(f"chain-{i}" for i in range(chains))
    proposal = grading.propose(TABLE, "order-gateway" if tier else None, tier, minutes, names)
    assert proposal.grade == grade
    kinds = [kind for kind, _ in proposal.reasons]
    assert kinds[:3] == ["service" if tier else "no_service", "session", "chains"]
    assert kinds[3] == ("below" if grade == "general" else "rule_chains" if grade == "extraordinary" else "rule")


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        ("2026-12-04 09:35", "2026-12-04 09:50", 15),  # a Friday morning: all in session
        ("2026-12-04 11:20", "2026-12-04 13:10", 20),  # over the lunch break: 10 before, 10 after
        ("2026-12-04 15:00", "2026-12-04 21:00", 0),  # after the close
        ("2026-12-04 14:50", "2026-12-07 09:40", 10 + 25),  # over the weekend: Friday's close, Monday's open
        ("2026-12-05 09:00", "2026-12-05 16:00", 0),  # a Saturday
        ("2026-10-01 09:00", "2026-10-01 16:00", 0),  # National Day
        ("2026-12-04 09:00", "2026-12-04 09:15", 0),  # before the opening auction
        ("2026-12-04 10:00", "2026-12-04 10:00", 0),
    ],
)
def test_only_minutes_in_session_count(start, end, minutes):
    assert grading.minutes_in_session(at(start), at(end), CN) == minutes


def test_a_declared_closure_does_not_count():
    closure = calendar.Closure("cn", at("2026-12-04 10:00"), at("2026-12-04 10:30"), "typhoon")
    other = calendar.Closure("hk", at("2026-12-04 09:00"), at("2026-12-04 16:00"), "typhoon")
    assert grading.minutes_in_session(at("2026-12-04 09:30"), at("2026-12-04 11:00"), CN, (closure, other)) == 60


def test_the_hong_kong_market_counts_its_own_sessions():
    hk = calendar.MARKETS["hk"]
    # Hong Kong breaks for lunch from 12:00 to 13:00 (the same clock as Shanghai), Shanghai from 11:30
    assert grading.minutes_in_session(at("2026-12-04 11:30"), at("2026-12-04 13:30"), hk) == 60
    assert grading.minutes_in_session(at("2026-12-04 11:30"), at("2026-12-04 13:30"), CN) == 30
    assert TABLE.market_of("order-gateway") == "cn"


def test_reports_fall_due_after_discovery_and_after_recovery_in_trading_days():
    opened, resolved = at("2026-12-04 10:00"), at("2026-12-04 11:00")
    due = grading.due(TABLE, "major", opened, resolved, CN)
    assert [(d.report, when) for d, when in due] == [
        ("initial", at("2026-12-04 10:30")),
        ("summary", at("2026-12-12 00:00")),  # five trading days after Friday: Monday to Friday, the end of the day
    ]
    assert grading.due(TABLE, "general", opened, None, CN)[0][1] is None  # not yet recovered


def table(text: str) -> str:
    base = "basis: a test\ngrades:\n  major:\n    - {tiers: [1], session_minutes: 10}\n"
    return base + text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("market: nyse\n", "market: expected one of cn, hk, futures"),
        ("grades: {major: [{tiers: [4]}]}\n", "grades.major.0.tiers"),
        ("deadlines: {major: [{report: initial, after: discovery}]}\n", "exactly one of minutes and trading_days"),
        ("deadlines: {major: [{report: fax, after: discovery, minutes: 5}]}\n", "deadlines.major.0.report"),
        ("deadlines: {urgent: []}\n", "deadlines.urgent: unknown key"),
        ("colour: red\n", "colour: unknown key"),
    ],
)
def test_a_bad_table_is_refused_with_its_line(text, message):
    source = table("") if text.startswith("grades:") else table(text)
    if text.startswith("grades:"):
        source = "basis: a test\n" + text
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        grading.parse(source, "t.yaml")


def test_the_general_grade_takes_no_rules_and_a_basis_is_required():
    with pytest.raises(ConfigError, match="grades.general"):
        grading.parse("basis: x\ngrades:\n  general:\n    - {tiers: [1]}\n")
    with pytest.raises(ConfigError, match="basis"):
        grading.parse("grades: {}\n")


def test_the_config_names_a_table_and_it_is_checked_at_load(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(table(""))
    bad.write_text("basis: x\nmarket: mars\n")
    config = tmp_path / "config.yaml"
    settings = parse(SOURCES + "grading_table: good.yaml\n", str(config))
    assert grading.load(settings.grading_table).rules["major"][0].session_minutes == 10
    with pytest.raises(ConfigError, match="config.yaml:3: grading_table: the grading table does not load"):
        parse(SOURCES + "grading_table: bad.yaml\n", str(config))


def test_the_default_table_cites_its_source():
    assert "CSRC" in TABLE.basis and "2021" in TABLE.basis


def test_a_month_is_the_most_that_is_counted():
    start = datetime(2026, 1, 5, 9, 30, tzinfo=SH)
    long = grading.minutes_in_session(pd.Timestamp(start), pd.Timestamp(start) + pd.Timedelta(days=90), CN)
    month = grading.minutes_in_session(pd.Timestamp(start), pd.Timestamp(start) + pd.Timedelta(days=31), CN)
    assert long == month > 0
