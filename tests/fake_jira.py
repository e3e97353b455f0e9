"""A stateful fake of Jira's REST API v3 for the incident write-back: issues with a small workflow,
comments in Atlassian Document Format, transitions, assignee and priority, as a Jira site would take them."""

from __future__ import annotations

import re

from tests.fake_itsm import FakeApi
from tests.loopback_http import Reply, Request

CATEGORIES = {"Open": "new", "In Progress": "indeterminate", "Pending": "indeterminate", "Resolved": "done"}
WORKFLOW = {  # status -> transitions out of it: (id, name, to, fields on its screen)
    "Open": [("11", "Start work", "In Progress", ()), ("21", "Resolve", "Resolved", ("resolution",))],
    "In Progress": [("31", "Pause", "Pending", ()), ("21", "Resolve", "Resolved", ("resolution",))],
    "Pending": [("11", "Start work", "In Progress", ())],
    "Resolved": [("41", "Reopen", "In Progress", ())],
}
PRIORITIES = frozenset({"Highest", "High", "Medium", "Low", "Lowest"})
RESOLUTIONS = frozenset({"Done", "Won't Do"})
PAGE = 2  # comments per page at most, whatever is asked: paging is exercised
_PATH = re.compile(r"^/rest/api/3/issue/([A-Z][A-Z0-9_]*-[0-9]+)(?:/(comment|transitions|assignee))?$")


def adf_problem(doc) -> str | None:
    """Why ``doc`` is not a document of paragraphs of text and hard breaks, if it is not."""
    if not isinstance(doc, dict) or doc.get("type") != "doc" or doc.get("version") != 1:
        return f"comment body {doc!r:.80} is not an ADF document (type doc, version 1)"
    for paragraph in doc.get("content") or [None]:
        if not isinstance(paragraph, dict) or paragraph.get("type") != "paragraph" or not paragraph.get("content"):
            return f"{paragraph!r:.80} is not a paragraph with content"
        for node in paragraph["content"]:
            text = node.get("text") if isinstance(node, dict) else None
            if node != {"type": "hardBreak"} and not (node.get("type") == "text" and isinstance(text, str) and text):
                return f"{node!r:.80} is neither a non-empty text node nor a hard break"
    return None


def _text(node) -> str:
    if isinstance(node, list):
        return "".join(_text(n) for n in node)
    if not isinstance(node, dict):
        return ""
    return node.get("text", "") + ("\n" if node.get("type") == "hardBreak" else "") + _text(node.get("content"))


class FakeJira(FakeApi):
    """Issues keyed by key: status, assignee account, priority name, comments."""

    def __init__(self, accounts=("5b10ac8d82e05b22cc7d4ef5",), **auth):
        super().__init__(**auth)
        self.accounts = frozenset(accounts)
        self.issues: dict[str, dict] = {}

    def add_issue(self, key: str, status: str = "Open", priority: str = "Medium") -> dict:
        issue = {"status": status, "priority": priority, "assignee": None, "comments": [], "resolution": None}
        self.issues[key] = issue
        return issue

    def comments(self, key: str, internal: bool | None = None) -> list[str]:
        """The plain text of the issue's comments (only internal or public ones), oldest first."""
        return [_text(c["body"]) for c in self.issues[key]["comments"] if internal in (None, c["internal"])]

    def route(self, request: Request, base: str) -> Reply:
        found = _PATH.match(request.path)
        if found is None or found.group(1) not in self.issues:
            return self.refuse(f"no issue at {request.path}", 404)
        key, part = found.groups()
        issue = self.issues[key]
        handler = {
            ("GET", None): self.get_issue,
            ("PUT", None): self.edit,
            ("GET", "comment"): self.get_comments,
            ("POST", "comment"): self.add_comment,
            ("GET", "transitions"): self.get_transitions,
            ("POST", "transitions"): self.transition,
            ("PUT", "assignee"): self.assign,
        }.get((request.method, part))
        if handler is None:
            return self.refuse(f"{request.method} {request.path} is not what the write-back sends", 405)
        return handler(issue, request)

    def get_issue(self, issue: dict, request: Request) -> Reply:
        status = {"name": issue["status"], "statusCategory": {"key": CATEGORIES[issue["status"]]}}
        assignee = {"accountId": issue["assignee"]} if issue["assignee"] else None
        return Reply({"fields": {"status": status, "assignee": assignee, "priority": {"name": issue["priority"]}}})

    def get_comments(self, issue: dict, request: Request) -> Reply:
        start = int(request.query.get("startAt", 0))
        size = min(int(request.query.get("maxResults", 50)), PAGE)
        page = [{"id": c["id"], "body": c["body"]} for c in issue["comments"][start : start + size]]
        return Reply({"startAt": start, "maxResults": size, "total": len(issue["comments"]), "comments": page})

    def add_comment(self, issue: dict, request: Request) -> Reply:
        body = request.body
        if not isinstance(body, dict) or not set(body) <= {"body", "properties"}:
            return self.refuse(f"comment request {body!r:.80} has fields other than body and properties")
        problem = adf_problem(body.get("body"))
        if problem:
            return self.refuse(problem)
        internal = {"key": "sd.public.comment", "value": {"internal": True}} in (body.get("properties") or [])
        comment = {"id": str(len(issue["comments"]) + 10000), "body": body["body"], "internal": internal}
        issue["comments"].append(comment)
        return Reply({"id": comment["id"], "body": body["body"]}, 201)

    def get_transitions(self, issue: dict, request: Request) -> Reply:
        fields = request.query.get("expand") == "transitions.fields"
        return Reply(
            {
                "transitions": [
                    {
                        "id": tid,
                        "name": name,
                        "to": {"name": to, "statusCategory": {"key": CATEGORIES[to]}},
                        **({"fields": {f: {"required": True} for f in screen}} if fields else {}),
                    }
                    for tid, name, to, screen in WORKFLOW[issue["status"]]
                ]
            }
        )

    def transition(self, issue: dict, request: Request) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        tid = (body.get("transition") or {}).get("id")
        found = next((t for t in WORKFLOW[issue["status"]] if t[0] == tid), None)
        if found is None:
            return self.refuse(f"transition {tid!r} is not available from {issue['status']}")
        given = body.get("fields") or {}
        if set(given) != set(found[3]):
            return self.refuse(f"transition {tid} takes the fields {sorted(found[3])}, not {sorted(given)}")
        if "resolution" in given and (given["resolution"] or {}).get("name") not in RESOLUTIONS:
            return self.refuse(f"resolution {given['resolution']!r} is not one of {sorted(RESOLUTIONS)}")
        issue["status"] = found[2]
        issue["resolution"] = (given.get("resolution") or {}).get("name")
        return Reply(b"", 204)

    def assign(self, issue: dict, request: Request) -> Reply:
        account = (request.body or {}).get("accountId") if isinstance(request.body, dict) else None
        if account not in self.accounts:
            return self.refuse(f"no user with account id {account!r}", 404)
        issue["assignee"] = account
        return Reply(b"", 204)

    def edit(self, issue: dict, request: Request) -> Reply:
        body = request.body if isinstance(request.body, dict) else {}
        name = ((body.get("fields") or {}).get("priority") or {}).get("name")
        if set(body) != {"fields"} or set(body["fields"]) != {"priority"} or name not in PRIORITIES:
            return self.refuse(f"edit {body!r:.80} is not a priority by one of {sorted(PRIORITIES)}")
        issue["priority"] = name
        return Reply(b"", 204)
