"""The auditor's exports: the item table as CSV and a PDF report with the charts as pictures.

The PDF is drawn with matplotlib's PDF backend: a title page with the overall level, the
domain radar and the progress chart, then the gap list and the items, a page per 28 rows.
"""
from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

CSV_COLUMNS = ["id", "domain_name", "level", "title", "applies_to", "proposed", "value", "status", "assessor",
               "assessed_at", "justification", "query", "evaluated_at"]
A4_LANDSCAPE = (11.69, 8.27)
ROWS_PER_PAGE = 28
INK, MUTED, ACCENT, OK, CRIT = "#1b2430", "#5b6b7f", "#2f6fb0", "#2e8b57", "#c0392b"


def csv_text(items: pd.DataFrame) -> str:
    """The item table as CSV, one row per item."""
    return items[CSV_COLUMNS].to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


def _title_page(pdf, center: str, shown: str, domains: pd.DataFrame, progress: pd.DataFrame, when: str) -> None:
    fig = plt.figure(figsize=A4_LANDSCAPE)
    fig.text(0.05, 0.93, f"{center}: technical-operations maturity", fontsize=20, color=INK, weight="bold")
    fig.text(0.05, 0.885, f"Assessed as of {when}", fontsize=11, color=MUTED)
    fig.text(0.05, 0.78, shown, fontsize=60, color=ACCENT, weight="bold")
    fig.text(0.05, 0.74, "overall level", fontsize=12, color=MUTED)
    radar = fig.add_axes([0.05, 0.08, 0.42, 0.58], projection="polar")
    angles = np.linspace(0, 2 * np.pi, len(domains), endpoint=False)
    levels = domains["level"].to_numpy(dtype=float)
    radar.plot(np.append(angles, angles[:1]), np.append(levels, levels[:1]), color=ACCENT, linewidth=2)
    radar.fill(np.append(angles, angles[:1]), np.append(levels, levels[:1]), color=ACCENT, alpha=0.2)
    radar.set_xticks(angles, ["\n".join(textwrap.wrap(n, 16)) for n in domains["domain_name"]], fontsize=8)
    radar.set_ylim(0, 5)
    radar.set_yticks(range(1, 6))
    radar.set_title("Level per domain", fontsize=12, color=INK, pad=24)
    chart = fig.add_axes([0.57, 0.14, 0.38, 0.5])
    if len(progress):
        chart.step(progress["date"].dt.tz_localize(None), progress["level"], where="post", color=ACCENT, linewidth=2)
        chart.plot(progress["date"].dt.tz_localize(None), progress["level"], "o", color=ACCENT)
        fig.autofmt_xdate()
    else:
        chart.text(0.5, 0.5, "no assessments yet", ha="center", va="center", color=MUTED, transform=chart.transAxes)
    chart.set_ylim(0, 5.2)
    chart.set_ylabel("overall level")
    chart.set_title("Progress over time", fontsize=12, color=INK)
    pdf.savefig(fig)
    plt.close(fig)


def _table_pages(pdf, title: str, rows: pd.DataFrame, columns: list[tuple[str, str, float]]) -> None:
    pages = max(1, -(-len(rows) // ROWS_PER_PAGE))
    for page in range(pages):
        chunk = rows.iloc[page * ROWS_PER_PAGE:(page + 1) * ROWS_PER_PAGE]
        fig = plt.figure(figsize=A4_LANDSCAPE)
        fig.text(0.05, 0.94, f"{title} ({page + 1}/{pages})", fontsize=14, color=INK, weight="bold")
        if not len(chunk):
            fig.text(0.05, 0.88, "none", fontsize=10, color=MUTED)
        x = 0.05
        for header, column, width in columns:
            fig.text(x, 0.89, header, fontsize=8, color=MUTED, weight="bold")
            for i, value in enumerate(chunk[column]):
                text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
                color = {"pass": OK, "fail": CRIT}.get(text, INK)
                fig.text(x, 0.86 - i * 0.029, textwrap.shorten(text, int(width * 180), placeholder="…"),
                         fontsize=7.5, color=color)
            x += width
        pdf.savefig(fig)
        plt.close(fig)


ITEM_COLUMNS = [("Item", "id", 0.07), ("Domain", "domain_name", 0.15), ("Lvl", "level", 0.03),
                ("Title", "title", 0.27), ("Proposed", "proposed", 0.06), ("Status", "status", 0.07),
                ("Assessor", "assessor", 0.08), ("Justification", "justification", 0.17)]


def pdf_bytes(center: str, shown: str, items: pd.DataFrame, domains: pd.DataFrame, progress: pd.DataFrame,
              gap_list: pd.DataFrame, when: str) -> bytes:
    """The report as PDF bytes."""
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": f"{center} maturity", "Creator": "opscenter"}) as pdf:
        _title_page(pdf, center, shown, domains, progress, when)
        target = int(gap_list["target"].iloc[0]) if len(gap_list) else None
        _table_pages(pdf, f"Gaps to level {target}" if target else "Gaps", gap_list, ITEM_COLUMNS)
        _table_pages(pdf, "Capability items", items, ITEM_COLUMNS)
    return buffer.getvalue()
