"""Request Tracker 5: incidents from REST2 ticket search.

Reads ``/REST/2.0/tickets`` with a TicketSQL query (the configured filter AND
``LastUpdated >= '<UTC time>'``; RT's ``$Timezone`` should be UTC), paging by
``page`` up to ``pages``. A ticket's ``Started`` (set when it is first opened)
is its acknowledgement; RT reports an unset date as 1970-01-01T00:00:00Z. The
service is a ticket custom field, the assignment group the queue.

Options: ``RequestTrackerOptions``; ``url`` is RT's web root, auth ``username`` +
``password`` (basic) or ``token`` (an RT auth token).

Priorities: RT keeps a number (stock RT 5 labels 0 Low, 50 Medium, 100 High with ``%PriorityAsString``,
turns an unknown label, or one in the wrong case, into 0 on update, and reports the number when read
back, or a label as it was sent on create). ``Priorities`` writes opscenter's 1-5 as ``priority_names``
gives them (by default the numbers 100, 75, 50, 25, 0) and reads a number by ``priority_ranges`` (the
lowest number of each priority) and a label by ``priority_labels`` (RT's table) then the ranges, after
the config's ``priority_map``; the options refuse a written value that reads back as another priority.
While ``priority_ranges`` is not configured, a number 1 to 5 reads as P1-P5 as it did before the ranges (a site
that numbered its tickets so), and the source's status warns naming those tickets; each ticket's raw
priority is kept as ``x_priority_raw``.

Write-back: an opscenter action becomes a comment on the ticket (a public status update a
correspondence), whose subject is the action's marker; acknowledge then sets the status ``open``,
resolve ``resolved``, a priority change the priority's value. Before posting, the ticket's attachments
are searched for the marker, so a delivery retried after a lost answer never posts twice; the status
and priority updates are idempotent themselves.

Declared incidents: ``open_ticket`` opens a ticket in ``declare_queue`` whose subject starts with the
incident's marker, after searching for one with that marker, so a retry after a lost answer links the
ticket it opened before; then sets its priority by an update (RT stores a label sent on create as it is,
not as its number).

On-call group (``on_call``): the user-defined group of that name (``GET /REST/2.0/groups`` searched by
``Name``), its user members from the group record (which needs only ``SeeGroup``, where the members
collection needs ``AdminGroupMembership``) and those of the groups nested in it, followed to any depth (each
group read once, at most ``MAX_GROUPS``; a disabled nested group, whose members RT no longer counts, is not
followed), and each user's record for the real name, e-mail address and mobile phone; a user in several of
them is read once, disabled users are left out. Who is on call is whoever is in the group: the team moves
people in and out at hand-over.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

import pandas as pd
from pydantic import Field, model_validator

from datasources import itsm
from datasources.base import SourceError, parser
from datasources.options import HttpOptions
from datasources.registry import register

DEFAULTS = itsm.Mappings(
    incident_state={
        "new": "new",
        "open": "in_progress",
        "stalled": "on_hold",
        "resolved": "resolved",
        "rejected": "cancelled",
        "deleted": "cancelled",
    },
)
ACTION_STATUS = {"acknowledge": "open", "resolve": "resolved"}
RT_LABELS = {"Low": 0, "Medium": 50, "High": 100}  # stock RT 5's %PriorityAsString
PRIORITY_NAMES = {1: "100", 2: "75", 3: "50", 4: "25", 5: "0"}  # what write-back sets for P1-P5
PRIORITY_RANGES = {1: 100, 2: 75, 3: 50, 4: 25, 5: 0}  # the lowest RT number read as P1-P5
OLD_NUMBERS = range(1, 6)  # numbers read as P1-P5 as they are, before the stock ranges: kept while those apply
NAMED_TICKETS = 10  # at most this many tickets named in the source's warning
MAX_GROUPS = 20  # groups read for one on-call group, itself and those nested in it: one request each
NUMBER = re.compile(r"-?\d+")
FIELDS = "Subject,Status,Queue,Priority,Created,Started,Resolved,LastUpdated,CustomFields"


@dataclass(frozen=True)
class Priorities:
    """Opscenter's priorities 1-5 to and from RT's priority numbers and labels."""

    names: dict[int, str]  # priority -> what write-back sets: a number or a label of ``labels``
    ranges: dict[int, int]  # priority -> the lowest RT number read as it
    labels: dict[str, int]  # RT's %PriorityAsString: label -> number
    explicit: dict[str, int]  # the config's priority_map, keys lower-case: read before the rest
    stock: bool = False  # priority_ranges not configured: a number 1-5 reads as P1-P5, as it did before them

    def write(self, priority: int) -> int | str | None:
        """What write-back sets for ``priority`` (a number as a number); None when nothing is configured."""
        value = self.names.get(priority)
        return int(value) if value is not None and NUMBER.fullmatch(value) else value

    def read(self, value):
        """The priority RT's ``value`` (a number or a label) reads as: ``priority_map`` first, then a label as
        its number, an old number (``old_number``) as itself, a number by range (below every range: the lowest
        priority); anything else as it came."""
        if value is None:
            return None
        text = str(value).strip()
        if text.lower() in self.explicit:
            return self.explicit[text.lower()]
        folded = {label.lower(): number for label, number in self.labels.items()}
        number = int(text) if NUMBER.fullmatch(text) else folded.get(text.lower())
        if number is None:
            return text
        if self.old_number(text):
            return number
        return next((p for p, lowest in sorted(self.ranges.items()) if number >= lowest), max(self.ranges))

    def old_number(self, value) -> bool:
        """Whether RT's ``value`` is a number 1-5 that the stock ranges would read as P5 but that a site
        numbering its tickets 1-5 (read as they were before those ranges) means as P1-P5: so read, and
        warned of, until ``priority_map`` or ``priority_ranges`` says how this RT's numbers read."""
        text = "" if value is None else str(value).strip()
        return (
            self.stock and text not in self.explicit and NUMBER.fullmatch(text) is not None and int(text) in OLD_NUMBERS
        )

    def disagreement(self) -> str | None:
        """Why these maps cannot be used: a value written that RT would not keep, or that reads back as
        another priority; None when every priority written reads back as itself."""
        ranges = sorted(self.ranges.items())
        if not ranges:
            return "priority_ranges needs at least one priority"
        shown = ", ".join(f"P{p} from {lowest}" for p, lowest in ranges)
        if any(low <= lower for (_, low), (_, lower) in zip(ranges, ranges[1:])):
            return f"priority_ranges must fall as the priority's number rises ({shown})"
        for priority, value in sorted(self.names.items()):
            written = f"priority_names writes P{priority} as {value!r}"
            if NUMBER.fullmatch(value) and int(value) < 0:
                return f"{written}; RT stores no negative priority"
            if not NUMBER.fullmatch(value) and value not in self.labels:
                known = ", ".join(sorted(self.labels))
                return f"{written}, not a label of priority_labels (case matters: {known}); RT would store 0"
            read = self.read(value)
            if read != priority:
                why = "priority_map" if value.lower() in self.explicit else f"priority_ranges: {shown}"
                return f"{written}, which reads back as P{read} ({why}); make the two agree"
        return None

    @classmethod
    def from_options(cls, options: RequestTrackerOptions) -> Priorities:
        """The priorities of a source's options."""
        explicit = {str(k).strip().lower(): v for k, v in options.priority_map.items()}
        stock = "priority_ranges" not in options.model_fields_set
        names, ranges, labels = (
            dict(options.priority_names),
            dict(options.priority_ranges),
            dict(options.priority_labels),
        )
        return cls(names, ranges, labels, explicit, stock)


