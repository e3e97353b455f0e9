"""The regression guard itself: the same code passes against its own record, a slowed wall refresh fails."""

import time

from bench import check
from dashboard.analytics import kpis

SERVICES = 100


def _burn(ms: float) -> None:
    started = time.thread_time()
    while (time.thread_time() - started) * 1000 < ms:
        pass


def test_a_deliberately_slowed_wall_refresh_fails_the_guard(tmp_path, monkeypatch):
    reference = tmp_path / "reference.json"
    first, second = check.measure(SERVICES), check.measure(SERVICES)  # the slower of two: a busy machine's noise
    check.record({name: max(first[name], second[name]) for name in first}, reference)
    assert not any(v.failed for v in check.judge(check.measure(SERVICES), check.recorded(reference)))

    figures = kpis.figures  # the key figures' windows: computed in the refresh, from the poller's events
    monkeypatch.setattr(kpis, "figures", lambda events, now: (_burn(500), figures(events, now))[1])
    verdicts = {v.name: v for v in check.judge(check.measure(SERVICES), check.recorded(reference))}
    assert verdicts["wall refresh, first viewer"].failed, verdicts
    assert not verdicts["/trace/<slowest call>"].failed, verdicts


def test_a_measure_without_a_record_never_fails(tmp_path):
    verdict = check.Verdict("poll", 99.0, None)
    assert not verdict.failed and "not recorded" in str(verdict)
    assert check.Verdict("poll", 2.1, 1.0).failed and not check.Verdict("poll", 1.9, 1.0).failed
