"""ServiceNow: incidents and change requests from the Table API.

Reads ``/api/now/table/incident`` and ``/api/now/table/change_request`` with an
encoded query (``sysparm_query``) for records updated since the last poll,
``sysparm_fields`` for the columns used, ``sysparm_display_value=all`` (values
and display values), and pages by ``sysparm_limit``/``sysparm_offset``,
following the ``Link: rel="next"`` header. Dates are UTC strings
(``2026-11-18 02:05:00``); the integration user's time zone should be UTC so
the ``sys_updated_on`` bound means the same instant.

Options: ``ServiceNowOptions``. With ``service_requests`` it also reads requested
items (``sc_req_item``) with their catalogue item's name, category and delivery
time, as the service_requests frame.

Write-back: each opscenter action is one ``PATCH /api/now/table/incident/<sys_id>`` (the
sys_id found by the incident's number) carrying its note (``work_notes``, or ``comments`` for a
public status update) and the fields it changes: acknowledge sets ``acknowledged_field``
(``work_start``) to the action's time when empty and moves a New incident to In Progress (2);
assigning the commander sets ``assigned_to`` to the ``sys_user`` whose ``user_name`` is the
opscenter user (the other roles are named in the note only); a priority change sets the
``priority_fields`` of that priority (impact and urgency by default); resolve sets state Resolved
(6) with ``close_code`` and ``close_notes``. Before the note is sent, the incident's journal
(``sys_journal_field``) is searched for the action's marker, so a retried delivery sends the
fields again but never the note twice.

On-call group (``on_call``): the group is a ``sys_user_group`` sys_id, or a name looked up in that table;
On-Call Scheduling's ``GET /api/now/on_call_rota/whoisoncall?group_ids=<sys_id>`` answers its members on
call now (``result[].userId``, in the answer's order), and one Table API read of ``sys_user`` gives their
user names, names, e-mail addresses and mobile phones.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
from pydantic import AfterValidator, Field

from datasources import itsm
from datasources.base import SourceError, parser
from datasources.options import HttpOptions
from datasources.registry import register

log = logging.getLogger(__name__)

DEFAULTS = itsm.Mappings(
    incident_state={"1": "new", "2": "in_progress", "3": "on_hold", "6": "resolved", "7": "closed", "8": "cancelled"},
    change_state={
        "-5": "new",
        "-4": "assess",
        "-3": "authorize",
        "-2": "scheduled",
        "-1": "implement",
        "0": "review",
        "3": "closed",
        "4": "cancelled",
    },
    outcome={"successful": "success", "successful_issues": "success", "unsuccessful": "failed"},
)
INCIDENT_FIELDS = (
    "sys_id",
    "number",
    "short_description",
    "priority",
    "state",
    "cmdb_ci",
    "opened_at",
    "resolved_at",
    "closed_at",
    "assignment_group",
    "caused_by",
    "rfc",
)
CHANGE_FIELDS = (
    "sys_id",
    "number",
    "short_description",
    "cmdb_ci",
    "type",
    "state",
    "start_date",
    "end_date",
    "work_start",
    "work_end",
    "close_code",
)
REQUEST_FIELDS = (
    "sys_id",
    "number",
    "cat_item",
    "cat_item.category",
    "cat_item.delivery_time",
    "opened_at",
    "closed_at",
    "state",
)
REQUEST_STATES = {"3": "fulfilled", "4": "cancelled", "7": "cancelled"}  # else open (1 open, 2 work in progress)
REFERENCE_FIELDS = frozenset({"cmdb_ci", "assignment_group", "caused_by", "rfc", "cat_item", "cat_item.category"})
_FIELD = re.compile(r"^[a-z_][a-z0-9_.]*$")
_OPERATORS = frozenset({"=", "!=", ">=", "<=", ">", "<", "LIKE", "IN", "STARTSWITH"})
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_SYS_ID = re.compile(r"^[0-9a-f]{32}$")
IN_PROGRESS, RESOLVED = "2", "6"
FINISHED_STATES = frozenset({"6", "7", "8"})  # resolved, closed, cancelled: left as they are
PRIORITY_FIELDS = {  # ServiceNow's default priority lookup: impact x urgency -> priority
    1: {"impact": "1", "urgency": "1"},
    2: {"impact": "1", "urgency": "2"},
    3: {"impact": "2", "urgency": "2"},
    4: {"impact": "2", "urgency": "3"},
    5: {"impact": "3", "urgency": "3"},
}


def condition(name: str, operator: str, value: Any) -> str:
    """One encoded-query condition; a ``^`` in the value is escaped as ``^^``."""
    if not _FIELD.match(name) or operator not in _OPERATORS:
        raise ValueError(f"bad encoded-query condition {name!r} {operator!r}")
    text = str(value)
    if any(c in text for c in "\r\n"):
        raise ValueError("encoded-query value contains a line break")
    return f"{name}{operator}{text.replace('^', '^^')}"


def encoded_query(*parts: str) -> str:
    """AND the non-empty parts together, ordered by update time for stable paging."""
    return "^".join([p for p in parts if p] + ["ORDERBYsys_updated_on", "ORDERBYsys_id"])


def next_link(response_headers: dict) -> str | None:
    """The ``rel="next"`` URL of a Link header, if any."""
    match = _NEXT.search(response_headers.get("Link", ""))
    return match.group(1) if match else None


def value(record: dict, name: str) -> Any:
    """A field as a plain value: a reference's display value, else its value (sys_id)."""
    found = record.get(name)
    if isinstance(found, dict):
        if name in REFERENCE_FIELDS and found.get("display_value"):
            return found["display_value"]
        return found.get("value")
    return found


