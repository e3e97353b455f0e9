"""Maturity scoring: the item table, levels per domain and overall, the gap list, progress.

Pure functions of the catalogue, the assessments and the latest evidence. Only a person's
assessment counts: ``pass`` and ``waived`` satisfy an item, ``na`` takes it out of scope,
anything else (``not_started``, ``in_progress``, ``fail``) does not satisfy it; the automatic
result is shown as a proposal.

Level L is reached when every applicable item of level L or below is satisfied (0 when level 1
is not). "L+" is reached when, besides, at least ``plus_share`` of the applicable level L+1
items are satisfied in at least ``plus_domains`` domains (each of those domains must have
level L+1 items). Defaults: half of the items, in three domains.

Beside the confirmed level, the evidence level says how far the latest automatic evidence alone
would go: it climbs level by level while every in-scope item of the level is met by its rule; a
manual item, an item not met (or not evaluated, or with nothing to judge) and a level without items
stop the climb.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboard.maturity import evidence
from datasources.base import utc_column

SATISFIED = ("pass", "waived")
OUT_OF_SCOPE = ("na",)
TOP_LEVEL = 5
TABLE_COLUMNS = [
    "id",
    "domain",
    "domain_name",
    "level",
    "title",
    "description",
    "applies_to",
    "automatic",
    "query",
    "proposed",
    "value",
    "evaluated_at",
    "findings",
    "status",
    "assessor",
    "assessed_at",
    "justification",
]


@dataclass(frozen=True)
class PlusRule:
    """When a reached level L earns its "+"."""

    share: float = 0.5
    domains: int = 3


def proposal(passed) -> str:
    """An evaluation's verdict: pass, fail, or none (nothing to judge)."""
    return "none" if passed is None or pd.isna(passed) else ("pass" if passed else "fail")


def evidence_states(items: pd.DataFrame) -> pd.Series:
    """What the evidence says of each item: pass, fail, none (nothing to judge), pending (an automatic
    item not evaluated yet) or manual (no rule: an assessor decides)."""
    state = items["proposed"].where(items["evaluated_at"].notna(), "pending")
    return state.where(items["automatic"].astype(bool), "manual")


