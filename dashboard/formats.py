"""Numbers as every page shows them: one format per quantity, the same on the wall and the drill-down."""

from __future__ import annotations

import pandas as pd

MISSING = "–"


def _missing(value: float | None) -> bool:
    return value is None or pd.isna(value)


def fmt_ms(value: float | None) -> str:
    """A duration in milliseconds: ``8.4 ms``, ``812 ms``, ``1.25 s``."""
    if _missing(value):
        return MISSING
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.1f} ms" if value < 10 else f"{value:.0f} ms"


def fmt_rate(value: float | None) -> str:
    """A rate per second: ``4.2/s``, ``812/s``, ``1.2k/s``."""
    if _missing(value):
        return MISSING
    if value >= 1000:
        return f"{value / 1000:.1f}k/s"
    return f"{value:.1f}/s" if value < 10 else f"{value:.0f}/s"


def fmt_pct(value: float | None, digits: int = 2) -> str:
    """A ratio as a percentage with ``digits`` decimals: ``1.23%``."""
    return MISSING if _missing(value) else f"{value:.{digits}%}"
