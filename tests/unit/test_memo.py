"""The per-worker memo: each slot's latest versions, one computation however many ask."""

import threading

import pytest

from dashboard.core.memo import Memo


def test_keeps_each_slots_latest_versions():
    memo = Memo(keep=2)
    for version in (1, 2, 3):
        memo.get("tiles", version, lambda version=version: f"tiles {version}")
    memo.get("kpis", 1, lambda: "kpis 1")
    assert memo.get("tiles", 1, lambda: "again") == "again"  # pushed out by version 3
    assert memo.get("tiles", 3, lambda: "again") == "tiles 3"
    assert memo.get("kpis", 1, lambda: "again") == "kpis 1"  # other slots' versions push out none of its own


def test_viewers_asking_at_once_share_one_computation():
    memo, started, release, calls = Memo(), threading.Event(), threading.Event(), []

    def compute():
        calls.append(1)
        started.set()
        assert release.wait(10)
        return "wall"

    results = []
    first = threading.Thread(target=lambda: results.append(memo.get("wall", 1, compute)))
    first.start()
    assert started.wait(10)
    waiting = [threading.Thread(target=lambda: results.append(memo.get("wall", 1, compute))) for _ in range(7)]
    for thread in waiting:
        thread.start()
    release.set()
    for thread in [first, *waiting]:
        thread.join(10)
    assert results == ["wall"] * 8 and len(calls) == 1


def test_a_failed_computation_is_not_kept_and_waiters_try_themselves():
    memo, started, release = Memo(), threading.Event(), threading.Event()

    def fail():
        started.set()
        assert release.wait(10)
        raise RuntimeError("frame store away")

    failing = threading.Thread(target=lambda: pytest.raises(RuntimeError, memo.get, "wall", 1, fail))
    failing.start()
    assert started.wait(10)
    results = []
    waiter = threading.Thread(target=lambda: results.append(memo.get("wall", 1, lambda: "drawn")))
    waiter.start()
    release.set()
    for thread in (failing, waiter):
        thread.join(10)
    assert results == ["drawn"] and memo.get("wall", 1, lambda: "later") == "drawn"
