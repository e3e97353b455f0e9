"""The auditor's PDF report, laid out with ReportLab; imported only when one is downloaded, so a web worker
loads ReportLab for that alone.

It speaks the page's language, as the CSV does (``report``). The PDF (A4 landscape) opens with the overall
level and the level the evidence suggests, the domain radar and the progress chart, then the gap list and every
item in tables whose cells wrap their text, so a justification prints in full; under each item, a line
with its domain's confirmed level and the level the domain's evidence suggests, and the findings
of its latest evaluation (values against their limits, with units). A table runs on over as many
pages as it needs, its header row on each. Fonts: ``dashboard.pdftext``; charts: ``report_charts``.
A report is built from scratch on each call, with no shared state, and in ReportLab's invariant
mode: the same data gives the same bytes, from any thread.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable

import pandas as pd
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dashboard.i18n import t
from dashboard.maturity import findings
from dashboard.maturity import report_charts as charts
from dashboard.maturity.report import domain_lines, readable, suggests_text
from dashboard.maturity.report_charts import ACCENT, GRID, INK, MUTED
from dashboard.maturity.scoring import evidence_states, suggested
from dashboard.pdftext import LATIN_BOLD, LATIN_FONT, para

PAGE = landscape(A4)
MARGIN = 36
WIDTH = PAGE[0] - 2 * MARGIN
CHART_HEIGHT = 330
OK, CRIT, HEADER_FILL = colors.HexColor("#2e8b57"), colors.HexColor("#c0392b"), colors.HexColor("#eef1f5")
CODE_COLOURS = {"pass": OK, "waived": OK, "fail": CRIT}
ITEM_COLUMNS = [
    ("id", "id", 44),
    ("domain_name", "domain", 58),
    ("level", "level", 28),
    ("title", "title", 110),
    ("applies_to", "applies", 48),
    ("evidence", "proposed", 50),
    ("value", "value", 36),
    ("status", "status", 44),
    ("assessor", "assessor", 48),
    ("assessed_at", "assessed_at", 58),
    ("justification", "justification", 140),
    ("query", "rule", 106),
]  # points, 770 in all: the page
# between its margins; the rule column fits the longest rule name on one line
TEXT = ParagraphStyle("text", fontName=LATIN_FONT, fontSize=10, leading=13, textColor=INK)
CELL = ParagraphStyle("cell", TEXT, fontSize=7.5, leading=9.2)
HEAD = ParagraphStyle("head", CELL, fontName=LATIN_BOLD, textColor=MUTED)
TITLE = ParagraphStyle("title", TEXT, fontName=LATIN_BOLD, fontSize=20, leading=26)
HEADING = ParagraphStyle("heading", TEXT, fontName=LATIN_BOLD, fontSize=14, leading=18, spaceAfter=8)
LEVEL = ParagraphStyle("level", TEXT, fontName=LATIN_BOLD, fontSize=54, leading=58, textColor=ACCENT)
NOTE = ParagraphStyle("note", TEXT, textColor=MUTED)
DETAIL = ParagraphStyle("detail", CELL, textColor=MUTED, leftIndent=8)
FOOTER = ParagraphStyle("footer", TEXT, fontSize=7.5, leading=9, textColor=MUTED, alignment=2)


def _detail(row: pd.Series, lines: dict[str, str], lang: str) -> str:
    """The line under an item: its domain's levels, and why it is not met."""
    why = findings.texts(row["findings"], lang)
    return lines[row["domain"]] + ("\n" + t("maturity.why_line", lang, why="; ".join(why)) if why else "")


