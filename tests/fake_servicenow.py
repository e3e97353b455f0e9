"""A stateful fake of ServiceNow's Table API for the incident write-back: incidents, their journal
(``sys_journal_field``) and users, queried by encoded query and updated by PATCH as the instance would."""

from __future__ import annotations

import re
import uuid

from tests.fake_itsm import FakeApi
from tests.loopback_http import Reply, Request

WRITABLE = frozenset(
    {"state", "work_start", "impact", "urgency", "assigned_to", "close_code", "close_notes", "work_notes", "comments"}
)
STATES = frozenset({"1", "2", "3", "6", "7", "8"})
JOURNAL = ("work_notes", "comments")
_CONDITION = re.compile(r"^([a-z_][a-z0-9_.]*)(LIKE|IN|=)(.*)$", re.S)
_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
_TABLE = re.compile(r"^/api/now/table/([a-z_]+)(?:/([0-9a-f]{32}))?$")


def matches(record: dict, query: str) -> bool:
    """Whether ``record`` meets an encoded query of ``=``, ``IN`` and ``LIKE`` conditions (ORDERBY ignored)."""
    for part in query.split("^"):
        if not part or part.startswith("ORDERBY"):
            continue
        name, operator, value = _CONDITION.match(part).groups()
        found = str(record.get(name, ""))
        if operator == "=" and found != value:
            return False
        if operator == "IN" and found not in value.split(","):
            return False
        if operator == "LIKE" and value not in found:
            return False
    return True


class FakeServiceNow(FakeApi):
    """Incidents keyed by sys_id (plain values), journal entries and users of one instance."""

    def __init__(self, **auth):
        super().__init__(**auth)
        self.tables: dict[str, list[dict]] = {"incident": [], "sys_journal_field": [], "sys_user": []}

    def add_incident(self, number: str, **fields) -> dict:
        record = {"sys_id": uuid.uuid4().hex, "number": number, "state": "1", "work_start": "", **fields}
        self.tables["incident"].append(record)
        return record

    def add_user(self, user_name: str) -> str:
        sys_id = uuid.uuid4().hex
        self.tables["sys_user"].append({"sys_id": sys_id, "user_name": user_name})
        return sys_id

    def incident(self, number: str) -> dict:
        return next(r for r in self.tables["incident"] if r["number"] == number)

    def journal(self, number: str, element: str | None = None) -> list[str]:
        """The journal entries of an incident (of one element), oldest first."""
        sys_id = self.incident(number)["sys_id"]
        entries = self.tables["sys_journal_field"]
        return [e["value"] for e in entries if e["element_id"] == sys_id and element in (None, e["element"])]

    def route(self, request: Request, base: str) -> Reply:
        found = _TABLE.match(request.path)
        if found is None or found.group(1) not in self.tables:
            return self.refuse(f"no such table API path {request.path}", 404)
        table, sys_id = found.groups()
        if request.method == "GET" and sys_id is None:
            rows = [r for r in self.tables[table] if matches(r, request.query.get("sysparm_query", ""))]
            fields = request.query.get("sysparm_fields", "").split(",")
            limit = int(request.query.get("sysparm_limit", 10000))
            return Reply({"result": [{f: r.get(f, "") for f in fields} for r in rows[:limit]]})
        if request.method == "PATCH" and table == "incident" and sys_id is not None:
            return self.patch(sys_id, request.body)
        return self.refuse(f"{request.method} {request.path} is not what the write-back sends", 405)

    def patch(self, sys_id: str, body) -> Reply:
        record = next((r for r in self.tables["incident"] if r["sys_id"] == sys_id), None)
        if record is None:
            return self.refuse(f"no incident {sys_id}", 404)
        if not isinstance(body, dict) or not body or not set(body) <= WRITABLE:
            return self.refuse(f"body {body!r} is not an update of the writable incident fields")
        if not all(isinstance(v, str) for v in body.values()):
            return self.refuse("field values are sent as strings")
        problem = self.invalid(record, body)
        if problem:
            return self.refuse(problem)
        for element in JOURNAL:
            if body.get(element):
                entry = {"sys_id": uuid.uuid4().hex, "name": "incident", "element_id": sys_id, "element": element}
                self.tables["sys_journal_field"].append({**entry, "value": body[element]})
        record.update({k: v for k, v in body.items() if k not in JOURNAL})
        return Reply({"result": {"sys_id": sys_id}})

    def invalid(self, record: dict, body: dict) -> str | None:
        """Why the instance would refuse the update, if it would."""
        users = {u["sys_id"] for u in self.tables["sys_user"]}
        if body.get("state", "1") not in STATES:
            return f"state {body['state']!r} is not an incident state"
        if "work_start" in body and not _TIME.match(body["work_start"]):
            return f"work_start {body['work_start']!r} is not a date-time"
        if any(body.get(f, "1") not in ("1", "2", "3") for f in ("impact", "urgency")):
            return "impact and urgency are 1-3"
        if "assigned_to" in body and body["assigned_to"] not in users:
            return f"assigned_to {body['assigned_to']!r} is not a user's sys_id"
        if body.get("state") == "6" and not all({**record, **body}.get(f) for f in ("close_code", "close_notes")):
            return "a resolved incident needs close_code and close_notes"
        return None
