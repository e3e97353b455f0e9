"""The one check for values a URL carries: path parts and query parameters.

Pages call ``clean(kind, value)`` on every value taken from their URL before using it; a
value outside its kind's characters or length raises UrlInputError, whose message is safe
to show (it quotes at most 40 characters of the value). A kind checks the form of a value, not that
it exists: ``item`` is the form of a capability item id (the catalogue checks its ids with the same
pattern, ``ITEM_ID``), and /maturity then looks the id up in its catalogue. ``window`` does the same for
``?from=&to=`` and resolves them with ``dashboard.core.timewindow``; ``instant`` checks one bound of an
open range (/audit's).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pandas as pd

from dashboard.core import timewindow

_RULES: dict[str, tuple[re.Pattern, str]] = {
    "chain": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"), "1-64 letters, digits, '_', '.' or '-'"),
    "service": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"), "1-128 letters, digits, '_', '.', ':' or '-'"),
    "trace_id": (re.compile(r"[0-9a-fA-F]{16}|[0-9a-fA-F]{32}"), "16 or 32 hexadecimal digits"),
    "incident_id": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"), "1-64 letters, digits, '_', '.' or '-'"),
    "site": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}"), "1-64 letters, digits, '_', '.', ':' or '-'"),
    "lang": (re.compile(r"en|zh"), "'en' or 'zh'"),
    "playlist": (re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}"), "1-63 lower-case letters, digits, '_', '.' or '-'"),
    "calls": (re.compile(r"slowest|failed"), "'slowest' or 'failed'"),
    "time": (re.compile(r"[0-9A-Za-z:.+-]{1,40}"), "'now', 'now-<n><s|m|h|d>', ISO 8601 or epoch ms"),
    "item": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}"), "an item id: 1-32 letters, digits, '_', '.' or '-'"),
    "actor": (re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}"), "1-128 letters, digits, '_', '.', '@', ':' or '-'"),
    "action": (re.compile(r"[a-z][a-z0-9_]{0,31}\.[a-z0-9_.]{1,32}"), "an action such as 'audit.export'"),
    "page": (re.compile(r"[1-9][0-9]{0,5}"), "a page number from 1"),
    "preplan": (re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}"), "1-63 lower-case letters, digits, '_', '.' or '-'"),
    "version": (re.compile(r"[1-9][0-9]{0,5}"), "a version number from 1"),
}
KINDS = tuple(_RULES)
ITEM_ID = _RULES["item"][0]


class UrlInputError(ValueError):
    """A URL value outside what its kind allows."""


def _quoted(value: str) -> str:
    return repr(value[:40]) + ("..." if len(value) > 40 else "")


def clean(kind: str, value: str | None, default: str | None = None) -> str | None:
    """Return ``value`` when it is a valid ``kind``, ``default`` when it is missing or empty;
    raise UrlInputError otherwise."""
    pattern, allowed = _RULES[kind]
    if value is None or value == "":
        return default
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise UrlInputError(f"{kind}={_quoted(str(value))} is not valid: expected {allowed}")
    return value


def window(raw_from: str | None, raw_to: str | None, now: datetime | None = None) -> timewindow.Window:
    """Check ``from`` and ``to`` and resolve them into a time window."""
    raw_from, raw_to = clean("time", raw_from), clean("time", raw_to)
    try:
        return timewindow.resolve(raw_from, raw_to, now)
    except timewindow.WindowError as exc:
        raise UrlInputError(str(exc)) from None


def instant(name: str, raw: str | None, now: datetime | None = None) -> pd.Timestamp | None:
    """Check one bound of an open range (``from`` or ``to``, where a missing one means no bound) and resolve it."""
    value = clean("time", raw)
    if value is None:
        return None
    try:
        return timewindow.instant(value, now or datetime.now(UTC), name)
    except timewindow.WindowError as exc:
        raise UrlInputError(str(exc)) from None
