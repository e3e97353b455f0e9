"""Pieces the drill-down pages share: links that carry the window, breadcrumbs, the window
bar, a roll-up reason in words, the problem message, a digest of what a page shows, and number formats."""

from __future__ import annotations

import hashlib
from urllib.parse import quote
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from dash import dcc, html

from dashboard import ids
from dashboard.core.timewindow import Window
from dashboard.i18n import t

PRESETS = (("15m", "now-15m"), ("1h", "now-1h"), ("6h", "now-6h"), ("24h", "now-24h"))


def href(kind: str, name: str, window: Window, **extra: str | None) -> str:
    """The URL of ``/<kind>/<name>`` carrying the window and the non-empty ``extra`` values."""
    return hrefs(kind, [name], window, **extra)[0]


def hrefs(kind: str, names: list[str], window: Window, **extra: str | None) -> list[str]:
    """``href`` of each of ``names`` (a table's rows): the query they share is built once."""
    query = window.query(**{k: v for k, v in extra.items() if v})
    return [f"/{kind}/{quote(name, safe='')}{query}" for name in names]


def breadcrumbs(trail: list[tuple[str, str | None]]) -> html.Nav:
    """``Wall > chain > service > trace``: every crumb but the last is a link."""
    items = []
    for i, (label, link) in enumerate(trail):
        if i:
            items.append(html.Span("›", className="oc-crumb-sep"))
        last = i == len(trail) - 1
        items.append(
            html.Span(label, className="oc-crumb oc-crumb-here")
            if last or not link
            else dcc.Link(label, href=link, className="oc-crumb")
        )
    return html.Nav(items, className="oc-crumbs", **{"aria-label": "breadcrumbs"})


def when(stamp: pd.Timestamp, tz: str, seconds: bool = False) -> str:
    """An instant in the display time zone."""
    return stamp.tz_convert(ZoneInfo(tz)).strftime(_when_format(seconds))


def whens(stamps: pd.Series, tz: str, seconds: bool = False) -> list[str]:
    """``when`` of each instant of ``stamps`` (a table's column), converted at once."""
    return stamps.dt.tz_convert(ZoneInfo(tz)).dt.strftime(_when_format(seconds)).tolist()


def _when_format(seconds: bool) -> str:
    return "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"


def window_bar(kind: str, name: str, window: Window, tz: str, lang: str, extra: dict[str, str | None]) -> html.Div:
    """The window shown, and links to the same page (with the ``extra`` query values) over the preset windows."""
    presets = [
        dcc.Link(
            t("drill.last", lang, span=label),
            className="oc-preset" + (" oc-preset-on" if window.raw_from == start and window.raw_to == "now" else ""),
            href=href(kind, name, Window(start, "now", window.start, window.end), **extra),
        )
        for label, start in PRESETS
    ]
    shown = f"{when(window.start, tz)} – {when(window.end, tz)[11:]} ({tz})"
    return html.Div(
        [
            html.Span(t("drill.window", lang), className="oc-window-label"),
            html.Span(shown, className="oc-window-range"),
            *presets,
        ],
        className="oc-window-bar",
    )


def site_bar(
    kind: str,
    name: str,
    window: Window,
    labels: dict[str, str],
    site: str | None,
    lang: str,
    extra: dict[str, str | None],
) -> html.Div:
    """Links to the same page for all sites and for each site of ``labels`` (site -> label; the one shown marked)."""
    choices = [(t("drill.all_sites", lang), None), *((label, value) for value, label in labels.items())]
    return html.Div(
        [
            html.Span(t("drill.site", lang), className="oc-window-label"),
            *(
                dcc.Link(
                    label,
                    href=href(kind, name, window, **extra, site=value),
                    className="oc-preset" + (" oc-preset-on" if value == site else ""),
                )
                for label, value in choices
            ),
        ],
        className="oc-window-bar oc-site-bar",
    )


def problem(kind: str, detail: str, lang: str) -> html.Div:
    """A clear message in the page: ``not_found``, ``bad_request`` or ``unavailable``."""
    return html.Div(
        [
            breadcrumbs([(t("drill.wall", lang), "/wall"), (t(f"drill.{kind}", lang), None)]),
            html.H1(t(f"drill.{kind}", lang)),
            html.P(detail),
            dcc.Link(t("notfound.back", lang), href="/wall"),
        ],
        id=ids.DRILL_PROBLEM,
        className="oc-page oc-drill-problem",
        **{"data-kind": kind},
    )


def digest(*frames: pd.DataFrame) -> str:
    """A fingerprint of the rows a page shows: unchanged rows, unchanged page."""
    return "-".join(f"{len(f)}:{_fingerprint(f)}" for f in frames)


def _fingerprint(frame: pd.DataFrame) -> str:
    """A hash of ``frame``'s values, column by column as bytes: a page's few hundred rows cost microseconds, not
    pandas' cost per column."""
    hashed = hashlib.blake2b(digest_size=6)
    for name, column in frame.items():
        aware = isinstance(column.dtype, pd.DatetimeTZDtype)
        values = column.to_numpy(dtype="datetime64[ns]") if aware else column.to_numpy()
        hashed.update(f"\x1e{name}\x1f".encode())
        if values.dtype.kind in "biufmM":
            hashed.update(values.tobytes())
        else:  # which are missing, each text's length, then the texts: "nan" is not a missing value, nor "a|b" two
            texts = list(map(str, values.tolist()))
            hashed.update(pd.isna(values).tobytes())
            hashed.update(np.fromiter(map(len, texts), np.int64, len(texts)).tobytes())
            hashed.update("".join(texts).encode())
    return hashed.hexdigest()
