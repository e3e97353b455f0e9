"""What every ITSM adapter shares: value mappings, record checks and incremental merging.

An adapter turns its payload into raw records (dicts keyed by contract column,
values as the source spells them) and hands them to ``incident_frame`` or
``change_frame``. Those map priority, state, type, outcome and service through
a ``Mappings``, parse timestamps, and drop a malformed record with a logged
reason naming it, so one bad record never costs the rest of the poll.

``Incremental`` keeps the frames of earlier polls in memory keyed by id, so an
adapter asks its source only for records updated since the last poll (minus an
overlap) and still returns every active and recent record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Annotated, Any, ClassVar, Literal

import pandas as pd
from pydantic import AfterValidator, Field

from datasources.base import (
    CHANGE_OUTCOMES,
    CHANGE_STATES,
    CHANGE_TYPES,
    CONTRACTS,
    INCIDENT_STATES,
    Source,
    SourceError,
    as_utc,
    empty_frame,
    utc_column,
    validate,
)
from datasources.options import SourceOptions
from datasources.transport import HttpClient, HttpError

log = logging.getLogger(__name__)

ACTIVE_INCIDENT_STATES = ("new", "in_progress", "on_hold")
FINISHED_CHANGE_STATES = ("closed", "cancelled")
EPOCH = pd.Timestamp(0, tz="UTC")
DEFAULT_RETENTION_DAYS = 90
DEFAULT_OVERLAP_S = 300
MAX_ON_CALL = 25  # people on call in one group, at most: one request each for their contact details


class RecordError(ValueError):
    """One record cannot be turned into a contract row."""


def _keyed(mapping: dict | None) -> dict[str, Any]:
    return {str(k).strip().lower(): v for k, v in (mapping or {}).items()}


@dataclass(frozen=True)
class Mappings:
    """Source values to contract values; keys are matched as trimmed lower-case strings."""

    priority: dict[str, int] = field(default_factory=dict)
    incident_state: dict[str, str] = field(default_factory=dict)
    change_state: dict[str, str] = field(default_factory=dict)
    change_type: dict[str, str] = field(default_factory=dict)
    outcome: dict[str, str] = field(default_factory=dict)
    service: dict[str, str] = field(default_factory=dict)
    runbook_url: str | None = None

    @classmethod
    def from_options(cls, options: dict[str, Any], defaults: Mappings) -> Mappings:
        """The adapter's defaults overlaid with the config's ``*_map`` keys and ``runbook_url``."""

        def merged(key: str, default: dict) -> dict:
            return {**_keyed(default), **_keyed(options.get(key))}

        return cls(
            priority=merged("priority_map", defaults.priority),
            incident_state=merged("state_map", defaults.incident_state),
            change_state=merged("change_state_map", defaults.change_state),
            change_type=merged("change_type_map", defaults.change_type),
            outcome=merged("outcome_map", defaults.outcome),
            service=merged("service_map", defaults.service),
            runbook_url=options.get("runbook_url") or defaults.runbook_url,
        )


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def _mapped(value: Any, mapping: dict, allowed: Iterable[str], what: str) -> str:
    text = _text(value)
    if text is None:
        raise RecordError(f"missing {what}")
    found = mapping.get(text.lower(), text.lower())
    if found not in allowed:
        raise RecordError(f"unknown {what} {text!r}")
    return found


def _priority(value: Any, mapping: dict) -> int:
    text = _text(value)
    if text is None:
        raise RecordError("missing priority")
    found = mapping.get(text.lower(), text)
    try:
        number = int(str(found))
    except ValueError:
        raise RecordError(f"priority {text!r} is not 1-5 and not in priority_map") from None
    if not 1 <= number <= 5:
        raise RecordError(f"priority {text!r} maps to {number}, outside 1-5")
    return number


def timestamp(value: Any, what: str, required: bool = False) -> pd.Timestamp | None:
    """Parse a source date as UTC (naive means UTC); the Unix epoch itself means 'not set'."""
    text = _text(value)
    if text is None:
        if required:
            raise RecordError(f"missing {what}")
        return None
    try:
        stamp = pd.Timestamp(text)
    except (ValueError, TypeError):
        raise RecordError(f"{what} {text[:40]!r} is not a date") from None
    if pd.isna(stamp):
        if required:
            raise RecordError(f"missing {what}")
        return None
    stamp = as_utc(stamp)
    if stamp == EPOCH:
        if required:
            raise RecordError(f"missing {what} (epoch)")
        return None
    return stamp


def _service(value: Any, mappings: Mappings) -> str | None:
    text = _text(value)
    return None if text is None else mappings.service.get(text.lower(), text)


def incident_row(raw: dict[str, Any], mappings: Mappings, source: str) -> dict[str, Any]:
    """One incidents contract row from a raw record; raise RecordError saying what is wrong."""
    incident_id = _text(raw.get("incident_id"))
    if incident_id is None:
        raise RecordError("missing id")
    opened = timestamp(raw.get("opened_at"), "opened_at", required=True)
    resolved = timestamp(raw.get("resolved_at"), "resolved_at")
    if resolved is not None and resolved < opened:
        raise RecordError(f"resolved_at {resolved} is before opened_at {opened}")
    service = _service(raw.get("service"), mappings)
    runbook = _text(raw.get("runbook_url"))
    if runbook is None and service and mappings.runbook_url:
        runbook = mappings.runbook_url.format(service=service)
    return {
        "incident_id": incident_id,
        "title": _text(raw.get("title")) or incident_id,
        "priority": _priority(raw.get("priority"), mappings.priority),
        "state": _mapped(raw.get("state"), mappings.incident_state, INCIDENT_STATES, "state"),
        "service": service,
        "opened_at": opened,
        "acknowledged_at": timestamp(raw.get("acknowledged_at"), "acknowledged_at"),
        "resolved_at": resolved,
        "assignment_group": _text(raw.get("assignment_group")),
        "change_id": _text(raw.get("change_id")),
        "runbook_url": runbook,
        "source": source,
        "url": _text(raw.get("url")),
        **({"x_runbook_steps": _text(raw.get("runbook_steps"))} if "runbook_steps" in raw else {}),
        **({"x_priority_raw": _text(raw.get("priority_raw"))} if "priority_raw" in raw else {}),
        **({"x_closed_at": timestamp(raw.get("closed_at"), "closed_at")} if "closed_at" in raw else {}),
    }


def change_row(raw: dict[str, Any], mappings: Mappings, source: str) -> dict[str, Any]:
    """One changes contract row from a raw record; raise RecordError saying what is wrong."""
    change_id = _text(raw.get("change_id"))
    if change_id is None:
        raise RecordError("missing id")
    outcome = _text(raw.get("outcome"))
    return {
        "change_id": change_id,
        "title": _text(raw.get("title")) or change_id,
        "service": _service(raw.get("service"), mappings),
        "type": _mapped(raw.get("type"), mappings.change_type, CHANGE_TYPES, "change type"),
        "state": _mapped(raw.get("state"), mappings.change_state, CHANGE_STATES, "change state"),
        **{key: timestamp(raw.get(key), key) for key in ("planned_start", "planned_end", "actual_start", "actual_end")},
        "outcome": "unknown" if outcome is None else _mapped(outcome, mappings.outcome, CHANGE_OUTCOMES, "outcome"),
        "source": source,
        "url": _text(raw.get("url")),
    }


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    if not rows:
        return empty_frame(name)
    frame = pd.DataFrame.from_records(rows)
    for column in CONTRACTS[name]:
        if column.kind == "ts":
            frame[column.name] = utc_column(frame[column.name])
        elif column.kind == "int":
            frame[column.name] = frame[column.name].astype("int64")
        elif column.kind == "float":
            frame[column.name] = frame[column.name].astype("float64")
        else:
            frame[column.name] = frame[column.name].astype(object).where(frame[column.name].notna(), None)
    return validate(name, frame)


def _rows(name: str, records: Iterable[dict], make, mappings: Mappings, source: str) -> pd.DataFrame:
    rows = []
    key = "incident_id" if name == "incidents" else "change_id"
    for raw in records:
        try:
            rows.append(make(raw, mappings, source))
        except RecordError as exc:
            log.warning("%s: %s record %s rejected: %s", source, name, raw.get(key) or "(no id)", exc)
    return _frame(name, rows)


def request_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A service_requests frame from rows already in contract form."""
    return _frame("service_requests", rows)


