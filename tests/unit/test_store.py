"""The frame store on the in-process backend: a frame version is decoded once however many threads read it."""

import gc
import threading
import weakref

import pandas as pd
import pytest
import redis

from dashboard.analytics import wallframes
from dashboard.core import store as store_module
from dashboard.core.derived import DerivedFrames
from dashboard.core.poller import Poller
from dashboard.core.settings import parse
from dashboard.core.store import derived_source, open_store
from datasources import registry


def test_threads_reading_a_new_version_decode_it_once(monkeypatch):
    store = open_store(None, "store-test", ["demo"])
    store.write(
        "demo",
        {
            "services": pd.DataFrame(
                {"service": ["a"], "display_name": ["A"], "tier": [1], "owner": ["ops"], "runbook_url": [None]}
            )
        },
    )
    decodes, gate = [], threading.Barrier(8)
    real = store_module.decode_frame

    def counted(data):
        decodes.append(1)
        return real(data)

    monkeypatch.setattr(store_module, "decode_frame", counted)
    frames = []

    def read():
        gate.wait(10)
        frames.append(store.frame("services"))

    readers = [threading.Thread(target=read) for _ in range(8)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(10)
    assert len(frames) == 8 and all(f is frames[0] for f in frames) and len(decodes) == 1


def test_every_frame_a_poll_writes_reads_back_as_with_pandas_metadata(monkeypatch):
    written: dict[str, bytes] = {}
    encode = store_module.encode_frame
    monkeypatch.setattr(
        store_module, "encode_frame", lambda frame: written.setdefault(str(len(written)), encode(frame))
    )
    settings = parse("sources:\n  - {kind: demo, name: demo, interval_s: 15, services: 30}\n")
    store = open_store(None, "store-roundtrip", settings.source_names)
    source = registry.build(settings.sources[0])
    Poller([source], store, derived=DerivedFrames(store, history_days=1, health=settings.health)).poll(source)
    assert len(written) > 30  # the source's frames and the derived step's
    for data in written.values():
        with_metadata = store_module._decode_table(data).to_pandas()
        pd.testing.assert_frame_equal(store_module.decode_frame(data), with_metadata, check_exact=True)


def _metrics(services: int, minutes: int, value: float = 1.0) -> pd.DataFrame:
    """``service_metrics`` of ``services`` services over ``minutes`` minutes, every figure ``value``."""
    ts = pd.date_range("2026-11-18 01:00", periods=minutes, freq="min", tz="UTC")
    names = [f"svc-{i:03d}" for i in range(services)]
    frame = pd.DataFrame({"ts": ts.repeat(services), "service": names * minutes})
    for column in ("requests_per_s", "error_ratio", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms"):
        frame[column] = value
    return frame


def _values(store) -> dict[str, bytes]:
    return {k: v for k, (_expires, v) in store.cache._cache.items() if isinstance(v, bytes)}


def test_a_large_frame_is_cut_by_service_and_no_value_is_over_the_limit():
    store = open_store(None, "parts", ["demo"], limit_mb=0.2)
    metrics = _metrics(200, 120)
    store.write("demo", {"service_metrics": metrics})
    parts = [k for k in _values(store) if k.startswith("opscenter:parts:frame:demo:service_metrics:")]
    assert len(parts) >= 8 and max(len(v) for v in _values(store).values()) <= 200_000
    whole = store.frame("service_metrics")
    assert len(whole) == len(metrics) and set(whole["service"]) == set(metrics["service"])


def test_a_whole_large_frame_read_is_let_go_once_a_newer_version_is_seen():
    """A worker reads a large frame whole only while the poller's views are behind; kept after that, the
    whole estate stayed decoded in the worker until it was read again, which it never was."""
    store = open_store(None, "let-go", ["demo"], limit_mb=0.2)
    store.write("demo", {"service_metrics": _metrics(50, 30)})
    whole = weakref.ref(store.frame("service_metrics"))
    store.versions()
    gc.collect()
    assert whole() is not None  # the version read is still the newest: kept for the next reader
    store.write("demo", {"service_metrics": _metrics(50, 30, value=2.0)})
    store.versions()  # a refresh asks for the versions first
    gc.collect()
    assert whole() is None


def test_reading_some_services_decodes_only_their_partitions(monkeypatch):
    store = open_store(None, "parts", ["demo"], limit_mb=0.2)
    metrics = _metrics(200, 120)
    store.write("demo", {"service_metrics": metrics})
    decoded = []
    real = store_module._decode_table
    monkeypatch.setattr(store_module, "_decode_table", lambda data: decoded.append(1) or real(data))
    rows = store.frame("service_metrics", services=["svc-007"])
    expected = metrics[metrics["service"] == "svc-007"].reset_index(drop=True)
    pd.testing.assert_frame_equal(rows.reset_index(drop=True), expected, check_dtype=False)
    assert len(decoded) == 1
    store.frame("service_metrics", services=["svc-007"])
    assert len(decoded) == 1  # kept for the version


def test_some_services_read_is_kept_though_other_sources_have_no_such_frame():
    store = open_store(None, "parts", ["demo"], limit_mb=0.2)
    store.write("demo", {"service_metrics": _metrics(200, 120)})
    store.write(derived_source("demo"), {"services": _services(["a"])})  # a version, no service_metrics
    rows = store.frame("service_metrics", services=["svc-007"])
    assert len(rows) == 120 and store.frame("service_metrics", services=["svc-007"]) is rows


def _frames_away(monkeypatch, store) -> None:
    """Redis away for the frames' values only: versions, manifests and statuses still read."""
    real_get, real_get_many = store.cache.get, store.cache.get_many

    def away(read):
        def guarded(*keys):
            if any(":frame:" in key for key in keys):
                raise redis.ConnectionError("away")
            return read(*keys)

        return guarded

    monkeypatch.setattr(store.cache, "get", away(real_get))
    monkeypatch.setattr(store.cache, "get_many", away(real_get_many))


def test_some_services_read_that_failed_is_not_kept(monkeypatch):
    store = open_store(None, "parts", ["demo"], limit_mb=0.2)
    store.write("demo", {"service_metrics": _metrics(200, 120)})
    with monkeypatch.context() as blip:
        _frames_away(blip, store)
        assert store.frame("service_metrics", services=["svc-007"]).empty
    assert len(store.frame("service_metrics", services=["svc-007"])) == 120


def test_some_services_of_a_whole_frame_read_while_redis_was_away_are_not_the_old_version(monkeypatch):
    """A frame not partitioned (``instances``): a read of a new version that failed neither serves nor keeps
    the version decoded before under the new versions."""
    store = open_store(None, "parts", ["demo"])
    store.write("demo", {"instances": _instances("site-a")})
    assert store.frame("instances", services=["a"])["site"].tolist() == ["site-a"]
    store.write("demo", {"instances": _instances("site-b")})
    with monkeypatch.context() as blip:
        _frames_away(blip, store)
        assert store.frame("instances", services=["a"]).empty  # not read: none to show, not the old sites
    assert store.frame("instances", services=["a"])["site"].tolist() == ["site-b"]
    assert set(store.read("demo", "instances")["site"]) == {"site-b"}


def test_a_whole_frame_read_while_redis_was_away_is_read_again_once_it_is_back(monkeypatch):
    """Meanwhile the version decoded before stands in; it is not kept as the frame of the new versions."""
    store = open_store(None, "away", ["demo"])
    store.write("demo", {"instances": _instances("site-a")})
    assert store.frame("instances")["site"].unique().tolist() == ["site-a"]
    store.write("demo", {"instances": _instances("site-b")})
    with monkeypatch.context() as blip:
        _frames_away(blip, store)
        assert store.frame("instances")["site"].unique().tolist() == ["site-a"]
        assert store.frames(["instances"])["instances"]["site"].unique().tolist() == ["site-a"]
    assert store.frame("instances")["site"].unique().tolist() == ["site-b"]


def test_threads_reaching_new_versions_together_read_them_in_one_round_trip(monkeypatch):
    store = open_store(None, "together", ["demo"])
    store.write("demo", {"services": _services(["a"]), "instances": _instances("site-a")})
    trips, second = [], threading.Event()
    real = store.cache.get_many

    def get_many(*keys):
        if any(":frame:" in key for key in keys):
            trips.append(keys)
            if len(trips) == 1:
                second.wait(timeout=2)  # the other thread's read, if it makes one, comes meanwhile
            else:
                second.set()
        return real(*keys)

    monkeypatch.setattr(store.cache, "get_many", get_many)
    readers = [threading.Thread(target=store.frames, args=(["services", "instances"],)) for _ in range(2)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert len(trips) == 1
    assert store.frame("instances")["site"].unique().tolist() == ["site-a"]


def test_one_service_over_the_limit_is_rejected_by_name_and_the_last_good_frame_stays():
    store = open_store(None, "parts", ["demo"], limit_mb=0.05)
    store.write("demo", {"service_metrics": _metrics(3, 10)})
    huge = _metrics(1, 5000, value=2.0)
    with pytest.raises(store_module.FrameTooLarge, match=r"demo: frame service_metrics has .* over the store's limit"):
        store.write("demo", {"service_metrics": huge, "services": _services(["a"])})
    assert store.frame("service_metrics")["requests_per_s"].eq(1.0).all()
    assert store.frame("services")["service"].tolist() == ["a"]  # the other frame is stored


def test_a_whole_frame_over_the_limit_is_rejected():
    store = open_store(None, "parts", ["demo"], limit_mb=0.001)
    with pytest.raises(store_module.FrameTooLarge, match="frame services is .* MB, over the store's limit") as caught:
        store.write("demo", {"services": _services([f"s{i}" for i in range(100)])})
    assert caught.value.names == ("services",)


def test_a_reader_never_mixes_partitions_of_two_polls(monkeypatch):
    """A poll writing the frame anew while a reader fetches its partitions: the reader reads the new
    manifest again and gets one poll's rows only."""
    store = open_store(None, "parts", ["demo"], limit_mb=0.2)
    store.write("demo", {"service_metrics": _metrics(200, 120, value=1.0)})
    writer = open_store(None, "parts", ["demo"], limit_mb=0.2)
    writer.cache = store.cache
    real, polls = store.cache.get_many, []

    def get_many(*keys):  # the first poll's first half of the partitions, then the second poll's rest
        if polls or not any(":service_metrics:" in k for k in keys):
            return real(*keys)
        half = len(keys) // 2
        first = real(*keys[:half])
        polls.append(writer.write("demo", {"service_metrics": _metrics(200, 120, value=2.0)}))
        return first + real(*keys[half:])

    monkeypatch.setattr(store.cache, "get_many", get_many)
    version = store.versions()["demo"]
    whole = store.read("demo", "service_metrics", version)
    assert polls and set(whole["requests_per_s"]) == {2.0} and len(whole) == 200 * 120
    some = store.frame("service_metrics", {"demo": version + 1}, services=["svc-001", "svc-150"])
    assert set(some["requests_per_s"]) == {2.0} and set(some["service"]) == {"svc-001", "svc-150"}


def test_fewer_partitions_remove_the_ones_left_over():
    store = open_store(None, "parts", ["demo"], limit_mb=0.2)
    store.write("demo", {"service_metrics": _metrics(200, 120)})
    store.write("demo", {"service_metrics": _metrics(2, 10)})
    left = [k for k in _values(store) if k.startswith("opscenter:parts:frame:demo:service_metrics:")]
    assert left == ["opscenter:parts:frame:demo:service_metrics:0"]
    assert len(store.frame("service_metrics")) == 20


def _services(names):
    return pd.DataFrame(
        {
            "service": names,
            "display_name": names,
            "tier": [1] * len(names),
            "owner": ["ops"] * len(names),
            "runbook_url": [None] * len(names),
        }
    )


def _instances(site):
    return pd.DataFrame({"service": ["a", "b"], "instance": ["a-1", "b-1"], "site": [site, site]})


def _changes(title: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "change_id": ["CHG1", "CHG2"],
            "title": [title, "other"],
            "service": ["svc-a", None],
            "type": ["normal", "emergency"],
            "actual_start": pd.to_datetime(["2026-11-18 01:00", None], utc=True),
            "planned_start": pd.to_datetime(["2026-11-18 00:30", "2026-11-18 03:00"], utc=True),
            "planned_end": pd.to_datetime(["2026-11-18 02:00", None], utc=True),
            "running": [True, False],
        }
    )


def test_small_frames_read_as_rows_are_their_frames_rows_read_once_per_version(monkeypatch):
    store = open_store(None, "records", ["a", "b"])
    store.write("a", {"wall_changes": _changes("first")})
    store.write("b", {"wall_changes": _changes("second").head(1)})
    rows = store.records(["wall_changes"])["wall_changes"]
    assert rows == wallframes.records(store.frame("wall_changes"))  # as a worker computing them would have them
    assert [r["title"] for r in rows] == ["first", "other", "second"]
    assert rows[1]["service"] is None and rows[1]["actual_start"] is None  # missing, not NaN or NaT
    assert rows[0]["actual_start"] == pd.Timestamp("2026-11-18 01:00", tz="UTC")
    trips = []
    get_many = store.cache.get_many
    monkeypatch.setattr(store.cache, "get_many", lambda *keys: trips.append(keys) or get_many(*keys))
    assert store.records(["wall_changes"])["wall_changes"] == rows
    assert not [k for trip in trips for k in trip if ":frame:" in k]  # kept for this version
    with pytest.raises(ValueError, match="service_metrics"):
        store.records(["service_metrics"])


def test_rows_read_while_redis_was_away_are_read_again_once_it_is_back(monkeypatch):
    store = open_store(None, "records-away", ["demo"])
    store.write("demo", {"wall_changes": _changes("before")})
    assert store.records(["wall_changes"])["wall_changes"][0]["title"] == "before"
    store.write("demo", {"wall_changes": _changes("after")})
    with monkeypatch.context() as blip:
        _frames_away(blip, store)
        assert store.records(["wall_changes"])["wall_changes"][0]["title"] == "before"  # the rows read before
    assert store.records(["wall_changes"])["wall_changes"][0]["title"] == "after"
