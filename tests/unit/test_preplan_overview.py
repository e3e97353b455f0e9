"""/preplans' model: the version in force and the others, the last drill and use of each pre-plan, the services no
pre-plan names (tier 1 first), and what a version changed from the one before."""

import random
from difflib import SequenceMatcher

import pandas as pd
import pytest

from dashboard.command import checklist, preplan_overview, preplans
from dashboard.core.settings import DEFAULT_CONFIG, load
from datasources.demo import ESTATE
from tests.unit.test_preplans import plan_text

NOW = pd.Timestamp("2026-11-20 01:30", tz="UTC")
NO_USES = pd.DataFrame(columns=checklist.USE_COLUMNS)
NO_DRILLS = pd.DataFrame(columns=preplan_overview.DRILL_COLUMNS)


@pytest.fixture
def library(tmp_path) -> preplans.Library:
    (tmp_path / "v1.yaml").write_text(
        plan_text(1, "2026-01-05").replace("[order-gateway]", "[order-gateway, clearing]")
    )
    (tmp_path / "v2.yaml").write_text(plan_text(2, "2026-11-01"))
    (tmp_path / "v3.yaml").write_text(plan_text(3, "2027-01-04"))
    (tmp_path / "site.yaml").write_text(
        plan_text().replace("gateway-down", "site-failover").replace("services: [order-gateway]", "scenario: site")
    )
    return preplans.load(tmp_path)


def services(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [(s, s.title(), tier, "team", None) for s, tier in rows],
        columns=["service", "display_name", "tier", "owner", "runbook_url"],
    )


def test_each_preplan_shows_the_version_in_force_and_the_others(library):
    plans = preplan_overview.plans(library, NOW, NO_DRILLS, NO_USES).set_index("preplan_id")
    gateway = plans.loc["gateway-down"]
    assert (gateway["in_force"], gateway["older"], gateway["upcoming"]) == (2, [1], [3])
    assert (gateway["services"], gateway["steps"], gateway["minutes"]) == (["order-gateway"], 2, 20.0)
    site = plans.loc["site-failover"]
    assert (site["in_force"], site["services"], site["scenario"]) == (1, [], "site")
    assert plans["drills"].tolist() == [0, 0] and plans["last_drill"].isna().all() and plans["last_use"].isna().all()
    later = preplan_overview.plans(library, pd.Timestamp("2027-01-04 00:00", tz="UTC"), NO_DRILLS, NO_USES)
    assert later.set_index("preplan_id").loc["gateway-down", "older"] == [1, 2]


def test_last_drill_counts_tested_runs_naming_the_preplan_and_last_use_the_latest_tick(library):
    runs = pd.DataFrame(
        {
            "x_preplan": ["gateway-down", "gateway-down", "gateway-down", None],
            "status": ["passed", "failed", "not_run", "passed"],
            "started_at": pd.to_datetime(["2026-11-01", "2026-11-10", "2026-11-15", "2026-11-19"], utc=True),
        }
    )
    drilled = preplan_overview.drills(runs)
    uses = pd.DataFrame(
        [("gateway-down", 1, "itsm", "INC7", pd.Timestamp("2026-11-18", tz="UTC"))], columns=checklist.USE_COLUMNS
    )
    plans = preplan_overview.plans(library, NOW, drilled, uses).set_index("preplan_id")
    assert plans.loc["gateway-down", ["last_drill", "drills", "use_incident", "use_version"]].tolist() == [
        pd.Timestamp("2026-11-10", tz="UTC"),
        2,
        "INC7",
        1,
    ]
    assert plans.loc["site-failover", "drills"] == 0
    assert preplan_overview.drills(runs.drop(columns="x_preplan")).empty  # a chaos source that names no pre-plan


def test_services_no_preplan_names_are_listed_tier_one_first(library):
    estate = services(("wealth-portal", 2), ("order-gateway", 1), ("clearing", 1), ("ledger", 1), ("auth", 1))
    missing = preplan_overview.uncovered(estate, library)
    # clearing is named by version 1 only: covered, as the maturity evidence counts it; a scenario covers none
    assert missing[["service", "tier"]].values.tolist() == [["auth", 1], ["ledger", 1], ["wealth-portal", 2]]
    assert preplan_overview.uncovered(estate, preplans.Library())["service"].tolist()[:4] == [
        "auth",
        "clearing",
        "ledger",
        "order-gateway",
    ]