def incident_frame(records: Iterable[dict], mappings: Mappings, source: str) -> pd.DataFrame:
    """An incidents frame from raw records; malformed records are logged and left out."""
    return _rows("incidents", records, incident_row, mappings, source)


def change_frame(records: Iterable[dict], mappings: Mappings, source: str) -> pd.DataFrame:
    """A changes frame from raw records; malformed records are logged and left out."""
    return _rows("changes", records, change_row, mappings, source)


_KEYS = {"incidents": "incident_id", "changes": "change_id", "service_requests": "request_id"}


def _recent(name: str, frame: pd.DataFrame, cutoff: pd.Timestamp) -> pd.Series:
    """Rows to keep: unfinished ones, and finished ones that touched the retention window."""
    if name == "incidents":
        last = frame["resolved_at"].fillna(frame["opened_at"])
        return frame["state"].isin(ACTIVE_INCIDENT_STATES) | (last >= cutoff)
    if name == "service_requests":
        return frame["state"].eq("open") | (frame["fulfilled_at"].fillna(frame["opened_at"]) >= cutoff)
    last = frame[["actual_end", "planned_end", "actual_start", "planned_start"]].max(axis=1)
    return ~frame["state"].isin(FINISHED_CHANGE_STATES) | (last >= cutoff) | last.isna()