STOCK = Priorities(PRIORITY_NAMES, PRIORITY_RANGES, RT_LABELS, {}, stock=True)


def ticketsql_string(value) -> str:
    """A TicketSQL string literal: single-quoted, with backslashes and quotes escaped."""
    text = str(value)
    if any(c in text for c in "\r\n"):
        raise ValueError("TicketSQL value contains a line break")
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def search_query(base: str, since: datetime) -> str:
    """The TicketSQL of one poll: the configured filter AND updated since ``since``."""
    updated = f"LastUpdated >= {ticketsql_string(pd.Timestamp(since).tz_convert('UTC').strftime('%Y-%m-%d %H:%M:%S'))}"
    return f"({base}) AND {updated}" if base else updated


def ticket_number(incident_id: str) -> str:
    """RT's ticket number of an incident id ``RT-<n>``."""
    number = incident_id.removeprefix("RT-")
    if not number.isdigit():
        raise ValueError(f"{incident_id!r} is not a Request Tracker incident id")
    return number


def custom_field(ticket: dict, name: str):
    """The first value of a ticket's custom field ``name``, if set."""
    for field in ticket.get("CustomFields") or []:
        if isinstance(field, dict) and field.get("name") == name and field.get("values"):
            return field["values"][0]
    return None


def incident_records(
    payload: dict, base_url: str, service_field: str = "Service", priorities: Priorities = STOCK
) -> list[dict]:
    """Raw incident records from one REST2 tickets page, their priorities read as opscenter's."""
    return [
        {
            "incident_id": f"RT-{t['id']}" if t.get("id") else None,
            "title": t.get("Subject"),
            "priority": priorities.read(t.get("Priority")),
            "priority_raw": t.get("Priority"),
            "state": t.get("Status"),
            "service": custom_field(t, service_field),
            "opened_at": t.get("Created"),
            "acknowledged_at": t.get("Started"),
            "resolved_at": t.get("Resolved"),
            "assignment_group": (t.get("Queue") or {}).get("Name"),
            "url": f"{base_url}/Ticket/Display.html?id={t.get('id')}",
        }
        for t in payload.get("items", [])
    ]


