"""Spans on demand: validated ids, one source query per trace while cached, the TTL set."""

import pandas as pd
import pytest

from dashboard.core import spans as traces
from dashboard.core.store import open_store
from datasources.base import Source, empty_frame
from datasources.demo import DemoSource

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC")


class Counting(DemoSource):
    """The demo source, counting the trace queries it answers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked = []

    def spans(self, trace_id):
        self.asked.append(trace_id)
        return super().spans(trace_id)


class Broken(DemoSource):
    def spans(self, trace_id):
        raise ConnectionError("trace store down")


class RecordingCache:
    """Wraps the store's cache to record the timeouts given to set()."""

    def __init__(self, cache):
        self.cache, self.timeouts = cache, {}

    def get(self, key):
        return self.cache.get(key)

    def set(self, key, value, timeout=None):
        self.timeouts[key] = timeout
        return self.cache.set(key, value, timeout=timeout)


@pytest.fixture
def known_trace():
    return DemoSource(name="demo").fetch(NOW.to_pydatetime())["calls"]["trace_id"].iloc[0]


def finder(*sources):
    store = open_store(None, "unit", ["demo"])
    store.cache = RecordingCache(store.cache)
    return traces.TraceFinder(list(sources), store)


def test_second_request_is_served_from_the_cache_with_a_ttl(known_trace):
    source = Counting(name="demo")
    found = finder(source)
    first = found.spans(known_trace.upper())
    second = found.spans(known_trace)
    assert source.asked == [known_trace] and len(first) >= 2
    pd.testing.assert_frame_equal(first, second)
    key = f"opscenter:unit:spans:{known_trace}"
    assert found.cache.store.cache.timeouts == {key: traces.TTL_S}


def test_unknown_trace_is_empty_and_cached_briefly():
    source = Counting(name="demo")
    found = finder(source)
    assert found.spans("0" * 32).empty and found.spans("0" * 32).empty
    assert source.asked == ["0" * 32]
    assert list(found.cache.store.cache.timeouts.values()) == [traces.MISS_TTL_S]


@pytest.mark.parametrize("bad", ["", "xyz", "0" * 31, "g" * 32, "0" * 33, "../" + "0" * 29, None])
def test_invalid_ids_never_reach_a_source(bad):
    source = Counting(name="demo")
    with pytest.raises(traces.InvalidTraceId):
        finder(source).spans(bad)
    assert source.asked == []


def test_only_sources_that_answer_traces_are_asked_and_failures_surface(known_trace):
    class Plain(Source):
        kind = "plain"

    assert not traces.answers_traces(Plain(name="p")) and traces.answers_traces(DemoSource(name="d"))
    assert finder(Plain(name="p")).spans(known_trace).equals(empty_frame("spans"))
    with pytest.raises(traces.TraceSourceError, match="trace store down"):
        finder(Broken(name="b")).spans(known_trace)
    assert len(finder(Broken(name="b"), Counting(name="demo")).spans(known_trace)) >= 2