def item_table(catalogue, current: pd.DataFrame, latest_evidence: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """One row per catalogue item: what it asks and its rule (in ``lang``), the automatic proposal, the confirmed
    assessment."""
    found = latest_evidence.set_index("item_id") if len(latest_evidence) else None
    domains = catalogue.domain_names(lang)
    rows = []
    for item in catalogue.items:
        seen = found.loc[item.id] if found is not None and item.id in found.index else None
        assessed = current.loc[item.id] if item.id in current.index else None
        rows.append(
            {
                "id": item.id,
                "domain": item.domain,
                "domain_name": domains[item.domain],
                "level": item.level,
                "title": item.title_in(lang),
                "description": item.description_in(lang),
                "applies_to": item.applies_to,
                "automatic": item.automatic,
                "query": evidence.query_text(item, lang) if item.automatic else "",
                "proposed": proposal(seen["passed"]) if seen is not None else "none",
                "value": seen["value"] if seen is not None else float("nan"),
                "evaluated_at": seen["evaluated_at"] if seen is not None else pd.NaT,
                "findings": list(seen.get("findings", ())) if seen is not None else [],
                "status": assessed["status"] if assessed is not None else "not_started",
                "assessor": assessed["assessor"] if assessed is not None else "",
                "assessed_at": assessed["at"] if assessed is not None else pd.NaT,
                "justification": assessed["justification"] if assessed is not None else "",
            }
        )
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    table["value"] = table["value"].astype("float64")
    for column in ("evaluated_at", "assessed_at"):
        table[column] = utc_column(table[column])
    return table


def current(assessment_history: pd.DataFrame) -> pd.DataFrame:
    """Each item's latest assessment, indexed by item id."""
    return assessment_history.drop_duplicates("item_id", keep="last").set_index("item_id")


def _in_scope(items: pd.DataFrame) -> pd.DataFrame:
    return items[~items["status"].isin(OUT_OF_SCOPE)]


def level_reached(items: pd.DataFrame) -> int:
    """The highest level L whose items, and those below, are all satisfied."""
    scoped = _in_scope(items)
    reached = 0
    for level in range(1, TOP_LEVEL + 1):
        if not scoped.loc[scoped["level"] <= level, "status"].isin(SATISFIED).all():
            break
        reached = level
    return reached


def evidence_level(items: pd.DataFrame) -> int:
    """The highest level L whose in-scope items, and those below, are all met by the latest evidence."""
    scoped = _in_scope(items)
    met = evidence_states(scoped) == "pass"
    reached = 0
    for level in range(1, TOP_LEVEL + 1):
        at_level = scoped["level"] == level
        if not at_level.any() or not met[at_level].all():
            break
        reached = level
    return reached


def suggested(items: pd.DataFrame) -> tuple[int, bool] | None:
    """The level the evidence suggests for ``items`` and whether it is ahead of the confirmed level (awaiting
    confirmation); None before any evaluation."""
    if items["evaluated_at"].isna().all():
        return None
    level = evidence_level(items)
    return level, level > level_reached(items)


def plus_reached(items: pd.DataFrame, level: int, rule: PlusRule) -> bool:
    """Whether ``level`` earns its "+": enough level+1 items satisfied in enough domains."""
    if level < 1 or level >= TOP_LEVEL:
        return False
    upper = _in_scope(items)
    upper = upper[upper["level"] == level + 1]
    shares = upper.assign(ok=upper["status"].isin(SATISFIED)).groupby("domain")["ok"].mean()
    return int((shares >= rule.share - 1e-12).sum()) >= rule.domains


def overall(items: pd.DataFrame, rule: PlusRule) -> str:
    """The overall level as shown: "0" to "5", with "+" when earned (e.g. "2+")."""
    level = level_reached(items)
    return f"{level}+" if plus_reached(items, level, rule) else str(level)


def domain_levels(catalogue, items: pd.DataFrame, lang: str = "en") -> pd.DataFrame:
    """Per domain (catalogue order): its name in ``lang``, the level reached, the level its evidence supports
    and the share of items satisfied."""
    rows = []
    for key, name in catalogue.domain_names(lang).items():
        domain = items[items["domain"] == key]
        rows.append(
            {
                "domain": key,
                "domain_name": name,
                "level": level_reached(domain),
                "evidence_level": evidence_level(domain),
                "satisfied": _in_scope(domain)["status"].isin(SATISFIED).mean(),
            }
        )
    return pd.DataFrame(rows, columns=["domain", "domain_name", "level", "evidence_level", "satisfied"])


def gaps(items: pd.DataFrame) -> pd.DataFrame:
    """What stands between the current level and the next: unsatisfied in-scope items up to it, by level
    and then in catalogue order."""
    target = min(level_reached(items) + 1, TOP_LEVEL)
    scoped = _in_scope(items)
    missing = scoped[(scoped["level"] <= target) & ~scoped["status"].isin(SATISFIED)]
    return missing.sort_values("level", kind="stable").assign(target=target)


def progress(catalogue, assessment_history: pd.DataFrame, rule: PlusRule) -> pd.DataFrame:
    """The overall level after each day with assessments: date, level (int), shown ("2+"), satisfied items."""
    if not len(assessment_history):
        return pd.DataFrame(columns=["date", "level", "shown", "satisfied"])
    empty = pd.DataFrame(columns=["item_id", "passed", "query", "value", "evaluated_at"])
    days = assessment_history["at"].dt.floor("D").unique()
    rows = []
    for day in days:
        upto = assessment_history[assessment_history["at"] < day + pd.Timedelta(days=1)]
        items = item_table(catalogue, current(upto), empty)
        rows.append(
            {
                "date": day,
                "level": level_reached(items),
                "shown": overall(items, rule),
                "satisfied": int(items["status"].isin(SATISFIED).sum()),
            }
        )
    return pd.DataFrame(rows)
