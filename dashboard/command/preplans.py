"""The library of emergency pre-plans (应急预案): one YAML file per pre-plan version, validated at load.

A directory (``preplans.path`` in the config) holds the files; each is checked against ``Preplan`` and a
bad one is reported as ``file:line: key: message`` while the others still load. Several files may hold
versions of one pre-plan (same ``id``, different ``version``); all are kept, so an incident worked on
an older version still shows it. Which pre-plan an incident opens, and in which version, is
``Library.for_incident``; the format is described in docs/preplans.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from pydantic import Field, ValidationError, model_validator

from dashboard.core.settings import ConfigError, _Located
from datasources.options import Strict, problems

log = logging.getLogger("opscenter.preplans")

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
MAX_TEXT = 1000
FRAME_COLUMNS = ["preplan_id", "version", "service", "scenario", "steps"]


class Step(Strict):
    """One step of a pre-plan: what to do, who does it, how long it should take, when to escalate."""

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="What to do.")
    text_zh: str | None = Field(None, min_length=1, max_length=MAX_TEXT, description="The same in Chinese.")
    owner: str = Field(min_length=1, max_length=64, description="The role that does it (duty manager, DBA, ...).")
    minutes: float = Field(gt=0, le=24 * 60, description="Minutes the step is expected to take.")
    escalation: str | None = Field(None, min_length=1, max_length=MAX_TEXT, description="Whom to call when late.")
    escalation_zh: str | None = Field(None, min_length=1, max_length=MAX_TEXT, description="The same in Chinese.")

    def text_in(self, lang: str) -> str:
        return self.text_zh if lang == "zh" and self.text_zh else self.text

    def escalation_in(self, lang: str) -> str | None:
        return self.escalation_zh if lang == "zh" and self.escalation_zh else self.escalation


class Preplan(Strict):
    """One version of one pre-plan."""

    id: str = Field(pattern=ID_PATTERN, description="Lower-case letters, digits, '-', '_' or '.'.")
    version: int = Field(ge=1, description="A whole number; a new version of the same id gets a higher one.")
    effective: date | None = Field(None, description="The day from which this version applies (none: always).")
    title: str = Field(min_length=1, max_length=200)
    title_zh: str | None = Field(None, min_length=1, max_length=200)
    services: tuple[str, ...] = Field((), description="The services it applies to.")
    scenario: str | None = Field(None, pattern=ID_PATTERN, description="The scenario it covers (site-failover).")
    steps: tuple[Step, ...] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _applies_somewhere(self) -> Preplan:
        if not self.services and not self.scenario:
            raise ValueError("a pre-plan needs services, a scenario, or both")
        return self

    def title_in(self, lang: str) -> str:
        return self.title_zh if lang == "zh" and self.title_zh else self.title

    @property
    def key(self) -> tuple[str, int]:
        return self.id, self.version


def parse(text: str, path: str = "<pre-plan>") -> Preplan:
    """Parse and validate one pre-plan file; ConfigError naming the file, line and key."""
    doc = _Located(text, path)
    if not isinstance(doc.data, dict):
        doc.fail((), "expected a mapping with id, version, title, services or scenario, and steps")
    try:
        return Preplan.model_validate(doc.data)
    except ValidationError as exc:
        found = problems(Preplan, exc)
        loc, message = next((p for p in found if p[1].startswith("unknown")), found[0])  # a misspelt key first
        doc.fail(loc, message)


def local_day(at, tz: str) -> date | None:
    """The calendar day of the moment ``at`` (naive: UTC) in the zone ``tz``; None for no moment."""
    if at is None or pd.isna(at):
        return None
    moment = pd.Timestamp(at)
    return (moment.tz_localize("UTC") if moment.tzinfo is None else moment).tz_convert(tz).date()


@dataclass(frozen=True)
class Library:
    """Every loaded pre-plan version, and the problems of the files that did not load."""

    plans: tuple[Preplan, ...] = ()
    errors: tuple[str, ...] = ()
    tz: str = "UTC"  # the zone whose calendar ``effective`` days are (the config's display_tz)

    def get(self, preplan_id: str, version: int) -> Preplan | None:
        return next((p for p in self.plans if p.key == (preplan_id, version)), None)

    def versions(self, preplan_id: str) -> list[Preplan]:
        """The versions of one pre-plan, oldest first."""
        return sorted((p for p in self.plans if p.id == preplan_id), key=lambda p: p.version)

    def in_force(self, preplan_id: str, at) -> Preplan | None:
        """The version in force at ``at``: the highest whose ``effective`` day (in ``tz``) is not after the day of
        ``at``; None when none is yet."""
        day = local_day(at, self.tz)
        in_force = [p for p in self.versions(preplan_id) if p.effective is None or day is None or p.effective <= day]
        return in_force[-1] if in_force else None

    def version_at(self, preplan_id: str, opened_at) -> Preplan | None:
        """The version an incident opened at ``opened_at`` works on: the one in force then; when none was yet,
        the first version."""
        versions = self.versions(preplan_id)
        return self.in_force(preplan_id, opened_at) or (versions[0] if versions else None)

    def for_incident(self, service: str | None, runbook_url: str | None, opened_at) -> Preplan | None:
        """The pre-plan an incident opens: the one its runbook URL names (last path segment equal to an id),
        else the most specific naming its service (fewest services, then id); in the version of
        ``version_at``."""
        ids = {p.id for p in self.plans}
        named = urlparse(runbook_url).path.rstrip("/").rsplit("/", 1)[-1] if runbook_url else ""
        if named not in ids:
            covering = [p for p in self.plans if service and service in p.services]
            named = min(((len(p.services), p.id) for p in covering), default=(0, ""))[1]
        return self.version_at(named, opened_at) if named else None

    def frame(self) -> pd.DataFrame:
        """One row per version and service it names (a scenario-only version: one row, no service)."""
        rows = [(p.id, p.version, s, p.scenario, len(p.steps)) for p in self.plans for s in p.services or (None,)]
        return pd.DataFrame(rows, columns=FRAME_COLUMNS)


def load(path: str | Path | None, tz: str = "UTC") -> Library:
    """Every ``*.yaml`` and ``*.yml`` file under ``path`` (none: an empty library), their ``effective`` days read
    in the zone ``tz``; a file that does not validate, or repeats an id and version, is left out and its problem
    logged and kept in ``errors``."""
    if path is None:
        return Library(tz=tz)
    folder = Path(path)
    if not folder.is_dir():
        error = f"{folder}: pre-plan directory not found"
        log.error(error)
        return Library(errors=(error,), tz=tz)
    plans, errors = {}, []
    for file in sorted(f for f in folder.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file()):
        try:
            plan = parse(file.read_text(encoding="utf-8"), str(file))
        except (ConfigError, OSError, UnicodeDecodeError) as exc:
            errors.append(str(exc) if isinstance(exc, ConfigError) else f"{file}: cannot read: {exc}")
            continue
        if plan.key in plans:
            errors.append(f"{file}: id: {plan.id} version {plan.version} is already in {plans[plan.key][1]}")
            continue
        plans[plan.key] = (plan, file)
    for error in errors:
        log.error("pre-plan left out: %s", error)
    return Library(tuple(plan for plan, _file in plans.values()), tuple(errors), tz)
