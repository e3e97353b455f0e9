"""The status palette every page and figure shares."""

from __future__ import annotations

# Okabe-Ito hues (bluish green, yellow, vermillion), lightened for a dark background: told apart
# with any colour vision, and every status also has its shape (see assets/opscenter.css).
STATUS_COLOURS = {"ok": "#1fb58f", "warn": "#f0c419", "crit": "#f2542d", "nodata": "#8a96a3"}
