"""The address of a pre-plan in the library's page, /preplans, for that page and the incident's checklist."""

from __future__ import annotations

from urllib.parse import urlencode

PATH = "/preplans"


def href(preplan_id: str | None = None, version: int | None = None, lang: str | None = None) -> str:
    """``/preplans?plan=<id>&version=<n>&lang=<lang>``, each part only when given."""
    query = {"plan": preplan_id, "version": version, "lang": lang}
    tail = urlencode({key: value for key, value in query.items() if value is not None})
    return f"{PATH}?{tail}" if tail else PATH
