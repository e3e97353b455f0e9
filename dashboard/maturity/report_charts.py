"""The PDF report's two charts, drawn with ReportLab's own graphics in ``dashboard.pdftext``'s fonts.

The charts are vector drawings built per call, so any number of threads can draw reports at once.
"""

from __future__ import annotations

import math
import re

import pandas as pd
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, Polygon, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics

from dashboard.pdftext import CJK_FONT, LATIN_FONT, latin

INK, MUTED, GRID, ACCENT = (colors.HexColor(c) for c in ("#1b2430", "#5b6b7f", "#c8d0da", "#2f6fb0"))
TOP_LEVEL = 5


def font_for(text: str) -> str:
    """The one font that shows all of ``text``: Helvetica, or STSong-Light when some of it is not Latin."""
    return LATIN_FONT if all(map(latin, text)) else CJK_FONT


def _lines(text: str, size: float, width: float) -> list[str]:
    """``text`` on lines of at most ``width`` points: broken between words, or between any two characters
    of Chinese text."""
    font = font_for(text)
    if font == LATIN_FONT:
        return simpleSplit(text, font, size, width)
    lines = [""]
    for char in text:
        if lines[-1] and pdfmetrics.stringWidth(lines[-1] + char, font, size) > width:
            lines.append("")
        lines[-1] += char
    return lines


def _label_lines(name: str, size: float, width: float) -> list[str]:
    """A domain name on lines of at most ``width`` points; a bracketed part starts a line of its own."""
    parts = re.split(r"\s*(?=[(（])", name, maxsplit=1)
    return [line for part in parts for line in _lines(part, size, width)]


def radar(domains: pd.DataFrame, width: float, height: float) -> Drawing:
    """Level reached per domain on a 0-5 radar: rings per level, a spoke per domain clockwise from the top,
    the levels as a filled polygon, and the domain names around it."""
    drawing = Drawing(width, height)
    if not len(domains):
        return drawing
    label_width, size = 85, 8
    cx, cy, radius = width / 2, height / 2, min(width / 2 - label_width - 10, height / 2 - 30)
    angles = [math.pi / 2 - 2 * math.pi * i / max(len(domains), 1) for i in range(len(domains))]

    def point(angle: float, level: float) -> list[float]:
        return [cx + radius * level / TOP_LEVEL * math.cos(angle), cy + radius * level / TOP_LEVEL * math.sin(angle)]

    between = angles[0] - math.pi / max(len(domains), 1)  # the level numbers run between the first two spokes
    for level in range(1, TOP_LEVEL + 1):
        ring = [xy for angle in angles for xy in point(angle, level)]
        drawing.add(Polygon(ring, strokeColor=GRID, strokeWidth=0.5, fillColor=None))
        drawing.add(
            String(
                *point(between, level - 0.15),
                str(level),
                fontName=LATIN_FONT,
                fontSize=6.5,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
    for angle, name in zip(angles, domains["domain_name"]):
        drawing.add(Line(cx, cy, *point(angle, TOP_LEVEL), strokeColor=GRID, strokeWidth=0.5))
        x, y = point(angle, TOP_LEVEL + 0.6)
        anchor = "middle" if abs(math.cos(angle)) < 0.2 else ("start" if math.cos(angle) > 0 else "end")
        lines = _label_lines(name, size, label_width)
        top = y + (len(lines) - 1) * size * 1.15 / 2 - size / 3 + (size if math.sin(angle) > 0.9 else 0)
        for n, line in enumerate(lines):
            drawing.add(
                String(
                    x,
                    top - n * size * 1.15,
                    line,
                    fontName=font_for(line),
                    fontSize=size,
                    fillColor=INK,
                    textAnchor=anchor,
                )
            )
    levels = [xy for angle, level in zip(angles, domains["level"]) for xy in point(angle, float(level))]
    if levels:
        drawing.add(Polygon(levels, strokeColor=ACCENT, strokeWidth=1.5, fillColor=ACCENT, fillOpacity=0.2))
    return drawing


def progress(points: pd.DataFrame, empty_text: str, width: float, height: float) -> Drawing:
    """The overall level after each day with assessments, as a step line with a dot per day."""
    drawing = Drawing(width, height)
    days = [day.timestamp() / 86400 for day in points["date"]]
    if not days:
        drawing.add(
            String(
                width / 2,
                height / 2,
                empty_text,
                fontName=font_for(empty_text),
                fontSize=10,
                fillColor=MUTED,
                textAnchor="middle",
            )
        )
        return drawing
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 34, 44, width - 50, height - 56
    axis = plot.yValueAxis
    axis.valueMin, axis.valueMax, axis.valueStep = 0, TOP_LEVEL, 1
    axis.visibleGrid, axis.gridStrokeColor, axis.gridStrokeWidth = True, GRID, 0.5
    axis.labels.fontName, axis.labels.fontSize, axis.strokeColor = LATIN_FONT, 7, MUTED
    levels = [int(v) for v in points["level"]]
    steps = []
    for day, level in zip(days, levels):
        steps += [(day, steps[-1][1])] if steps else []
        steps.append((day, level))
    plot.data = [steps, list(zip(days, levels))]
    plot.lines[0].strokeColor, plot.lines[0].strokeWidth = ACCENT, 1.5
    plot.lines[1].lineStyle, plot.lines[1].strokeColor = "line", ACCENT
    plot.lines[1].symbol = makeMarker("FilledCircle", size=4)
    axis = plot.xValueAxis
    axis.valueMin, axis.valueMax = min(days) - 3, max(days) + 3
    ticks = sorted(set(days))
    axis.valueSteps = ticks[:: max(1, math.ceil(len(ticks) / 6))]
    axis.labelTextFormat = lambda day: pd.Timestamp(day * 86400, unit="s").strftime("%Y-%m-%d")
    axis.labels.fontName, axis.labels.fontSize, axis.labels.angle = LATIN_FONT, 7, 30
    axis.labels.boxAnchor, axis.strokeColor = "ne", MUTED
    drawing.add(plot)
    return drawing
