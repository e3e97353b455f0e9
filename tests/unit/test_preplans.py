"""The pre-plan library: files validated one by one (a bad one named by file, line and key, the others kept),
versions kept side by side, and the pre-plan and version an incident opens."""

from pathlib import Path

import pandas as pd
import pytest

from dashboard.command import preplans
from dashboard.core.settings import DEFAULT_CONFIG, ConfigError, load, parse

PLAN = """\
id: gateway-down
version: {version}
{effective}title: Gateway down
services: [order-gateway]
steps:
  - text: Confirm
    owner: duty manager
    minutes: 5
  - text: Roll back
    owner: on-call
    minutes: 15
    escalation: Call the head of trading
"""


def plan_text(version: int = 1, effective: str | None = None) -> str:
    return PLAN.format(version=version, effective=f"effective: {effective}\n" if effective else "")


def test_the_shipped_library_loads_whole():
    library = preplans.load(load(DEFAULT_CONFIG).preplans.path)
    assert library.errors == ()
    assert {p.id for p in library.plans} >= {"order-gateway-down", "market-data-stall", "site-failover"}
    assert [p.version for p in library.versions("order-gateway-down")] == [1, 2]


@pytest.mark.parametrize(
    "change, error",
    [
        (("    minutes: 5\n", "    minuts: 5\n"), "f.yaml:8: steps.0.minuts: unknown option; did you mean 'minutes'?"),
        (("    minutes: 15\n", "    minutes: -1\n"), "f.yaml:11: steps.1.minutes: must be greater than 0"),
        (("version: 1\n", "version: one\n"), "f.yaml:2: version: expected a number, got 'one'"),
        (("services: [order-gateway]\n", ""), "f.yaml:1: (top level): a pre-plan needs services, a scenario, or both"),
        (("id: gateway-down", "id: Gateway Down"), "f.yaml:1: id: "),
    ],
)
def test_a_bad_file_is_named_by_file_line_and_key(change, error):
    with pytest.raises(ConfigError) as raised:
        preplans.parse(plan_text().replace(*change), "f.yaml")
    assert str(raised.value).startswith(error)


def test_a_bad_file_is_left_out_and_the_others_load(tmp_path):
    (tmp_path / "a-good.yaml").write_text(plan_text())
    (tmp_path / "bad.yaml").write_text(plan_text(2).replace("owner: on-call", "owner: ''"))
    (tmp_path / "again.yml").write_text(plan_text())
    (tmp_path / "notes.txt").write_text("not a pre-plan")
    library = preplans.load(tmp_path)
    assert [p.key for p in library.plans] == [("gateway-down", 1)]
    assert library.errors == (
        f"{tmp_path / 'again.yml'}: id: gateway-down version 1 is already in {tmp_path / 'a-good.yaml'}",
        f"{tmp_path / 'bad.yaml'}:10: steps.1.owner: String should have at least 1 character",
    )


def test_a_missing_directory_is_an_error_and_no_path_no_library(tmp_path):
    assert preplans.load(tmp_path / "nowhere").errors == (f"{tmp_path / 'nowhere'}: pre-plan directory not found",)
    assert preplans.load(None) == preplans.Library()


def test_the_config_names_the_directory_relative_to_itself(tmp_path):
    settings = parse("sources: [{kind: demo, name: demo}]\npreplans: {path: plans}\n", str(tmp_path / "c.yaml"))
    assert settings.preplans.path == str(tmp_path / "plans")
    with pytest.raises(ConfigError, match="c.yaml:2: preplans: expected a mapping"):
        parse("sources: [{kind: demo, name: demo}]\npreplans: {dir: plans}\n", str(tmp_path / "c.yaml"))


@pytest.fixture
def library(tmp_path) -> preplans.Library:
    (tmp_path / "v1.yaml").write_text(plan_text(1, "2026-01-05"))
    (tmp_path / "v2.yaml").write_text(plan_text(2, "2026-11-01"))
    (tmp_path / "wide.yaml").write_text(
        plan_text().replace("gateway-down", "site-failover").replace("[order-gateway]", "[order-gateway, clearing]")
    )
    return preplans.load(tmp_path)


@pytest.mark.parametrize(
    "service, url, opened, expected",
    [
        ("order-gateway", None, "2026-11-20", ("gateway-down", 2)),  # the version in force when it opened
        ("order-gateway", None, "2026-10-31", ("gateway-down", 1)),
        ("order-gateway", None, "2025-12-31", ("gateway-down", 1)),  # before any: the first
        ("clearing", None, "2026-11-20", ("site-failover", 1)),
        ("order-gateway", "https://runbooks/site-failover/", "2026-11-20", ("site-failover", 1)),  # the URL names it
        ("order-gateway", "https://runbooks/unknown", "2026-11-20", ("gateway-down", 2)),
        ("ledger", None, "2026-11-20", None),
    ],
)
def test_an_incident_opens_its_services_preplan_in_the_version_of_its_opening(library, service, url, opened, expected):
    plan = library.for_incident(service, url, pd.Timestamp(opened, tz="Asia/Shanghai"))
    assert (plan.key if plan else None) == expected


def test_the_library_as_a_frame_has_a_row_per_version_and_service(library):
    frame = library.frame()
    assert frame[["preplan_id", "version", "service"]].values.tolist() == [
        ["gateway-down", 1, "order-gateway"],
        ["gateway-down", 2, "order-gateway"],
        ["site-failover", 1, "order-gateway"],
        ["site-failover", 1, "clearing"],
    ]
    assert frame["steps"].tolist() == [2, 2, 2, 2]


def test_chinese_text_falls_back_to_english():
    plan = preplans.parse(plan_text().replace("title: Gateway down", "title: Gateway down\ntitle_zh: 网关中断"))
    assert (plan.title_in("zh"), plan.steps[0].text_in("zh"), plan.steps[1].escalation_in("zh")) == (
        "网关中断",
        "Confirm",
        "Call the head of trading",
    )
    assert Path(preplans.__file__).with_name("preplan_library").is_dir()


def test_effective_days_are_the_display_zones_days(tmp_path):
    (tmp_path / "v1.yaml").write_text(plan_text(1, "2026-01-05"))
    (tmp_path / "v2.yaml").write_text(plan_text(2, "2026-11-01"))
    shanghai = preplans.load(tmp_path, "Asia/Shanghai")
    two_am = pd.Timestamp("2026-11-01 02:00", tz="Asia/Shanghai").tz_convert("UTC")  # still 31 October in UTC
    assert shanghai.version_at("gateway-down", two_am).version == 2
    assert shanghai.for_incident("order-gateway", None, two_am).version == 2
    assert shanghai.version_at("gateway-down", two_am - pd.Timedelta(hours=2, minutes=1)).version == 1
    assert preplans.load(tmp_path).version_at("gateway-down", two_am).version == 1  # UTC's days
    assert shanghai.version_at("gateway-down", pd.Timestamp("2026-10-31 18:00")).version == 2  # naive: UTC


def test_before_any_version_is_effective_none_is_in_force_and_an_incident_gets_the_first(library):
    early = pd.Timestamp("2025-12-31 12:00", tz="UTC")
    assert library.in_force("gateway-down", early) is None
    assert library.version_at("gateway-down", early).version == 1
    assert library.in_force("gateway-down", pd.Timestamp("2026-11-20", tz="UTC")).version == 2
    assert library.in_force("nowhere", early) is None and library.version_at("nowhere", early) is None