@parser()
def parse_incidents(
    pages: list[dict],
    base_url: str,
    mappings: itsm.Mappings,
    source: str,
    service_field: str = "Service",
    priorities: Priorities = STOCK,
) -> pd.DataFrame:
    """An incidents frame from REST2 tickets pages."""
    records = [r for page in pages for r in incident_records(page, base_url, service_field, priorities)]
    return itsm.incident_frame(records, replace(mappings, priority={}), source)  # ``priorities`` read them


def old_numbered(incidents: pd.DataFrame, priorities: Priorities) -> list[str]:
    """The incidents whose RT priority is an old number 1-5 (``Priorities.old_number``), by ticket number."""
    found = incidents[incidents["x_priority_raw"].map(priorities.old_number)] if len(incidents) else incidents
    return sorted(found["incident_id"], key=lambda incident: int(ticket_number(incident)))


@parser()
def group_id(payload: dict, group: str) -> str:
    """The id of the one group named ``group`` in a REST2 groups search."""
    found = [str(item["id"]) for item in payload["items"] if str(item.get("id", "")).isdigit()]
    if len(found) != 1:
        raise SourceError(f"expected one Request Tracker group named {group!r}, found {len(found)}")
    return found[0]


@parser()
def group_members(record: dict) -> tuple[list[str], list[str]]:
    """The user ids and the group ids among a REST2 group record's direct members (malformed ones skipped)."""
    members = [m for m in record["Members"] if isinstance(m, dict)]
    users = [str(m["id"]) for m in members if m.get("type") == "user" and m.get("id")]
    ids = (str(m.get("id", "")) for m in members if m.get("type") == "group")
    groups = [str(int(i)) for i in ids if i.isascii() and i.isdecimal()]  # "07" is group 7: read once
    return users, groups


def disabled(record: dict) -> bool:
    """Whether a REST2 user or group record is disabled ("1", 1 or true; absent, null, "0" or "" are not)."""
    return str(record.get("Disabled") or 0) != "0"


@parser()
def user_person(record: dict) -> dict | None:
    """A REST2 user record as a person on call; None for a disabled user."""
    if disabled(record):
        return None
    return itsm.on_call_person(
        record["Name"], record.get("RealName"), record.get("EmailAddress"), record.get("MobilePhone")
    )


