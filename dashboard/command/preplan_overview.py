"""The pre-plan library at a glance, for /preplans: each pre-plan's version in force, its size and its last drill and
last use; the services of the estate without one; what a version changed from the one before.

Pure functions of the library and small frames. Coverage is read as the maturity evidence reads it
(``service_preplans``: a service named by any version); a drill is a tested chaos run naming the pre-plan in
``x_preplan`` (``preplans_drilled``); a use is a tick or untick on an incident's checklist.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

import pandas as pd

from dashboard.analytics import resilience
from dashboard.command.preplans import Library, Preplan, Step

PLAN_COLUMNS = [
    "preplan_id",
    "in_force",
    "effective_yet",
    "older",
    "upcoming",
    "services",
    "scenario",
    "steps",
    "minutes",
    "last_drill",
    "drills",
    "last_use",
    "use_source",
    "use_incident",
    "use_version",
]
UNCOVERED_COLUMNS = ["service", "display_name", "tier", "owner"]
DRILL_COLUMNS = ["preplan_id", "last_drill", "drills"]
SAME_STEP = (
    0.5  # how alike two steps' texts must be (difflib's ratio) to be one step changed, not one removed and one added
)
COMPARED = 200  # how much of each step's text the alignment compares: enough to tell steps apart, cheap at 100 steps
STEP_FIELDS = ("text", "owner", "minutes", "escalation")


def drills(chaos_runs: pd.DataFrame) -> pd.DataFrame:
    """Per pre-plan named by a tested chaos run: the start of the latest and the number of runs."""
    if "x_preplan" not in chaos_runs:
        return pd.DataFrame(columns=DRILL_COLUMNS)
    tested = chaos_runs[chaos_runs["status"].isin(resilience.TESTED) & chaos_runs["x_preplan"].notna()]
    grouped = tested.groupby("x_preplan")["started_at"]
    return pd.DataFrame({"last_drill": grouped.max(), "drills": grouped.size()}).rename_axis("preplan_id").reset_index()


def plans(library: Library, now: pd.Timestamp, drilled: pd.DataFrame, uses: pd.DataFrame) -> pd.DataFrame:
    """One row per pre-plan, by id: the version in force at ``now`` (``effective_yet`` False: none is yet, the
    first version shown), the versions before it and those not yet in force, the services and scenario, steps and
    expected minutes of the version shown; the last drill (from ``drills``) and the last use
    (``checklist.last_uses``: when, on which incident, in which version)."""
    rows = []
    for preplan_id in sorted({p.id for p in library.plans}):
        current = library.version_at(preplan_id, now)
        numbers = [p.version for p in library.versions(preplan_id)]
        rows.append(
            {
                "preplan_id": preplan_id,
                "in_force": current.version,
                "effective_yet": library.in_force(preplan_id, now) is not None,
                "older": [v for v in numbers if v < current.version],
                "upcoming": [v for v in numbers if v > current.version],
                "services": list(current.services),
                "scenario": current.scenario,
                "steps": len(current.steps),
                "minutes": sum(s.minutes for s in current.steps),
            }
        )
    frame = pd.DataFrame(rows, columns=PLAN_COLUMNS[:9])
    used = uses.rename(
        columns={"at": "last_use", "source": "use_source", "incident_id": "use_incident", "version": "use_version"}
    )
    frame = frame.merge(drilled[DRILL_COLUMNS], on="preplan_id", how="left").merge(
        used[["preplan_id", *PLAN_COLUMNS[-4:]]], on="preplan_id", how="left"
    )
    frame["drills"] = frame["drills"].fillna(0).astype("int64")
    return frame[PLAN_COLUMNS]


def uncovered(services: pd.DataFrame, library: Library) -> pd.DataFrame:
    """The services no version of any pre-plan names, tier 1 first, then by name."""
    covered = library.frame()["service"].dropna().unique()
    missing = services[~services["service"].isin(covered)].drop_duplicates("service")
    return missing.sort_values(["tier", "service"], kind="stable")[UNCOVERED_COLUMNS].reset_index(drop=True)


@dataclass(frozen=True)
class StepChange:
    """A step added (``was`` None), removed (``step`` None) or changed (``fields`` it changed), by its numbers in the
    version shown (``step``) and in the one before (``was``)."""

    step: int | None
    was: int | None
    fields: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return "added" if self.was is None else "removed" if self.step is None else "changed"


@dataclass(frozen=True)
class VersionChanges:
    """What a version changed from the previous one: services added and removed, the scenario, the steps."""

    previous: int
    services_added: tuple[str, ...]
    services_removed: tuple[str, ...]
    scenario_changed: bool
    steps: tuple[StepChange, ...]


def _likeness(old: tuple[Step, ...], new: tuple[Step, ...]) -> list[list[float]]:
    """Per pair of steps, how alike their texts' first ``COMPARED`` characters are (difflib's ratio, 0.0 below
    ``SAME_STEP``): each pair compared once, the cheap upper bounds first."""
    matcher, alike = SequenceMatcher(), [[0.0] * len(new) for _ in old]
    for j, after in enumerate(new):
        matcher.set_seq2(after.text[:COMPARED])  # difflib indexes the second sequence: once per step
        for i, before in enumerate(old):
            if before.text == after.text:
                alike[i][j] = 1.0
                continue
            matcher.set_seq1(before.text[:COMPARED])
            if matcher.real_quick_ratio() >= SAME_STEP and matcher.quick_ratio() >= SAME_STEP:
                ratio = matcher.ratio()
                alike[i][j] = ratio if ratio >= SAME_STEP else 0.0
    return alike


def _pairs(old: tuple[Step, ...], new: tuple[Step, ...]) -> list[tuple[int, int]]:
    """The steps of ``old`` and ``new`` that are one step, in order: the alignment with the most alike texts."""
    alike = _likeness(old, new)
    best = [[0.0] * (len(new) + 1) for _ in range(len(old) + 1)]
    for i in range(len(old) - 1, -1, -1):
        for j in range(len(new) - 1, -1, -1):
            paired = best[i + 1][j + 1] + alike[i][j] if alike[i][j] else 0.0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], paired)
    pairs, i, j = [], 0, 0
    while i < len(old) and j < len(new):
        if alike[i][j] and best[i][j] == best[i + 1][j + 1] + alike[i][j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


@lru_cache(maxsize=256)
def changes(previous: Preplan, current: Preplan) -> VersionChanges:
    """What ``current`` changed from ``previous``, step by step (steps numbered from 1); computed once per pair of
    versions' content (the library does not change while the process runs)."""
    pairs = _pairs(previous.steps, current.steps)
    kept_old, kept_new = {i for i, _ in pairs}, {j for _, j in pairs}
    found = [
        StepChange(j + 1, i + 1, fields)
        for i, j in pairs
        if (fields := tuple(f for f in STEP_FIELDS if getattr(previous.steps[i], f) != getattr(current.steps[j], f)))
    ]
    found += [StepChange(j + 1, None) for j in range(len(current.steps)) if j not in kept_new]
    found += [StepChange(None, i + 1) for i in range(len(previous.steps)) if i not in kept_old]
    return VersionChanges(
        previous=previous.version,
        services_added=tuple(s for s in current.services if s not in previous.services),
        services_removed=tuple(s for s in previous.services if s not in current.services),
        scenario_changed=previous.scenario != current.scenario,
        steps=tuple(sorted(found, key=lambda c: (c.step or 0, c.was or 0))),
    )
