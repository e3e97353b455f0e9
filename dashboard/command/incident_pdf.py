"""The incident report (``incident_report``) as PDF: A4 portrait, laid out with ReportLab in
``dashboard.pdftext``'s fonts, in invariant mode, so the same facts give the same bytes. Imported only when a
report is downloaded: a web worker loads ReportLab for that alone.
"""

from __future__ import annotations

import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from dashboard.command.incident_report import Facts, Section, generated_line, sections, title
from dashboard.pdftext import LATIN_BOLD, LATIN_FONT, para

MARGIN = 42
WIDTH = A4[0] - 2 * MARGIN
INK, MUTED, GRID, FILL = (colors.HexColor(c) for c in ("#1b2430", "#5b6b7f", "#c8d0da", "#eef1f5"))
TEXT = ParagraphStyle("text", fontName=LATIN_FONT, fontSize=9.5, leading=12.5, textColor=INK)
HEAD = ParagraphStyle("head", TEXT, fontName=LATIN_BOLD, textColor=MUTED)
TITLE = ParagraphStyle("title", TEXT, fontName=LATIN_BOLD, fontSize=17, leading=22)
HEADING = ParagraphStyle("heading", TEXT, fontName=LATIN_BOLD, fontSize=12.5, leading=16, spaceBefore=10, spaceAfter=5)


def _table(section: Section) -> Table:
    shares = section.widths or {2: (0.3, 0.7), 3: (0.24, 0.14, 0.62)}[len(section.head)]
    widths = [WIDTH * share for share in shares]
    rows = [[para(c, HEAD) for c in section.head]] + [[para(c, TEXT) for c in row] for row in section.rows]
    style = TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), FILL),
            ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID),
        ]
    )
    return Table(rows, colWidths=widths, style=style, repeatRows=1, splitInRow=1, hAlign="LEFT")


def pdf(facts: Facts, lang: str = "en") -> bytes:
    """The report as PDF bytes."""
    story = [
        para(title(facts, lang), TITLE),
        para(generated_line(facts, lang), HEAD),
        Spacer(0, 6),
    ]
    for section in sections(facts, lang):
        story.append(para(section.title, HEADING))
        story += [para(line, TEXT) for line in section.lines]
        if section.head:
            story.append(_table(section))
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=title(facts, lang),
        creator="opscenter",
        invariant=True,
    ).build(story)
    return buffer.getvalue()