class RequestTrackerOptions(HttpOptions, itsm.ItsmOptions):
    """Request Tracker 5: incident tickets from REST2 ticket search."""

    query: str = Field("Queue = 'Incidents'", description="TicketSQL selecting the incident tickets.")
    service_field: str = Field("Service", description="Custom field naming the ticket's service.")
    page_size: int = Field(100, ge=1, le=100, description="Tickets asked for per page (RT's maximum is 100).")
    priority_names: dict[Annotated[int, Field(ge=1, le=5)], str] = Field(
        default_factory=lambda: dict(PRIORITY_NAMES),
        description=(
            "Priority 1-5 -> what write-back and declared tickets set: a number, or a label of `priority_labels` "
            "(case matters); each must read back as its own priority."
        ),
    )
    priority_ranges: dict[Annotated[int, Field(ge=1, le=5)], int] = Field(
        default_factory=lambda: dict(PRIORITY_RANGES),
        description=(
            "Priority 1-5 -> the lowest RT number read as it, falling as the priority's number rises "
            "(P2 is 75 to 99); a number below every range reads as the lowest priority listed. Left out, a number "
            "1-5 reads as P1-P5, as before these ranges, and the source's status names those tickets."
        ),
    )
    priority_labels: dict[str, int] = Field(
        default_factory=lambda: dict(RT_LABELS),
        description="RT's `%PriorityAsString`: label -> number; a label read is taken as its number.",
    )
    declare_queue: str = Field(
        "Incidents",
        description="Queue of the tickets opened for incidents declared in opscenter (`command.declare_to`).",
    )

    @model_validator(mode="after")
    def _priorities_agree(self) -> RequestTrackerOptions:
        if problem := Priorities.from_options(self).disagreement():
            raise ValueError(problem)
        return self