class Incremental:
    """The frames of every poll so far, merged by id and bounded by retention.

    The first poll asks for ``retention_days`` of updates; later polls ask for
    updates since the previous poll started, less ``overlap_s`` for clock skew
    and records committed while that poll ran.
    """

    def __init__(self, retention_days: float = DEFAULT_RETENTION_DAYS, overlap_s: float = DEFAULT_OVERLAP_S):
        self.retention = timedelta(days=float(retention_days))
        self.overlap = timedelta(seconds=float(overlap_s))
        self.frames: dict[str, pd.DataFrame] = {}
        self.last_poll: datetime | None = None

    def since(self, now: datetime) -> datetime:
        """The 'updated since' bound for the poll starting at ``now``."""
        return now - self.retention if self.last_poll is None else self.last_poll - self.overlap

    def merge(self, now: datetime, fetched: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Merge a complete poll's frames into the kept ones; return the merged frames."""
        cutoff = pd.Timestamp(now - self.retention)
        for name, frame in fetched.items():
            kept = self.frames.get(name)
            parts = [f for f in (kept, frame) if f is not None and len(f)]
            merged = pd.concat(parts, ignore_index=True) if parts else frame
            merged = merged.drop_duplicates(_KEYS[name], keep="last")
            self.frames[name] = validate(name, merged[_recent(name, merged, cutoff)].reset_index(drop=True))
        self.last_poll = now
        return dict(self.frames)


def _runbook_template(template: str | None) -> str | None:
    if template is not None:
        try:
            template.format(service="x")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"must be a template whose only placeholder is {{service}} ({exc!r})") from None
    return template


class ItsmOptions(SourceOptions):
    """Keys of every ITSM source: value mappings and incremental polling."""

    priority_map: dict[str, Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=dict, description="Source priority -> 1-5."
    )
    state_map: dict[str, Literal[INCIDENT_STATES]] = Field(
        default_factory=dict, description="Incident state -> a contract state."
    )
    change_state_map: dict[str, Literal[CHANGE_STATES]] = Field(
        default_factory=dict, description="Change state -> a contract change state."
    )
    change_type_map: dict[str, Literal[CHANGE_TYPES]] = Field(
        default_factory=dict, description="Change type -> normal, standard or emergency."
    )
    outcome_map: dict[str, Literal[CHANGE_OUTCOMES]] = Field(
        default_factory=dict, description="Close code or resolution -> a change outcome."
    )
    service_map: dict[str, str] = Field(
        default_factory=dict,
        description=("Configuration item or component -> service (none listed: the name as given)."),
    )
    runbook_url: Annotated[str | None, AfterValidator(_runbook_template)] = Field(
        None, description=("Template such as `https://wiki.example/{service}` for incidents without a runbook.")
    )
    retention_days: float = Field(
        DEFAULT_RETENTION_DAYS,
        gt=0,
        description=("Days of updates the first poll reads; finished records older than this are dropped."),
    )
    overlap_s: float = Field(
        DEFAULT_OVERLAP_S,
        ge=0,
        description=("Seconds each later poll reaches back before the previous one began (clock skew)."),
    )


