"""Text in opscenter's PDF reports: the fonts and the paragraphs every report sets its text in.

Text is set in PDF standard fonts, which the PDF reader supplies and no server needs: Helvetica,
and for what Helvetica cannot show (Chinese) Adobe's STSong-Light, a CID font ReportLab knows
without a font file. The fonts are registered once, on import, not lazily by the first threads
to need them.
"""

from __future__ import annotations

from itertools import groupby
from xml.sax.saxutils import escape

import pandas as pd
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph

LATIN_FONT, LATIN_BOLD, CJK_FONT = "Helvetica", "Helvetica-Bold", "STSong-Light"
for _font in (LATIN_FONT, LATIN_BOLD):
    pdfmetrics.getFont(_font)
pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
pdfmetrics.registerFontFamily(CJK_FONT, normal=CJK_FONT, bold=CJK_FONT, italic=CJK_FONT, boldItalic=CJK_FONT)


def latin(char: str) -> bool:
    """Whether Helvetica (Windows-1252 encoding) can show ``char``."""
    try:
        char.encode("cp1252")
        return True
    except UnicodeEncodeError:
        return False


def markup(text: str) -> str:
    """``text`` as Paragraph markup: escaped, its line breaks kept, each run Helvetica cannot show in STSong-Light."""
    runs = (
        escape("".join(chars)) if is_latin else f'<font face="{CJK_FONT}">{escape("".join(chars))}</font>'
        for is_latin, chars in groupby(text, latin)
    )
    return "".join(runs).replace("\n", "<br/>")


def para(text, style: ParagraphStyle, colour=None) -> Paragraph:
    """A paragraph of ``text`` (NaN and None print as nothing) that wraps between words, and between any two
    characters of Chinese text."""
    text = "" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text)
    if colour is not None:
        style = ParagraphStyle(style.name, style, textColor=colour)
    if not all(map(latin, text)):
        style = ParagraphStyle(style.name, style, wordWrap="CJK")
    return Paragraph(markup(text), style)