def _item_table(items: pd.DataFrame, lines: dict[str, str], lang: str, tz: str) -> Table:
    """Every row of ``items`` with the text of each cell in full, and under it the item's ``_detail`` across the
    table; the header row repeats on each page."""
    rows = readable(items, lang).assign(
        assessed_at=items["assessed_at"].map(
            lambda at: "" if pd.isna(at) else at.tz_convert(tz).strftime("%Y-%m-%d %H:%M %Z")
        )
    )
    codes = {"evidence": list(evidence_states(items)), "status": list(items["status"])}  # what colours a cell
    head = [para(t(f"maturity.col.{key}", lang), HEAD) for _, key, _ in ITEM_COLUMNS]
    body, spans = [], []
    for i in range(len(rows)):
        body.append(
            [
                para(rows[column].iloc[i], CELL, CODE_COLOURS.get(codes[column][i]) if column in codes else None)
                for column, _, _ in ITEM_COLUMNS
            ]
        )
        body.append([para(_detail(items.iloc[i], lines, lang), DETAIL)] + [""] * (len(ITEM_COLUMNS) - 1))
        spans.append(len(body))  # the detail's row, counting the header row
    style = TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            *(("SPAN", (0, row), (-1, row)) for row in spans),
            *(("LINEBELOW", (0, row), (-1, row), 0.25, GRID) for row in (0, *spans)),
        ]
    )
    return Table(
        [head, *body],
        colWidths=[width for _, _, width in ITEM_COLUMNS],
        style=style,
        repeatRows=1,
        splitInRow=1,
        hAlign="LEFT",
    )


def _section(title: str, items: pd.DataFrame, lines: dict[str, str], empty: str, lang: str, tz: str) -> list:
    """A heading and the item table, or ``empty`` when there are no items."""
    return [para(title, HEADING), _item_table(items, lines, lang, tz) if len(items) else para(empty, NOTE)]


def _first_page(
    center: str, shown: str, suggests: str, domains: pd.DataFrame, progress: pd.DataFrame, when: str, lang: str
) -> list:
    """The title, the overall level and what the evidence suggests, and the radar and progress charts side by
    side."""
    radar_width = WIDTH * 0.55
    charts_table = Table(
        [
            [para(t("maturity.radar", lang), HEADING), para(t("maturity.progress", lang), HEADING)],
            [
                charts.radar(domains, radar_width - 12, CHART_HEIGHT),
                charts.progress(progress, t("maturity.no_assessments", lang), WIDTH - radar_width - 12, CHART_HEIGHT),
            ],
        ],
        colWidths=[radar_width, WIDTH - radar_width],
        style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)],
    )
    return [
        para(t("maturity.report_title", lang, center=center), TITLE),
        para(t("maturity.as_of", lang, when=when), NOTE),
        Spacer(0, 10),
        para(shown, LEVEL),
        para(t("maturity.overall", lang) + (f" · {suggests}" if suggests else ""), NOTE),
        Spacer(0, 14),
        charts_table,
    ]


def _footer(title: str, lang: str, page: int, pages: int) -> Paragraph:
    return para(t("maturity.page", lang, title=title, page=page, pages=pages), FOOTER)


class _FooterCanvas(Canvas):
    """A canvas that holds its pages back until the document ends, so each page's footer can say
    "page n of N"."""

    def __init__(self, *args, footer: Callable[[int, int], Paragraph], **kwargs):
        super().__init__(*args, **kwargs)
        self._footer, self._pages = footer, []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        for number, page in enumerate(self._pages, 1):
            self.__dict__.update(page)
            footer = self._footer(number, len(self._pages))
            footer.wrapOn(self, WIDTH, MARGIN)
            footer.drawOn(self, MARGIN, MARGIN / 2)
            super().showPage()
        super().save()


def pdf_bytes(
    center: str,
    shown: str,
    items: pd.DataFrame,
    domains: pd.DataFrame,
    progress: pd.DataFrame,
    gap_list: pd.DataFrame,
    when: str,
    lang: str = "en",
    tz: str = "UTC",
) -> bytes:
    """The report as PDF bytes, in ``lang``; assessment times shown in ``tz``."""
    title = t("maturity.report_title", lang, center=center)
    target = int(gap_list["target"].iloc[0]) if len(gap_list) else None
    gaps_title = t("maturity.gaps_title", lang, level=target) if target else t("maturity.gaps", lang)
    found, lines = suggested(items) if len(items) else None, domain_lines(items, lang)
    story = [
        *_first_page(center, shown, suggests_text(found, lang) if found else "", domains, progress, when, lang),
        PageBreak(),
        *_section(gaps_title, gap_list, lines, t("maturity.no_gaps", lang), lang, tz),
        PageBreak(),
        *_section(t("maturity.items", lang), items, lines, t("maturity.none", lang), lang, tz),
    ]
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title,
        creator="opscenter",
        invariant=True,
    )
    footer = functools.partial(_footer, title, lang)
    document.build(story, canvasmaker=functools.partial(_FooterCanvas, footer=footer))
    return buffer.getvalue()
