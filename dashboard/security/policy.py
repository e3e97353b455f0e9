"""Who may do what: which roles read which page and which roles perform which write.

Pages are matched by their first path segment (``/chain/x`` is ``/chain``); a page not listed
is readable by every role. A write not listed is refused to everyone, so a new write has to
be named here before anyone can perform it.
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
    "incident.assign": frozenset({"manager", "admin"}),
    "incident.note": frozenset({"manager", "admin"}),
    "incident.priority": frozenset({"manager", "admin"}),
    "incident.resolve": frozenset({"manager", "admin"}),
    "assessment.write": frozenset({"manager", "admin"}),
    "audit.export": frozenset({"auditor", "admin"}),
    "settings.write": frozenset({"admin"}),
    "token.create": frozenset({"admin"}),
    "token.revoke": frozenset({"admin"}),
    "user.add": frozenset({"admin"}),
    "user.revoke": frozenset({"admin"}),
}


def page_of(path: str) -> str:
    """The policy key of a URL path: its first segment, e.g. ``/chain/equity`` -> ``/chain``."""
    first = path.strip("/").split("/", 1)[0]
    return f"/{first}"


def may_read(roles: Iterable[str], path: str) -> bool:
    """Whether any of ``roles`` may read the page at ``path``."""
    return not PAGE_READERS.get(page_of(path), EVERYONE).isdisjoint(roles)


def may_write(roles: Iterable[str], action: str) -> bool:
    """Whether any of ``roles`` may perform the write ``action``."""
    return not WRITERS.get(action, frozenset()).isdisjoint(roles)