def _link(base_url: str, table: str, record: dict) -> str | None:
    sys_id = value(record, "sys_id")
    return f"{base_url}/nav_to.do?uri={table}.do?sys_id={sys_id}" if sys_id else None


def incident_records(payload: dict, base_url: str, acknowledged_field: str = "work_start") -> list[dict]:
    """Raw incident records from a Table API ``incident`` page."""
    return [
        {
            "incident_id": value(r, "number"),
            "title": value(r, "short_description"),
            "priority": value(r, "priority"),
            "state": value(r, "state"),
            "service": value(r, "cmdb_ci"),
            "opened_at": value(r, "opened_at"),
            "acknowledged_at": value(r, acknowledged_field),
            "resolved_at": value(r, "resolved_at"),
            "closed_at": value(r, "closed_at"),
            "assignment_group": value(r, "assignment_group"),
            "change_id": value(r, "caused_by") or value(r, "rfc"),
            "url": _link(base_url, "incident", r),
        }
        for r in payload.get("result", [])
    ]


def change_records(payload: dict, base_url: str) -> list[dict]:
    """Raw change records from a Table API ``change_request`` page."""
    return [
        {
            "change_id": value(r, "number"),
            "title": value(r, "short_description"),
            "service": value(r, "cmdb_ci"),
            "type": value(r, "type"),
            "state": value(r, "state"),
            "planned_start": value(r, "start_date"),
            "planned_end": value(r, "end_date"),
            "actual_start": value(r, "work_start"),
            "actual_end": value(r, "work_end"),
            "outcome": value(r, "close_code"),
            "url": _link(base_url, "change_request", r),
        }
        for r in payload.get("result", [])
    ]


def _hours(duration: Any) -> float | None:
    """A ServiceNow duration value (a time after 1970-01-01 00:00:00) in hours."""
    stamp = pd.Timestamp(duration) if duration else None
    return None if stamp is None or pd.isna(stamp) else (stamp - pd.Timestamp("1970-01-01")).total_seconds() / 3600


@parser()
def request_rows(payload: dict, source: str) -> list[dict]:
    """service_requests rows from a Table API ``sc_req_item`` page."""
    rows = []
    for r in payload.get("result", []):
        state = REQUEST_STATES.get(str(value(r, "state")), "open")
        rows.append(
            {
                "request_id": value(r, "number"),
                "item": value(r, "cat_item") or "unknown",
                "category": value(r, "cat_item.category") or None,
                "opened_at": value(r, "opened_at"),
                "fulfilled_at": value(r, "closed_at") if state == "fulfilled" else None,
                "state": state,
                "target_h": _hours(value(r, "cat_item.delivery_time")),
                "source": source,
            }
        )
    return rows


@parser()
def parse_incidents(
    pages: list[dict], base_url: str, mappings: itsm.Mappings, source: str, acknowledged_field: str = "work_start"
) -> pd.DataFrame:
    """An incidents frame from Table API pages."""
    records = [r for page in pages for r in incident_records(page, base_url, acknowledged_field)]
    return itsm.incident_frame(records, mappings, source)


@parser()
def parse_changes(pages: list[dict], base_url: str, mappings: itsm.Mappings, source: str) -> pd.DataFrame:
    """A changes frame from Table API pages."""
    records = [r for page in pages for r in change_records(page, base_url)]
    return itsm.change_frame(records, mappings, source)


@parser()
def on_call_user_ids(payload: dict) -> list[str]:
    """The sys_ids of the users on call in a whoisoncall answer, each once, in the answer's order."""
    found = []
    for item in payload["result"]:
        user = str(item["userId"])
        if not _SYS_ID.match(user):
            raise ValueError(f"userId {user[:40]!r} is not 32 hex digits")
        if user not in found:
            found.append(user)
    return found


