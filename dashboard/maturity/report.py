"""The auditor's exports: the item table as CSV and a PDF report with the charts as pictures.

Both speak the page's language: headers, statuses and the catalogue's text (the item table is
built in that language). The CSV starts with a byte-order mark so spreadsheet programs read it
as UTF-8; its times are UTC. The PDF is drawn with matplotlib's PDF backend: a title page with
the overall level, the domain radar and the progress chart, then the gap list and the items, a
page per 28 rows. Chinese needs a CJK font on the server (``CJK_FONTS``); without one the PDF is
drawn in English.
"""
from __future__ import annotations

import io
import logging
import textwrap
import unicodedata

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402

from dashboard.i18n import t  # noqa: E402
from dashboard.maturity.scoring import evidence_states  # noqa: E402

log = logging.getLogger(__name__)
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)  # a CJK font without bold is expected

CSV_COLUMNS = [("id", "id"), ("domain_name", "domain"), ("level", "level"), ("title", "title"),
               ("description", "description"), ("applies_to", "applies"), ("evidence", "proposed"),
               ("value", "value"), ("status", "status"), ("assessor", "assessor"), ("assessed_at", "assessed_at"),
               ("justification", "justification"), ("query", "rule"), ("evaluated_at", "evaluated_at")]
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
             "Droid Sans Fallback", "SimHei", "Microsoft YaHei")
LATIN_FONT = "DejaVu Sans"
A4_LANDSCAPE = (11.69, 8.27)
ROWS_PER_PAGE = 28
INK, MUTED, ACCENT, OK, CRIT = "#1b2430", "#5b6b7f", "#2f6fb0", "#2e8b57", "#c0392b"
CODE_COLOURS = {"pass": OK, "waived": OK, "fail": CRIT}


def readable(items: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The item table with its codes in words: applies_to, status, and the evidence's verdict."""
    return items.assign(
        applies_to=[t(f"maturity.applies.{a}", lang) for a in items["applies_to"]],
        status=[t(f"maturity.status.{s}", lang) for s in items["status"]],
        evidence=[t(f"maturity.proposal.{s}", lang) for s in evidence_states(items)],
        value=items["value"].map(lambda v: "" if pd.isna(v) else f"{v:.4g}"),
    )


def csv_text(items: pd.DataFrame, lang: str = "en") -> str:
    """The item table as CSV, one row per item, with a byte-order mark."""
    table = readable(items, lang)[[column for column, _ in CSV_COLUMNS]]
    table.columns = [t(f"maturity.col.{key}", lang) for _, key in CSV_COLUMNS]
    return "\ufeff" + table.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ")


def _cjk_font() -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def drawable(lang: str) -> str:
    """The language the PDF can be drawn in: ``lang``, or English when Chinese has no font here."""
    if lang == "zh" and _cjk_font() is None:
        log.warning("no CJK font installed (one of %s): the PDF report is drawn in English", ", ".join(CJK_FONTS))
        return "en"
    return lang


def _width(text: str) -> int:
    """Display width in Latin characters: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` display columns, with an ellipsis when cut."""
    if _width(text) <= width:
        return text
    kept, used = [], 1
    for char in text:
        used += _width(char)
        if used > width:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…"


def _wrap(text: str, width: int) -> str:
    """``text`` on lines of about ``width`` display columns (between words, or anywhere in CJK text)."""
    if _width(text) == len(text):
        return "\n".join(textwrap.wrap(text, width))
    lines, line = [], ""
    for char in text:
        if _width(line + char) > width:
            lines.append(line)
            line = ""
        line += char
    return "\n".join(lines + [line])


def _title_page(pdf, center: str, shown: str, domains: pd.DataFrame, progress: pd.DataFrame, when: str,
                lang: str) -> None:
    fig = plt.figure(figsize=A4_LANDSCAPE)
    fig.text(0.05, 0.93, t("maturity.report_title", lang, center=center), fontsize=20, color=INK, weight="bold")
    fig.text(0.05, 0.885, t("maturity.as_of", lang, when=when), fontsize=11, color=MUTED)
    fig.text(0.05, 0.78, shown, fontsize=60, color=ACCENT, weight="bold")
    fig.text(0.05, 0.74, t("maturity.overall", lang), fontsize=12, color=MUTED)
    radar = fig.add_axes([0.05, 0.08, 0.42, 0.58], projection="polar")
    angles = np.linspace(0, 2 * np.pi, len(domains), endpoint=False)
    levels = domains["level"].to_numpy(dtype=float)
    radar.plot(np.append(angles, angles[:1]), np.append(levels, levels[:1]), color=ACCENT, linewidth=2)
    radar.fill(np.append(angles, angles[:1]), np.append(levels, levels[:1]), color=ACCENT, alpha=0.2)
    radar.set_xticks(angles, [_wrap(n, 16) for n in domains["domain_name"]], fontsize=8)
    radar.tick_params(axis="x", pad=14)
    radar.set_ylim(0, 5)
    radar.set_yticks(range(1, 6))
    radar.set_title(t("maturity.radar", lang), fontsize=12, color=INK, pad=24)
    chart = fig.add_axes([0.57, 0.14, 0.38, 0.5])
    if len(progress):
        days = progress["date"].dt.tz_localize(None)
        chart.step(days, progress["level"], where="post", color=ACCENT, linewidth=2)
        chart.plot(days, progress["level"], "o", color=ACCENT)
        chart.set_xlim(days.min() - pd.Timedelta(days=3), days.max() + pd.Timedelta(days=3))
        chart.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))
        chart.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        chart.tick_params(axis="x", labelrotation=30)
    else:
        chart.text(0.5, 0.5, t("maturity.no_assessments", lang), ha="center", va="center", color=MUTED,
                   transform=chart.transAxes)
    chart.set_ylim(0, 5.2)
    chart.set_ylabel(t("maturity.overall", lang))
    chart.set_title(t("maturity.progress", lang), fontsize=12, color=INK)
    pdf.savefig(fig)
    plt.close(fig)


