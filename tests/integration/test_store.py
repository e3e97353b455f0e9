"""Frame store: every frame round-trips on the local backend and on real Redis; nothing is unpickled."""

import pickle

import pandas as pd
import pytest
import redis
from pandas.testing import assert_frame_equal

from dashboard.core.store import PARTITIONED, LocalFrameCache, RawBytesSerializer, decode_frame, open_store
from datasources.base import empty_frame
from datasources.demo import DemoSource

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC").to_pydatetime()


@pytest.fixture(scope="module")
def frames():
    return DemoSource(name="demo").fetch(NOW)


@pytest.fixture(params=["local", "redis"])
def store(request, monkeypatch):
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        store = open_store(url, request.getfixturevalue("deployment"), ["demo", "itsm"])
    else:
        store = open_store(None, "default", ["demo", "itsm"])

    def refuse(*_a, **_k):
        raise AssertionError("the store must never unpickle")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    return store


def test_every_frame_round_trips(store, frames):
    version = store.write("demo", frames)
    assert version > 1_700_000_000_000 and store.write("demo", frames) == version + 1
    for name, frame in frames.items():
        got = store.read("demo", name)
        if name in PARTITIONED:  # read partition by partition: each service's rows in their order
            got, frame = (f.sort_values("service", kind="stable") for f in (got, frame))
        assert_frame_equal(
            got.reset_index(drop=True), frame.reset_index(drop=True), check_dtype=False, check_index_type=False
        )
        assert (
            got["ts" if "ts" in got else got.columns[0]].dtype
            == frame[got.columns[0] if "ts" not in got else "ts"].dtype
        )


def test_versions_increase_per_source(store, frames):
    assert store.versions() == {
        "demo": 0,
        "itsm": 0,
        "config": 0,
        "opscenter": 0,  # the declared incidents and who commands what
        "oncall": 0,  # who the roster's ITSM on-call groups have on call
        "derived:demo": 0,
        "derived:itsm": 0,
        "derived": 0,  # the wall's views, of the whole estate
    }
    first = store.write("demo", {"services": frames["services"]})
    store.write("demo", {"services": frames["services"]})
    itsm = store.write("itsm", {"incidents": frames["incidents"]})
    assert store.versions() == {
        "demo": first + 1,
        "itsm": itsm,
        "config": 0,
        "opscenter": 0,
        "oncall": 0,
        "derived:demo": 0,
        "derived:itsm": 0,
        "derived": 0,
    }


def test_frames_of_several_sources_are_concatenated(store, frames):
    incidents = frames["incidents"]
    store.write("demo", {"incidents": incidents})
    store.write("itsm", {"incidents": incidents.assign(source="itsm")})
    combined = store.frame("incidents")
    assert len(combined) == 2 * len(incidents)
    assert set(combined["source"]) == {"demo", "itsm"}


def test_absent_frame_is_the_empty_contract_frame(store):
    assert_frame_equal(store.frame("alerts"), empty_frame("alerts"))


def test_status_records(store):
    assert store.status("demo") is None
    store.set_status("demo", {"source": "demo", "ok": True, "rows": 3})
    assert store.status("demo")["rows"] == 3
    assert set(store.statuses()) == {"demo"}


def test_redis_holds_arrow_bytes_not_pickles(redis_url, deployment, frames):
    store = open_store(redis_url, deployment, ["demo"])
    store.write("demo", {"incidents": frames["incidents"]})
    raw = redis.Redis.from_url(redis_url).get(f"opscenter:{deployment}:frame:demo:incidents")
    assert raw[:4] == b"\xff\xff\xff\xff"  # Arrow IPC stream continuation marker
    assert len(decode_frame(raw)) == len(frames["incidents"])


def test_serializer_refuses_objects():
    with pytest.raises(TypeError, match="bytes only"):
        RawBytesSerializer().dumps({"a": 1})
    with pytest.raises(TypeError):
        LocalFrameCache().set("k", ["not", "bytes"])