@parser()
def on_call_people(payload: dict, users: list[str]) -> list[dict]:
    """The people on call, in the order of ``users``, from a ``sys_user`` Table API answer; a user the answer
    lacks (no read access to the record), or whose ``user_name`` is empty, is named by their sys_id."""
    records = {str(value(r, "sys_id")): r for r in payload["result"]}
    return [
        itsm.on_call_person(
            str(value(records.get(user, {}), "user_name") or "").strip() or user,
            *(value(records.get(user, {}), name) for name in ("name", "email", "mobile_phone")),
        )
        for user in users
    ]


def _field_name(name: str) -> str:
    if not _FIELD.match(name):
        raise ValueError(f"{name!r} is not a ServiceNow field name")
    return name


def _field_values(values: dict[str, str]) -> dict[str, str]:
    for name in values:
        _field_name(name)
    return values


def glide_time(at: datetime) -> str:
    """A time as the Table API takes it: UTC, ``YYYY-MM-DD HH:MM:SS``."""
    return pd.Timestamp(at).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S")


def action_fields(
    record: dict, action: str, detail: dict, at: datetime, config: ServiceNowOptions, assignee: str | None
) -> dict[str, str]:
    """The incident fields an action sets, given the incident's current ``record`` (plain values)."""
    if record.get("state") in FINISHED_STATES:
        return {}
    if action == "acknowledge":
        fields = {} if record.get(config.acknowledged_field) else {config.acknowledged_field: glide_time(at)}
        return fields | ({"state": IN_PROGRESS} if record.get("state") == "1" else {})
    if action == "resolve":
        notes = detail.get("text") or "Resolved in opscenter."
        return {"state": RESOLVED, "close_code": config.close_code, "close_notes": notes}
    if action == "priority":
        return dict(config.priority_fields.get(detail["priority"], {}))
    if action == "assign" and detail["role"] == "commander" and assignee:
        return {"assigned_to": assignee}
    return {}


class ServiceNowOptions(HttpOptions, itsm.ItsmOptions):
    """ServiceNow's Table API: incidents, change requests and, optionally, requested items."""

    page_size: int = Field(200, ge=1, description="Records asked for per page.")
    incident_query: str = Field(
        "", description="Encoded query narrowing the incidents, e.g. `assignment_group.name=Trading Ops`."
    )
    change_query: str = Field("", description="Encoded query narrowing the change requests.")
    service_requests: bool = Field(
        False, description="Also read requested items (`sc_req_item`) as the service_requests frame."
    )
    request_query: str = Field("", description="Encoded query narrowing the requested items.")
    acknowledged_field: Annotated[str, AfterValidator(_field_name)] = Field(
        "work_start", description="Incident field holding the acknowledgement time (write-back sets it)."
    )
    priority_fields: dict[
        Annotated[int, Field(ge=1, le=5)], Annotated[dict[str, str], AfterValidator(_field_values)]
    ] = Field(
        default_factory=lambda: {p: dict(f) for p, f in PRIORITY_FIELDS.items()},
        description=(
            "Priority 1-5 -> the incident fields write-back sets (default: impact and urgency of the default "
            "priority lookup; `{priority: '1'}` where priority is set directly)."
        ),
    )
    close_code: str = Field(
        "Solution provided", description="Resolution code write-back sets when it resolves an incident."
    )


