"""Jira Service Management / Jira Cloud: incidents and changes from JQL search.

Reads ``/rest/api/3/search/jql`` with a JQL filter plus ``updated >= -<n>m`` (a
relative bound, so the Jira user's time zone does not matter), paging by
``nextPageToken`` until ``isLast``. Dates carry ``+0000`` offsets. The first
status transition in the changelog is the acknowledgement; an issue link to a
change issue is the incident's change.

Options: ``JiraOptions``; ``username`` + ``token`` (Cloud: e-mail and API token)
or ``token`` alone (Data Center personal access token).

Write-back, on the same REST API (v3, so comment bodies are Atlassian Document Format): each
opscenter action is a comment (``POST issue/<key>/comment``; internal, through Jira Service
Management's ``sd.public.comment`` property, unless it is a public status update), unless the
issue's comments already carry its marker; then acknowledge and resolve move the issue by the
transition (``GET``, then ``POST issue/<key>/transitions``) leading to the first of
``acknowledge_statuses`` / ``resolve_statuses`` available, an acknowledgement only an issue still
to do and a resolution only one not done (so a retry, or an issue moved on meanwhile, is left
alone; resolving sets ``resolution`` when the transition's screen has it); assigning the commander sets the
assignee to the account ``account_ids`` names; a priority change sets the priority
``priority_names`` names.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import datetime
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import Field

from datasources import itsm
from datasources.base import SourceError, parser
from datasources.options import HttpOptions
from datasources.registry import register

log = logging.getLogger(__name__)

DEFAULTS = itsm.Mappings(
    priority={
        "highest": 1,
        "critical": 1,
        "p1": 1,
        "high": 2,
        "p2": 2,
        "medium": 3,
        "p3": 3,
        "low": 4,
        "p4": 4,
        "lowest": 5,
        "p5": 5,
    },
    incident_state={
        "open": "new",
        "to do": "new",
        "in progress": "in_progress",
        "work in progress": "in_progress",
        "investigating": "in_progress",
        "pending": "on_hold",
        "waiting for customer": "on_hold",
        "on hold": "on_hold",
        "resolved": "resolved",
        "done": "resolved",
        "closed": "closed",
        "canceled": "cancelled",
        "declined": "cancelled",
    },
    change_state={
        "open": "new",
        "to do": "new",
        "planning": "assess",
        "awaiting approval": "authorize",
        "awaiting implementation": "scheduled",
        "implementing": "implement",
        "in progress": "implement",
        "review": "review",
        "peer review": "review",
        "completed": "closed",
        "closed": "closed",
        "done": "closed",
        "failed": "closed",
        "canceled": "cancelled",
        "declined": "cancelled",
    },
    change_type={"standard change": "standard", "normal change": "normal", "emergency change": "emergency"},
    outcome={
        "done": "success",
        "completed": "success",
        "fixed": "success",
        "failed": "failed",
        "rolled back": "rolled_back",
        "backed out": "rolled_back",
        "won't do": "unknown",
    },
)
INCIDENT_CATEGORIES = {"new": "new", "indeterminate": "in_progress", "done": "resolved"}
CHANGE_CATEGORIES = {"new": "new", "indeterminate": "implement", "done": "closed"}
DEFAULT_FIELDS = {"service": "components"}
FIELD_KEYS = (
    "service",
    "assignment_group",
    "acknowledged_at",
    "runbook_steps",
    "type",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
)
API = "rest/api/3"
ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-[0-9]+$")
PRIORITY_NAMES = {1: "Highest", 2: "High", 3: "Medium", 4: "Low", 5: "Lowest"}
INTERNAL = [{"key": "sd.public.comment", "value": {"internal": True}}]
BASE_FIELDS = ("summary", "status", "priority", "created", "updated", "resolutiondate", "resolution", "issuelinks")
CHANGE_ISSUE_TYPES = frozenset({"change", "[system] change"})


def jql_string(value: Any) -> str:
    """A JQL string literal: double-quoted, with backslashes and quotes escaped."""
    text = str(value)
    if any(c in text for c in "\r\n"):
        raise ValueError("JQL value contains a line break")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def search_jql(base: str, projects: list[str], since: datetime, now: datetime) -> str:
    """The JQL of one poll: the configured filter, the projects, and updated since ``since``."""
    minutes = max(1, math.ceil((now - since).total_seconds() / 60))
    parts = [f"({base})"] if base else []
    if projects:
        parts.append(f"project in ({', '.join(jql_string(p) for p in projects)})")
    parts.append(f"updated >= -{minutes}m")
    return " AND ".join(parts) + " ORDER BY updated ASC, key ASC"


def text(found: Any) -> Any:
    """A field as text: an option's value or name, a list's first item, else the value."""
    if isinstance(found, list):
        return text(found[0]) if found else None
    if isinstance(found, dict):
        return found.get("value") or found.get("name") or found.get("displayName") or found.get("key")
    return found


def _status(fields: dict, mapping: dict, categories: dict) -> str | None:
    status = fields.get("status") or {}
    name = status.get("name")
    if name is None or str(name).strip().lower() in mapping:
        return name
    return categories.get((status.get("statusCategory") or {}).get("key"), name)


def first_transition(issue: dict) -> str | None:
    """When the issue first changed status (its acknowledgement), from the changelog."""
    times = [
        h.get("created")
        for h in (issue.get("changelog") or {}).get("histories", [])
        if any(item.get("field") == "status" for item in h.get("items", []))
    ]
    times = [pd.Timestamp(t) for t in times if t]
    return min(times).isoformat() if times else None


def linked_change(fields: dict) -> str | None:
    """The key of the first change issue linked to this one."""
    for link in fields.get("issuelinks") or []:
        other = link.get("outwardIssue") or link.get("inwardIssue") or {}
        kind = ((other.get("fields") or {}).get("issuetype") or {}).get("name", "")
        if kind.lower() in CHANGE_ISSUE_TYPES:
            return other.get("key")
    return None


def _browse(base_url: str, issue: dict) -> str:
    return f"{base_url}/browse/{issue.get('key')}"


def incident_records(payload: dict, base_url: str, fields_map: dict, mappings: itsm.Mappings) -> list[dict]:
    """Raw incident records from one search page."""
    records = []
    for issue in payload.get("issues", []):
        fields = issue.get("fields") or {}
        pick = {key: text(fields.get(jira_field)) for key, jira_field in fields_map.items()}
        records.append(
            {
                "incident_id": issue.get("key"),
                "title": fields.get("summary"),
                "priority": text(fields.get("priority")),
                "state": _status(fields, mappings.incident_state, INCIDENT_CATEGORIES),
                "service": pick.get("service"),
                "opened_at": fields.get("created"),
                "acknowledged_at": pick.get("acknowledged_at") or first_transition(issue),
                "resolved_at": fields.get("resolutiondate"),
                "assignment_group": pick.get("assignment_group"),
                "change_id": linked_change(fields),
                "url": _browse(base_url, issue),
                **({"runbook_steps": pick["runbook_steps"]} if "runbook_steps" in pick else {}),
            }
        )
    return records


def change_records(payload: dict, base_url: str, fields_map: dict, mappings: itsm.Mappings) -> list[dict]:
    """Raw change records from one search page."""
    records = []
    for issue in payload.get("issues", []):
        fields = issue.get("fields") or {}
        pick = {key: text(fields.get(jira_field)) for key, jira_field in fields_map.items()}
        records.append(
            {
                "change_id": issue.get("key"),
                "title": fields.get("summary"),
                "service": pick.get("service"),
                "type": pick.get("type") or "normal",
                "state": _status(fields, mappings.change_state, CHANGE_CATEGORIES),
                "planned_start": pick.get("planned_start"),
                "planned_end": pick.get("planned_end"),
                "actual_start": pick.get("actual_start"),
                "actual_end": pick.get("actual_end") or fields.get("resolutiondate"),
                "outcome": text(fields.get("resolution")),
                "url": _browse(base_url, issue),
            }
        )
    return records


@parser()
def parse_incidents(
    pages: list[dict], base_url: str, fields_map: dict, mappings: itsm.Mappings, source: str
) -> pd.DataFrame:
    """An incidents frame from search pages."""
    records = [r for page in pages for r in incident_records(page, base_url, fields_map, mappings)]
    return itsm.incident_frame(records, mappings, source)


@parser()
def parse_changes(
    pages: list[dict], base_url: str, fields_map: dict, mappings: itsm.Mappings, source: str
) -> pd.DataFrame:
    """A changes frame from search pages."""
    records = [r for page in pages for r in change_records(page, base_url, fields_map, mappings)]
    return itsm.change_frame(records, mappings, source)


def adf(text: str) -> dict:
    """Plain text as an Atlassian Document Format document: a paragraph per blank-line-separated block,
    a hard break per line break."""
    paragraphs = []
    for block in text.split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        content = []
        for line in lines:
            content += [{"type": "hardBreak"}] if content else []
            content.append({"type": "text", "text": line})
        if content:
            paragraphs.append({"type": "paragraph", "content": content})
    return {"type": "doc", "version": 1, "content": paragraphs}


def adf_text(node: Any) -> str:
    """The text of an Atlassian Document Format node and its children."""
    if isinstance(node, list):
        return "".join(adf_text(n) for n in node)
    if not isinstance(node, dict):
        return ""
    return (node.get("text") if isinstance(node.get("text"), str) else "") + adf_text(node.get("content"))


def transition_to(transitions: list, targets: list[str]) -> dict | None:
    """The transition leading to the first of ``targets`` (status names, any case) that one leads to."""
    for target in targets:
        for transition in transitions:
            if (
                isinstance(transition, dict)
                and str(text(transition.get("to") or {}) or "").casefold() == target.casefold()
            ):
                return transition
    return None


class JiraOptions(HttpOptions, itsm.ItsmOptions):
    """Jira Service Management or Jira Cloud: incident and change issues from JQL search."""

    incident_jql: str = Field("issuetype = Incident", description="JQL selecting the incidents.")
    change_jql: str = Field("issuetype = Change", description="JQL selecting the changes.")
    projects: list[str] = Field(default_factory=list, description="Project keys to read (empty: every project).")
    page_size: int = Field(100, ge=1, description="Issues asked for per page.")
    fields: dict[Literal[FIELD_KEYS], str] = Field(
        default_factory=dict, description=("Contract key -> Jira field id (the service defaults to `components`).")
    )
    acknowledge_statuses: list[str] = Field(
        default_factory=lambda: ["In Progress", "Work in progress", "Investigating"],
        description="Statuses an acknowledgement moves the issue to: the first one a transition leads to.",
    )
    resolve_statuses: list[str] = Field(
        default_factory=lambda: ["Resolved", "Done", "Closed"],
        description="Statuses a resolution moves the issue to: the first one a transition leads to.",
    )
    resolution: str = Field("Done", description="Resolution set by the resolving transition, when its screen has one.")
    priority_names: dict[Annotated[int, Field(ge=1, le=5)], str] = Field(
        default_factory=lambda: dict(PRIORITY_NAMES), description="Priority 1-5 -> the Jira priority write-back sets."
    )
    account_ids: dict[str, str] = Field(
        default_factory=dict,
        description="opscenter user -> Jira account id, for assigning the incident commander as the assignee.",
    )


@register
class JiraSource(itsm.ItsmSource):
    """Incident and change issues of one Jira site."""

    kind = "jira"
    options_model = JiraOptions
    polled = ("incidents", "changes")
    defaults = DEFAULTS

    @property
    def fields_map(self) -> dict[str, str]:
        return {**DEFAULT_FIELDS, **self.config.fields}

    def _pages(self, base_jql: str, since: datetime, now: datetime) -> list[dict]:
        params = {
            "jql": search_jql(base_jql, self.config.projects, since, now),
            "fields": ",".join(dict.fromkeys(BASE_FIELDS + tuple(self.fields_map.values()))),
            "expand": "changelog",
            "maxResults": self.config.page_size,
        }
        pages = []
        while True:
            payload = self.transport.get(f"{API}/search/jql", params)
            if not isinstance(payload, dict) or not isinstance(payload.get("issues"), list):
                raise SourceError(f"{self.name}: expected {{'issues': [...]}} from JQL search")
            pages.append(payload)
            token = payload.get("nextPageToken")
            if payload.get("isLast", not token) or not token:
                return pages
            params = {**params, "nextPageToken": token}

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        since = self.incremental.since(now)
        base = self.transport.base_url
        incidents = self._pages(self.config.incident_jql, since, now)
        changes = self._pages(self.config.change_jql, since, now)
        return self.incremental.merge(
            now,
            {
                "incidents": parse_incidents(incidents, base, self.fields_map, self.mappings, self.name),
                "changes": parse_changes(changes, base, self.fields_map, self.mappings, self.name),
            },
        )

    writes_back = True

    def _commented(self, key: str, marker: str) -> bool:
        """Whether a comment of the issue carries ``marker``."""
        params = {"startAt": 0, "maxResults": 100}
        while True:
            payload = self.transport.get(f"{API}/issue/{key}/comment", params)
            if not isinstance(payload, dict) or not isinstance(payload.get("comments"), list):
                raise SourceError(f"{self.name}: expected {{'comments': [...]}} from the issue's comments")
            comments = payload["comments"]
            if any(isinstance(c, dict) and marker in adf_text(c.get("body")) for c in comments):
                return True
            params = {**params, "startAt": params["startAt"] + len(comments)}
            if not comments or params["startAt"] >= int(payload.get("total") or 0):
                return False

    def _transition(self, key: str, status: str, targets: list[str]) -> None:
        """Move the issue from ``status`` to the first of ``targets`` it can reach."""
        payload = self.transport.get(f"{API}/issue/{key}/transitions", {"expand": "transitions.fields"})
        if not isinstance(payload, dict) or not isinstance(payload.get("transitions"), list):
            raise SourceError(f"{self.name}: expected {{'transitions': [...]}} from issue {key}")
        found = transition_to(payload["transitions"], targets)
        if found is None:
            log.warning("%s: %s: no transition from %r to any of %s", self.name, key, status, targets)
            return
        body = {"transition": {"id": str(found.get("id"))}}
        if "resolution" in (found.get("fields") or {}):
            body["fields"] = {"resolution": {"name": self.config.resolution}}
        self.transport.request("POST", f"{API}/issue/{key}/transitions", body=body, resend=False)

    def deliver(self, incident_id: str, action_id: int, action: str, actor: str, detail: dict, at: datetime) -> None:
        key, cfg = incident_id, self.config
        if not ISSUE_KEY.match(key):
            raise ValueError(f"{incident_id!r} is not a Jira issue key")
        issue = self.transport.get(f"{API}/issue/{key}", {"fields": "status,assignee,priority"})
        fields = (issue or {}).get("fields") if isinstance(issue, dict) else None
        if not isinstance(fields, dict):
            raise SourceError(f"{self.name}: expected {{'fields': {{...}}}} from issue {key}")
        if not self._commented(key, itsm.action_marker(action_id)):
            body = {"body": adf(itsm.action_text(action_id, action, actor, detail))}
            if not (action == "note" and detail.get("public")):
                body["properties"] = INTERNAL
            self.transport.request("POST", f"{API}/issue/{key}/comment", body=body, resend=False)
        status = fields.get("status") if isinstance(fields.get("status"), dict) else {}
        category = (status.get("statusCategory") or {}).get("key")
        if action == "acknowledge" and category == "new":  # to do: not yet worked on, nor finished
            self._transition(key, str(status.get("name")), cfg.acknowledge_statuses)
        elif action == "resolve" and category != "done":
            self._transition(key, str(status.get("name")), cfg.resolve_statuses)
        elif action == "priority" and detail["priority"] in cfg.priority_names:
            name = cfg.priority_names[detail["priority"]]
            if text(fields.get("priority")) != name:
                self.transport.request("PUT", f"{API}/issue/{key}", body={"fields": {"priority": {"name": name}}})
        elif action == "assign" and detail["role"] == "commander":
            account = cfg.account_ids.get(detail["user"])
            if account is None:
                log.warning(
                    "%s: %s: no account_ids entry for %r: the comment names the commander",
                    self.name,
                    key,
                    detail["user"],
                )
            elif ((fields.get("assignee") or {}).get("accountId")) != account:
                self.transport.request("PUT", f"{API}/issue/{key}/assignee", body={"accountId": account})