@register
class RequestTrackerSource(itsm.ItsmSource):
    """Incident tickets of one Request Tracker 5."""

    kind = "request_tracker"
    options_model = RequestTrackerOptions
    polled = ("incidents",)
    defaults = DEFAULTS
    token_scheme = "token"

    def __post_init__(self):
        super().__post_init__()
        self.priorities = Priorities.from_options(self.config)
        self.old_numbers: list[str] = []  # the tickets the last fetch read by an old number 1-5

    def _pages(self, since: datetime) -> list[dict]:
        params = {
            "query": search_query(self.config.query, since),
            "fields": FIELDS,
            "fields[Queue]": "Name",
            "orderby": "id",
            "per_page": self.config.page_size,
            "page": 1,
        }
        pages = []
        while True:
            payload = self.transport.get("REST/2.0/tickets", params)
            if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
                raise SourceError(f"{self.name}: expected {{'items': [...]}} from REST2 tickets")
            pages.append(payload)
            if params["page"] >= int(payload.get("pages") or 0):
                return pages
            params = {**params, "page": params["page"] + 1}

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        pages = self._pages(self.incremental.since(now))
        merged = self.incremental.merge(
            now,
            {
                "incidents": parse_incidents(
                    pages,
                    self.transport.base_url,
                    self.mappings,
                    self.name,
                    self.config.service_field,
                    self.priorities,
                ),
            },
        )
        self.old_numbers = old_numbered(merged["incidents"], self.priorities)
        return merged

    def warnings(self) -> list[str]:
        found = self.old_numbers
        if not found:
            return []
        named = ", ".join(found[:NAMED_TICKETS]) + (
            f" and {len(found) - NAMED_TICKETS} more" if len(found) > NAMED_TICKETS else ""
        )
        return [
            f"{self.name}: {len(found)} ticket(s) with RT priority 1-5 read as P1-P5 as before, where RT's stock "
            f"priorities read 100 as P1 and 0 as P5: {named}; set priority_map (such as {{'1': 1, ..., '5': 5}}) "
            "or priority_ranges to say how this RT's numbers read"
        ]

    writes_back = True
    reads_on_call = True

    def on_call(self, group: str) -> list[dict[str, str | None]]:
        # RT 5 searches only user-defined groups here and ignores the Domain condition; it says what is meant
        query = json.dumps([{"field": "Name", "value": group}, {"field": "Domain", "value": "UserDefined"}])
        found = self.transport.get("REST/2.0/groups", {"query": query, "fields": "Name"})
        if not isinstance(found, dict) or not isinstance(found.get("items"), list):
            raise SourceError(f"{self.name}: expected {{'items': [...]}} from REST2 groups")
        users = itsm.bounded_on_call(self.name, group, self._member_users(group, group_id(found, group)))
        people = [user_person(self.transport.get(f"REST/2.0/user/{quote(user, safe='')}")) for user in users]
        return [p for p in people if p is not None]

    def _member_users(self, group: str, top: str) -> list[str]:
        """The user ids of the on-call group ``group`` (its id ``top``) and of the groups nested in it, to any
        depth, each once and first seen first; each group read once, at most ``MAX_GROUPS``."""
        users: dict[str, None] = {}
        seen, pending = {top}, [top]
        while pending:
            current = pending.pop(0)
            record = self.transport.get(f"REST/2.0/group/{current}")
            if not isinstance(record, dict):
                raise SourceError(f"{self.name}: expected a group record from REST2 group")
            if current != top and disabled(record):
                continue  # RT counts nobody in a disabled group as a member of the groups it is in
            direct, nested = group_members(record)
            users.update(dict.fromkeys(direct))
            for inner in nested:
                if inner in seen:
                    continue
                if len(seen) >= MAX_GROUPS:
                    raise SourceError(
                        f"{self.name}: on-call group {group!r} nests more than {MAX_GROUPS - 1} groups; "
                        f"at most {MAX_GROUPS} groups are read"
                    )
                seen.add(inner)
                pending.append(inner)
        return list(users)

    def _posted(self, ticket: str, marker: str) -> bool:
        """Whether an attachment of the ticket has ``marker`` as its subject."""
        params = {"fields": "Subject", "per_page": 100, "page": 1}
        while True:
            payload = self.transport.get(f"REST/2.0/ticket/{ticket}/attachments", params)
            if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
                raise SourceError(f"{self.name}: expected {{'items': [...]}} from REST2 ticket attachments")
            if any(isinstance(item, dict) and item.get("Subject") == marker for item in payload["items"]):
                return True
            if params["page"] >= int(payload.get("pages") or 0):
                return False
            params = {**params, "page": params["page"] + 1}

    def deliver(self, incident_id: str, action_id: int, action: str, actor: str, detail: dict, at: datetime) -> None:
        ticket, marker = ticket_number(incident_id), itsm.action_marker(action_id)
        if not self._posted(ticket, marker):
            kind = "correspond" if action == "note" and detail.get("public") else "comment"
            body = {"Subject": marker, "Content": itsm.action_text(action_id, action, actor, detail)}
            body = {**body, "ContentType": "text/plain"}
            self.transport.request("POST", f"REST/2.0/ticket/{ticket}/{kind}", body=body, resend=False)
        update = {"Status": ACTION_STATUS[action]} if action in ACTION_STATUS else {}
        if action == "priority" and (value := self.priorities.write(detail["priority"])) is not None:
            update = {"Priority": value}
        if update:
            self.transport.request("PUT", f"REST/2.0/ticket/{ticket}", body=update)

    def open_ticket(self, marker: str, incident: dict) -> tuple[str, str]:
        """Open the ticket of a declared incident (``incident``: its title, service, priority, summary) unless
        one with ``marker`` exists; return its incident id and address."""
        query = f"Subject LIKE {ticketsql_string(marker)}"
        found = self.transport.get("REST/2.0/tickets", {"query": query, "fields": "Subject", "orderby": "id"})
        if not isinstance(found, dict) or not isinstance(found.get("items"), list):
            raise SourceError(f"{self.name}: expected {{'items': [...]}} from REST2 tickets")
        ours = [t for t in found["items"] if isinstance(t, dict) and str(t.get("Subject", "")).startswith(marker)]
        if ours:
            ticket = str(ours[0]["id"])
        else:
            body = {
                "Queue": self.config.declare_queue,
                "Subject": f"{marker} {incident['title']}",
                "Content": incident.get("summary") or incident["title"],
                "ContentType": "text/plain",
            }
            if incident.get("service"):
                body["CustomFields"] = {self.config.service_field: incident["service"]}
            created = self.transport.request("POST", "REST/2.0/ticket", body=body, resend=False)
            if not isinstance(created, dict) or not created.get("id"):
                raise SourceError(f"{self.name}: expected the new ticket's id from REST2 ticket")
            ticket = str(created["id"])
        if (value := self.priorities.write(incident["priority"])) is not None:  # RT turns a label into its number
            self.transport.request("PUT", f"REST/2.0/ticket/{ticket}", body={"Priority": value})  # on update only
        return f"RT-{ticket}", f"{self.transport.base_url}/Ticket/Display.html?id={ticket}"
