"""The wall's market strip: a chip per market whose feeds matter now, the closed markets said once together."""

import math

from layouts.components.market_strip import chips, closed_text, strip

MARKETS = ("SSE", "SZSE", "HKEX", "futures", "indices")


def _rows(**states) -> list[dict]:
    """``wall_markets`` rows in the view's order, each market closed unless given a state (or a late row)."""
    rows = []
    for market in MARKETS:
        given = states.get(market, "closed")
        row = given if isinstance(given, dict) else {"state": given, "sites": "", "tick_age_s": math.nan}
        rows.append({"market": market, **row})
    return rows


def _text(component) -> str:
    if isinstance(component, str):
        return component
    children = component.children or []
    return "".join(_text(c) for c in (children if isinstance(children, list) else [children]))


def test_at_night_every_market_is_said_closed_once_in_one_line():
    """At 03:00 the header already says both markets are closed: the strip has no chip, one muted line."""
    shown = strip(_rows())
    assert shown.chips == () and shown.closed == MARKETS
    (line,) = chips(_rows(), "en")
    assert _text(line) == "Not trading: SSE, SZSE, HKEX, Futures, Indices"
    assert line.className == "oc-feeds-closed" and "oc-crit" not in line.className
    assert _text(chips(_rows(), "zh")[0]) == "非交易时段：上交所、深交所、港交所、期货、指数"


def test_a_stall_in_session_stays_a_loud_chip_naming_its_site_before_the_closed_line():
    """Futures at night: the night session's stall at sh-dc2 is a red chip first; the markets closed for the night
    share one line after it."""
    late = {"state": "late", "sites": "sh-dc2, sh-dc1", "tick_age_s": 180.0}
    rows = _rows(futures=late)
    shown = strip(rows)
    assert [row["market"] for row in shown.chips] == ["futures"] and shown.closed == ("SSE", "SZSE", "HKEX", "indices")
    chip, line = chips(rows, "en")
    assert "oc-crit" in chip.className and chip.title == "oldest tick 3 min ago"
    assert _text(chip) == "Futureslate at sh-dc2, sh-dc1 · 3 min"
    assert _text(line) == "Not trading: SSE, SZSE, HKEX, Indices"


def test_in_session_every_market_keeps_its_chip_and_no_closed_line():
    rows = _rows(SSE="ok", SZSE="ok", HKEX="nodata", futures="ok", indices="ok")
    assert strip(rows).closed == ()
    assert [c.className for c in chips(rows, "en")] == ["oc-feed oc-ok"] * 2 + ["oc-feed oc-nodata"] + [
        "oc-feed oc-ok"
    ] * 2


def test_no_feed_rows_show_nothing():
    assert chips([], "en") == [] and closed_text(("HKEX",), "en") == "Not trading: HKEX"
