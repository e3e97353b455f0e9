"""The auditor's exports: the item table as CSV here, and a PDF report (``report_pdf``).

Both speak the page's language: headers, statuses and the catalogue's text (the item table is
built in that language). The CSV's "Why not met" column lists the findings of each item's latest
evaluation. The CSV starts with a byte-order mark so spreadsheet programs read it
as UTF-8; its times are UTC.
"""

from __future__ import annotations

import pandas as pd

from dashboard.i18n import t
from dashboard.maturity import findings
from dashboard.maturity.scoring import evidence_states, level_reached, suggested

CSV_COLUMNS = [
    ("id", "id"),
    ("domain_name", "domain"),
    ("level", "level"),
    ("title", "title"),
    ("description", "description"),
    ("applies_to", "applies"),
    ("evidence", "proposed"),
    ("value", "value"),
    ("why", "why"),
    ("status", "status"),
    ("assessor", "assessor"),
    ("assessed_at", "assessed_at"),
    ("justification", "justification"),
    ("query", "rule"),
    ("evaluated_at", "evaluated_at"),
]


def readable(items: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The item table with its codes in words: applies_to, status, the evidence's verdict and why it is not met."""
    return items.assign(
        why=["; ".join(findings.texts(found, lang)) for found in items["findings"]],
        applies_to=[t(f"maturity.applies.{a}", lang) for a in items["applies_to"]],
        status=[t(f"maturity.status.{s}", lang) for s in items["status"]],
        evidence=[t(f"maturity.proposal.{s}", lang) for s in evidence_states(items)],
        value=items["value"].map(lambda v: "" if pd.isna(v) else f"{v:.4g}"),
    )


def suggests_text(found: tuple[int, bool], lang: str) -> str:
    """``scoring.suggested`` in words: "evidence suggests L2, awaiting confirmation"."""
    level, ahead = found
    return t("maturity.suggests_ahead" if ahead else "maturity.suggests", lang, level=level)


def domain_lines(items: pd.DataFrame, lang: str) -> dict[str, str]:
    """Per domain: "Monitoring: confirmed L1 · evidence suggests L2, awaiting confirmation" (without the evidence
    part before any evaluation)."""
    lines = {}
    for domain, rows in items.groupby("domain", sort=False):
        found = suggested(rows)
        line = t("maturity.domain_line", lang, domain=rows["domain_name"].iloc[0], level=level_reached(rows))
        lines[domain] = line + (f" · {suggests_text(found, lang)}" if found else "")
    return lines


def csv_text(items: pd.DataFrame, lang: str = "en") -> str:
    """The item table as CSV, one row per item, with a byte-order mark."""
    table = readable(items, lang)[[column for column, _ in CSV_COLUMNS]]
    table.columns = [t(f"maturity.col.{key}", lang) for _, key in CSV_COLUMNS]
    return "\ufeff" + table.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