def test_the_demo_estate_has_tier_one_services_without_a_preplan():
    library = preplans.load(load(DEFAULT_CONFIG).preplans.path)
    estate = services(*((name, tier) for name, _display, tier, *_rest in ESTATE))
    missing = preplan_overview.uncovered(estate, library)
    assert "order-gateway" not in missing["service"].tolist()
    assert missing.loc[missing["tier"] == 1, "service"].tolist() == [
        "auth-service",
        "clearing",
        "client-login",
        "credit-risk",
        "margin-core",
        "pretrade-risk",
    ]
    assert missing["tier"].is_monotonic_increasing


def test_a_version_lists_the_steps_it_added_changed_and_removed():
    v1, v2 = preplans.load(load(DEFAULT_CONFIG).preplans.path).versions("order-gateway-down")
    found = preplan_overview.changes(v1, v2)
    assert [(c.kind, c.step, c.was, c.fields) for c in found.steps] == [
        ("changed", 1, 1, ("text", "escalation")),
        ("added", 2, None, ()),
        ("changed", 3, 2, ("text", "escalation")),
        ("changed", 4, 3, ("text",)),
        ("added", 5, None, ()),
    ]
    assert (found.previous, found.services_added, found.scenario_changed) == (1, (), True)
    back = preplan_overview.changes(v2, v1)
    assert [(c.kind, c.step, c.was) for c in back.steps if c.kind == "removed"] == [
        ("removed", None, 2),
        ("removed", None, 5),
    ]


def test_a_step_changed_only_in_its_owner_or_minutes_is_one_step_changed():
    before = preplans.parse(plan_text(1))
    after = preplans.parse(plan_text(2).replace("owner: on-call", "owner: DBA").replace("minutes: 15", "minutes: 20"))
    assert [(c.kind, c.step, c.fields) for c in preplan_overview.changes(before, after).steps] == [
        ("changed", 2, ("owner", "minutes"))
    ]
    assert preplan_overview.changes(before, preplans.parse(plan_text(2))).steps == ()


def test_a_preplan_none_of_whose_versions_is_effective_yet_is_not_in_force(tmp_path):
    (tmp_path / "v1.yaml").write_text(plan_text(1, "2027-02-01"))
    (tmp_path / "v2.yaml").write_text(plan_text(2, "2027-03-01"))
    plans = preplan_overview.plans(preplans.load(tmp_path), NOW, NO_DRILLS, NO_USES).set_index("preplan_id")
    assert plans.loc["gateway-down", ["in_force", "effective_yet", "upcoming"]].tolist() == [1, False, [2]]


def test_the_version_in_force_changes_at_midnight_in_the_display_zone(tmp_path):
    (tmp_path / "v1.yaml").write_text(plan_text(1, "2026-01-05"))
    (tmp_path / "v2.yaml").write_text(plan_text(2, "2026-11-01"))
    two_am = pd.Timestamp("2026-11-01 02:00", tz="Asia/Shanghai")
    plans = preplan_overview.plans(preplans.load(tmp_path, "Asia/Shanghai"), two_am, NO_DRILLS, NO_USES)
    assert plans.set_index("preplan_id").loc["gateway-down", ["in_force", "effective_yet", "older"]].tolist() == [
        2,
        True,
        [1],
    ]


class CountingMatcher(SequenceMatcher):
    """difflib's matcher, counting the full comparisons and the longest text compared."""

    ratios, longest = 0, 0

    def ratio(self):
        CountingMatcher.ratios += 1
        CountingMatcher.longest = max(CountingMatcher.longest, len(self.a), len(self.b))
        return super().ratio()


def long_plan(version: int, seed: int) -> preplans.Preplan:
    words = random.Random(seed).choices(
        "check confirm gateway order exchange session roll back call on-call".split(), k=4500
    )
    steps = "".join(
        f"  - text: {' '.join(words[n * 150 : n * 150 + 150])[:1000]}\n    owner: ops\n    minutes: 1\n"
        for n in range(30)
    )
    return preplans.parse(f"id: big\nversion: {version}\ntitle: Big\nservices: [ledger]\nsteps:\n{steps}")


def test_changes_are_computed_once_per_pair_of_versions_and_each_step_pair_compared_once_on_a_bounded_text(
    monkeypatch,
):
    monkeypatch.setattr(preplan_overview, "SequenceMatcher", CountingMatcher)
    monkeypatch.setattr(CountingMatcher, "ratios", 0)
    monkeypatch.setattr(CountingMatcher, "longest", 0)
    before, after = long_plan(1, 1), long_plan(2, 2)
    found = preplan_overview.changes(before, after)
    assert 0 < CountingMatcher.ratios <= 30 * 30
    assert CountingMatcher.longest <= preplan_overview.COMPARED < 1000
    compared = CountingMatcher.ratios
    assert preplan_overview.changes(long_plan(1, 1), long_plan(2, 2)) is found  # the same content: not again
    assert CountingMatcher.ratios == compared