@register
class ServiceNowSource(itsm.ItsmSource):
    """Incidents and change requests of one ServiceNow instance."""

    kind = "servicenow"
    options_model = ServiceNowOptions
    defaults = DEFAULTS

    @classmethod
    def offers(cls, options: dict[str, Any]) -> frozenset[str]:
        """Incidents and changes, and service requests when ``service_requests`` is on."""
        return frozenset(
            {"incidents", "changes"} | ({"service_requests"} if options.get("service_requests") else set())
        )

    def _pages(self, table: str, fields: tuple[str, ...], extra_query: str, since: datetime) -> list[dict]:
        updated = condition("sys_updated_on", ">=", pd.Timestamp(since).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S"))
        params = {
            "sysparm_query": encoded_query(extra_query, updated),
            "sysparm_fields": ",".join(fields),
            "sysparm_display_value": "all",
            "sysparm_exclude_reference_link": "true",
            "sysparm_limit": self.config.page_size,
            "sysparm_offset": 0,
        }
        pages, url = [], f"api/now/table/{table}"
        while url:
            payload, headers = self.transport.get_with_headers(url, params)
            if not isinstance(payload, dict) or not isinstance(payload.get("result"), list):
                raise SourceError(f"{self.name}: {table}: expected {{'result': [...]}} from the Table API")
            pages.append(payload)
            url, params = next_link(headers) if payload["result"] else None, None
        return pages

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        since = self.incremental.since(now)
        base = self.transport.base_url
        cfg = self.config
        incidents = self._pages("incident", INCIDENT_FIELDS + (cfg.acknowledged_field,), cfg.incident_query, since)
        changes = self._pages("change_request", CHANGE_FIELDS, cfg.change_query, since)
        fetched = {
            "incidents": parse_incidents(incidents, base, self.mappings, self.name, cfg.acknowledged_field),
            "changes": parse_changes(changes, base, self.mappings, self.name),
        }
        if cfg.service_requests:
            pages = self._pages("sc_req_item", REQUEST_FIELDS, cfg.request_query, since)
            fetched["service_requests"] = itsm.request_frame([r for p in pages for r in request_rows(p, self.name)])
        return self.incremental.merge(now, fetched)

    writes_back = True
    reads_on_call = True

    def _group_sys_id(self, group: str) -> str:
        if _SYS_ID.match(group):
            return group
        found = self._one("sys_user_group", condition("name", "=", group), "sys_id") or {}
        if not _SYS_ID.match(str(found.get("sys_id", ""))):
            raise SourceError(f"{self.name}: no sys_user_group named {group!r}")
        return str(found["sys_id"])

    def on_call(self, group: str) -> list[dict[str, str | None]]:
        payload = self.transport.get("api/now/on_call_rota/whoisoncall", {"group_ids": self._group_sys_id(group)})
        if not isinstance(payload, dict) or not isinstance(payload.get("result"), list):
            raise SourceError(f"{self.name}: expected {{'result': [...]}} from on_call_rota/whoisoncall")
        users = itsm.bounded_on_call(self.name, group, on_call_user_ids(payload))
        if not users:
            return []
        params = {
            "sysparm_query": condition("sys_id", "IN", ",".join(users)),
            "sysparm_fields": "sys_id,user_name,name,email,mobile_phone",
            "sysparm_limit": len(users),
        }
        found = self.transport.get("api/now/table/sys_user", params)
        if not isinstance(found, dict) or not isinstance(found.get("result"), list):
            raise SourceError(f"{self.name}: sys_user: expected {{'result': [...]}} from the Table API")
        return on_call_people(found, users)

    def _one(self, table: str, query: str, fields: str) -> dict | None:
        """The first record of ``table`` matching the encoded ``query`` (plain values), if any."""
        params = {"sysparm_query": query, "sysparm_fields": fields, "sysparm_limit": 1}
        payload = self.transport.get(f"api/now/table/{table}", params)
        if not isinstance(payload, dict) or not isinstance(payload.get("result"), list):
            raise SourceError(f"{self.name}: {table}: expected {{'result': [...]}} from the Table API")
        found = payload["result"][:1]
        return found[0] if found and isinstance(found[0], dict) else None

    def _assignee(self, user: str) -> str | None:
        """The sys_id of the ServiceNow user whose user_name is ``user``."""
        found = self._one("sys_user", condition("user_name", "=", user), "sys_id")
        if found is None:
            log.warning(
                "%s: no sys_user with user_name %r: the assignment goes to the work notes only", self.name, user
            )
        return found and found.get("sys_id")

    def deliver(self, incident_id: str, action_id: int, action: str, actor: str, detail: dict, at: datetime) -> None:
        cfg = self.config
        record = self._one("incident", condition("number", "=", incident_id), f"sys_id,state,{cfg.acknowledged_field}")
        if record is None or not record.get("sys_id"):
            raise SourceError(f"{self.name}: no incident {incident_id} to write back to")
        sys_id = str(record["sys_id"])
        if not _SYS_ID.match(sys_id):
            raise SourceError(f"{self.name}: incident {incident_id} has the sys_id {sys_id[:40]!r}, not 32 hex digits")
        assignee = self._assignee(detail["user"]) if action == "assign" and detail["role"] == "commander" else None
        body = action_fields(record, action, detail, at, cfg, assignee)
        journal = "^".join(
            [
                condition("name", "=", "incident"),
                condition("element_id", "=", sys_id),
                condition("element", "IN", "work_notes,comments"),
                condition("value", "LIKE", itsm.action_marker(action_id)),
            ]
        )
        noted = self._one("sys_journal_field", journal, "sys_id") is not None
        if not noted:
            element = "comments" if action == "note" and detail.get("public") else "work_notes"
            body[element] = itsm.action_text(action_id, action, actor, detail)
        if body:
            path = f"api/now/table/incident/{sys_id}"
            self.transport.request("PATCH", path, {"sysparm_fields": "sys_id"}, body, resend=noted)
