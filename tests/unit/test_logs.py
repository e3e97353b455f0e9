"""Log lines around a trace: asked of the log sources once, the trace's own lines first."""

import pandas as pd

from dashboard.core import loglines as logs
from dashboard.core.store import open_store
from datasources.demo import DemoSource, episodes

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC")


def test_lines_around_a_slow_trace_put_its_own_lines_first_and_are_cached():
    source = DemoSource(name="demo")
    slow = [e for e in episodes(NOW - pd.Timedelta(hours=6), NOW) if e.kind == "saturation"][-1]
    calls = source.fetch(NOW.to_pydatetime())["calls"]
    call = calls[(calls["instance"] == slow.instance) & calls["start"].between(slow.start, slow.end)]
    spans = source.spans(call.sort_values("duration_ms")["trace_id"].iloc[-1])
    finder = logs.LogFinder([source], open_store(None, "unit", ["demo"]))
    lines = finder.around(spans)
    mine = lines["trace_id"].eq(spans["trace_id"].iloc[0])
    assert mine.iloc[: mine.sum()].all() and mine.sum() >= len(spans)
    assert set(lines["instance"]) <= set(spans["instance"]) and len(lines) <= logs.LIMIT
    finder.sources = []  # a second viewer is served from the cache
    cached = finder.cache.frame(f"loglines:{spans['trace_id'].iloc[0]}", pd.DataFrame)
    assert cached["message"].tolist() == lines["message"].tolist()


def test_trace_first_orders_and_bounds():
    frame = pd.DataFrame({"ts": pd.to_datetime([3, 1, 2], unit="s", utc=True), "trace_id": [None, "ab", None]})
    ordered = logs.trace_first(frame, "AB", limit=2)
    assert ordered["trace_id"].iloc[0] == "ab" and ordered["ts"].iloc[1] == pd.Timestamp(2, unit="s", tz="UTC")