@dataclass
class ItsmSource(Source):
    """Base of the ITSM adapters: mappings and incremental state built from the options.

    Subclasses set ``defaults`` (their source's values) and, when they speak HTTP,
    ``token_scheme`` for a bare ``token``.
    """

    defaults: ClassVar[Mappings] = Mappings()
    token_scheme: ClassVar[str] = "Bearer"
    writes_back: ClassVar[bool] = False  # whether ``write_back`` delivers opscenter's incident actions
    reads_on_call: ClassVar[bool] = False  # whether ``on_call`` reads who an on-call group has on call

    def __post_init__(self):
        super().__post_init__()
        self.mappings = Mappings.from_options(self.config.model_dump(), self.defaults)
        self.incremental = Incremental(self.config.retention_days, self.config.overlap_s)

    @cached_property
    def transport(self) -> HttpClient:
        return HttpClient.from_options(self.name, self.config.transport(), self.token_scheme)

    def write_back(self, incident_id: str, action_id: int, action: str, actor: str, detail: dict, at: datetime) -> None:
        """Deliver one of opscenter's incident actions (taken at ``at``) to a ``writes_back`` kind so that
        delivering it again changes nothing; raise SourceError when the source cannot take it now, saying
        so plainly when it refuses opscenter's credentials."""
        try:
            self.deliver(incident_id, action_id, action, actor, detail, at)
        except HttpError as exc:
            if exc.status not in (401, 403):
                raise
            refused = "did not accept the credentials" if exc.status == 401 else "denied the user the rights"
            raise SourceError(
                f"{self.name}: write-back refused: the ITSM {refused} (HTTP {exc.status}); "
                f"fix the source's user, password or token, or its roles, and the action is sent again. {exc}"
            ) from None

    def deliver(self, incident_id: str, action_id: int, action: str, actor: str, detail: dict, at: datetime) -> None:
        """The kind's own write-back (see ``write_back``)."""
        raise NotImplementedError(f"{self.kind} takes no write-back")

    def on_call(self, group: str) -> list[dict[str, str | None]]:
        """Who the on-call group ``group`` has on call now, as ``on_call_person`` records (a ``reads_on_call``
        kind); raise SourceError when the source cannot say."""
        raise NotImplementedError(f"{self.kind} reads no on-call group")


def on_call_person(person: Any, name: Any, email: Any, mobile: Any) -> dict[str, str | None]:
    """One person on call: their id in the ITSM, the name shown (the id when it has none), e-mail and mobile."""
    ident = _text(person)
    if ident is None:
        raise SourceError("an on-call person without an id")
    return {"person": ident, "name": _text(name) or ident, "email": _text(email), "mobile": _text(mobile)}


def bounded_on_call(source: str, group: str, people: list) -> list:
    """``people`` of an on-call group, refused beyond ``MAX_ON_CALL`` (each costs a request)."""
    if len(people) > MAX_ON_CALL:
        raise SourceError(f"{source}: on-call group {group!r} has {len(people)} people; at most {MAX_ON_CALL} are read")
    return people


def action_marker(action_id: int) -> str:
    """What names an opscenter action in the ITSM, so a retried delivery can find that it arrived."""
    return f"[opscenter action {action_id}]"


def action_text(action_id: int, action: str, actor: str, detail: dict) -> str:
    """An opscenter incident action as the ITSM's note: the marker, who did what, and the note's text."""
    what = {
        "acknowledge": "acknowledged the incident",
        "resolve": "resolved the incident",
        "note": "posted a status update" if detail.get("public") else "added a note",
        "priority": f"set priority P{detail.get('priority')}",
        "assign": f"assigned {detail.get('user')} as {detail.get('role')}",
    }[action]
    text = detail.get("text")
    return f"{action_marker(action_id)} {actor} {what} in opscenter." + (f"\n\n{text}" if text else "")
