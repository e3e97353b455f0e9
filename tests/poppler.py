"""A PDF read back with poppler-utils: its text, page count and fonts, as a reader would see them."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from tests.conftest import need


def _run(tool: str, pdf: bytes, *args: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        path.write_bytes(pdf)
        try:
            return subprocess.run(
                [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout
        except FileNotFoundError:
            need(tool, "install poppler-utils")


def text(pdf: bytes, page: int | None = None) -> str:
    """The PDF's text (of one page when given) in the order it was drawn: the lines of a table cell stay
    together rather than interleave with the next cell's."""
    return _run("pdftotext", pdf, "-raw", *(["-f", str(page), "-l", str(page)] if page else []))


def words(pdf: bytes) -> str:
    """The PDF's text with every run of whitespace made one space (lines wrapped in a cell join up again)."""
    return " ".join(text(pdf).split())


def pages(pdf: bytes) -> int:
    """How many pages the PDF has."""
    info = _run("pdfinfo", pdf)
    return int(next(line.split()[1] for line in info.splitlines() if line.startswith("Pages:")))


def fonts(pdf: bytes) -> dict[str, bool]:
    """The PDF's fonts: name -> whether the file embeds it."""
    rows = _run("pdffonts", pdf).splitlines()[2:]
    return {row.split()[0]: row.split()[-5] == "yes" for row in rows}
