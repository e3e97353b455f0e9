"""Findings: what a failing evidence rule found wrong, kept as data and read in a language.

A finding is a plain dict: ``measure`` (what was measured: i18n's ``finding.<measure>``), and where they
apply ``subject`` (the service, source, incident, chain step or period concerned), ``value`` and ``limit``
(numbers, in ``unit``) with ``op``, the comparison that fails, plus any parameter the measure's text takes.
With a value it reads "order-gateway: p95 812 ms > 500 ms"; without, the measure's text says what is
missing: "quote-service: no service metrics".

An evaluation keeps at most ``LIMIT`` findings, the worst first; when a rule found more, the last one
kept counts the rest ("… and 37 more"). They are stored as JSON text in ``maturity_evidence.findings``.
"""

from __future__ import annotations

import json

from dashboard.i18n import t

LIMIT = 100
MORE = "more"
UNITS = ("", "%", "ms", "min", "s", "d")


def finding(
    measure: str,
    subject: str | None = None,
    value: float | None = None,
    limit: float | None = None,
    unit: str = "",
    op: str = "",
    **params,
) -> dict:
    """One finding as a dict, leaving out what it does not have."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit {unit!r}")
    given = {
        "subject": subject,
        "value": None if value is None else float(value),
        "limit": None if limit is None else float(limit),
        "unit": unit or None,
        "op": op or None,
    }
    return {"measure": measure, **{k: v for k, v in given.items() if v is not None}, **params}


def _weight(found: dict) -> int:
    """How many findings one stands for: a count of those left out stands for them all."""
    return int(found["value"]) if found["measure"] == MORE else 1


def capped(found, most: int = LIMIT) -> list[dict]:
    """At most ``most`` findings: the first ones, and one counting those left out (and those it replaces)."""
    found = list(found)
    if len(found) <= most:
        return found
    return [*found[: most - 1], finding(MORE, value=sum(map(_weight, found[most - 1 :])))]


def dumps(found) -> str | None:
    """Findings as JSON text for the database; None for none."""
    return json.dumps(list(found), ensure_ascii=False, sort_keys=True) if found else None


def loads(text) -> list[dict]:
    """Findings read back from the database (NULL in rows written before findings were kept: none)."""
    return json.loads(text) if isinstance(text, str) and text else []


def _number(value: float, unit: str, lang: str) -> str:
    shown = f"{value * 100:.4g}" if unit == "%" else f"{value:.4g}"
    return t(f"finding.unit.{unit}", lang, n=shown) if unit else shown


def text(found: dict, lang: str = "en") -> str:
    """One finding in words, in ``lang``."""
    params = {k: v for k, v in found.items() if k not in ("measure", "subject", "value", "limit", "unit", "op")}
    what = t(f"finding.{found['measure']}", lang, **params, count=f"{found.get('value', 0):g}")
    if found["measure"] != MORE and found.get("value") is not None:
        unit = found.get("unit", "")
        what += f" {_number(found['value'], unit, lang)}"
        if found.get("limit") is not None:
            what += f" {found.get('op', '')} {_number(found['limit'], unit, lang)}"
    return f"{found['subject']}: {what}" if found.get("subject") else what


def texts(found, lang: str = "en") -> list[str]:
    """Every finding in words, in order."""
    return [text(f, lang) for f in found]