ITEM_COLUMNS = [("id", "id", 0.07), ("domain_name", "domain", 0.15), ("level", "level", 0.04),
                ("title", "title", 0.26), ("evidence", "proposed", 0.08), ("status", "status", 0.07),
                ("assessor", "assessor", 0.08), ("justification", "justification", 0.15)]
CODES = {"evidence": "proposed", "status": "status"}  # shown column -> the code that colours it


def _table_pages(pdf, title: str, items: pd.DataFrame, lang: str) -> None:
    rows = readable(items, lang)
    pages = max(1, -(-len(rows) // ROWS_PER_PAGE))
    for page in range(pages):
        chunk = rows.iloc[page * ROWS_PER_PAGE:(page + 1) * ROWS_PER_PAGE]
        codes = items.iloc[page * ROWS_PER_PAGE:(page + 1) * ROWS_PER_PAGE]
        fig = plt.figure(figsize=A4_LANDSCAPE)
        fig.text(0.05, 0.94, t("maturity.page", lang, title=title, page=page + 1, pages=pages), fontsize=14,
                 color=INK, weight="bold")
        if not len(chunk):
            fig.text(0.05, 0.88, t("maturity.none", lang), fontsize=10, color=MUTED)
        x = 0.05
        for column, header, width in ITEM_COLUMNS:
            fig.text(x, 0.89, t(f"maturity.col.{header}", lang), fontsize=8, color=MUTED, weight="bold")
            code_column = codes[CODES[column]] if column in CODES else [None] * len(chunk)
            for i, (value, code) in enumerate(zip(chunk[column], code_column)):
                text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
                fig.text(x, 0.86 - i * 0.029, _clip(text, int(width * 180)), fontsize=7.5,
                         color=CODE_COLOURS.get(code, INK))
            x += width
        pdf.savefig(fig)
        plt.close(fig)


def pdf_bytes(center: str, shown: str, items: pd.DataFrame, domains: pd.DataFrame, progress: pd.DataFrame,
              gap_list: pd.DataFrame, when: str, lang: str = "en") -> bytes:
    """The report as PDF bytes, in ``lang`` (see ``drawable``)."""
    fonts = [LATIN_FONT, *filter(None, [_cjk_font()])]  # assessors' text may be Chinese in any report
    buffer = io.BytesIO()
    with plt.rc_context({"font.family": fonts}), \
            PdfPages(buffer, metadata={"Title": t("maturity.report_title", lang, center=center),
                                       "Creator": "opscenter"}) as pdf:
        _title_page(pdf, center, shown, domains, progress, when, lang)
        target = int(gap_list["target"].iloc[0]) if len(gap_list) else None
        _table_pages(pdf, t("maturity.gaps_title", lang, level=target) if target else t("maturity.gaps", lang),
                     gap_list, lang)
        _table_pages(pdf, t("maturity.items", lang), items, lang)
    return buffer.getvalue()
