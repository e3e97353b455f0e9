"""Pure builders from frames to what a page draws."""
from __future__ import annotations

from urllib.parse import quote

import pandas as pd

# Okabe-Ito hues (bluish green, yellow, vermillion), lightened for a dark background: told apart
# with any colour vision, and every status also has its shape (see assets/opscenter.css).
STATUS_COLOURS = {"ok": "#1fb58f", "warn": "#f0c419", "crit": "#f2542d", "nodata": "#8a96a3"}


def sparkline_svg(values: pd.Series, colour: str, width: int = 120, height: int = 28) -> str:
    """A polyline sparkline as an SVG data URI (cheap to ship, no charting library).

    The scale starts at zero, so noise looks like noise and a spike like a spike.
    """
    points = pd.Series(values, dtype="float64").dropna()
    if len(points) < 2:
        return "data:image/svg+xml," + quote(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"/>')
    low, high = min(points.min(), 0.0), points.max()
    span = (high - low) or 1.0
    xs = [i * width / (len(points) - 1) for i in range(len(points))]
    ys = [height - 2 - (v - low) / span * (height - 4) for v in points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys))
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" preserveAspectRatio="none">'
        f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/></svg>'
    )
    return "data:image/svg+xml," + quote(svg)
