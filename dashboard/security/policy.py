"""Who may do what: which roles read which page and which roles perform which write.

Pages are matched by their first path segment (``/chain/x`` is ``/chain``); a page not listed
is readable by every role. A write not listed is refused to everyone, so a new write has to
be named here before anyone can perform it. A refused read of a page in AUDITED_READS is
audited (the page request, a callback of the page, the page router asked for it).
"""

from __future__ import annotations

from collections.abc import Iterable

ROLES = ("viewer", "manager", "auditor", "admin")
EVERYONE = frozenset(ROLES)

PAGE_READERS: dict[str, frozenset[str]] = {
    "/maturity": frozenset({"manager", "auditor", "admin"}),
    "/audit": frozenset({"auditor", "admin"}),
    "/capacity": frozenset({"manager", "auditor", "admin"}),
}

WRITERS: dict[str, frozenset[str]] = {
    "incident.acknowledge": frozenset({"manager", "admin"}),
    "incident.declare": frozenset({"manager", "admin"}),
    "incident.assign": frozenset({"manager", "admin"}),
    "incident.note": frozenset({"manager", "admin"}),
    "incident.priority": frozenset({"manager", "admin"}),
    "incident.resolve": frozenset({"manager", "admin"}),
    "incident.grade": frozenset({"manager", "admin"}),
    "incident.preplan_step": frozenset({"manager", "admin"}),
    "incident.submit_report": frozenset({"manager", "admin"}),
    "assessment.write": frozenset({"manager", "admin"}),
    "audit.export": frozenset({"auditor", "admin"}),
    "settings.write": frozenset({"admin"}),
    "token.create": frozenset({"admin"}),
    "token.revoke": frozenset({"admin"}),
    "user.add": frozenset({"admin"}),
    "user.revoke": frozenset({"admin"}),
    "user.disable": frozenset({"admin"}),
    "user.enable": frozenset({"admin"}),
}

AUDITED_READS: dict[str, str] = {"/audit": "audit.read"}  # pages whose refused reads get an audit row, as this action


def page_of(path: str) -> str:
    """The policy key of a URL path: its first segment, e.g. ``/chain/equity`` -> ``/chain``."""
    first = path.strip("/").split("/", 1)[0]
    return f"/{first}"


def may_read(roles: Iterable[str], path: str) -> bool:
    """Whether any of ``roles`` may read the page at ``path``."""
    return not PAGE_READERS.get(page_of(path), EVERYONE).isdisjoint(roles)


def refused_read_action(path: str) -> str | None:
    """The audit action of a refused read of ``path`` when its page is in AUDITED_READS, else None."""
    return AUDITED_READS.get(page_of(path))


def may_write(roles: Iterable[str], action: str) -> bool:
    """Whether any of ``roles`` may perform the write ``action``."""
    return not WRITERS.get(action, frozenset()).isdisjoint(roles)
