"""A source's status record: since when it has been failing."""

from datetime import UTC, datetime, timedelta

from dashboard.core.status import after_attempt

T0 = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def _attempt(previous, minutes, ok):
    return after_attempt(
        previous,
        source="itsm",
        kind="demo",
        interval_s=60,
        started=T0 + timedelta(minutes=minutes),
        errors=[] if ok else ["connection refused"],
        rows=0,
        duration_ms=1.0,
        frames=["incidents"],
        offers=["incidents"],
    )


def test_a_failing_source_is_failing_since_its_first_failed_attempt():
    good = _attempt(None, 0, True)
    assert good["failing_since"] is None
    first = _attempt(good, 1, False)
    later = _attempt(first, 3, False)
    assert first["failing_since"] == later["failing_since"] == (T0 + timedelta(minutes=1)).isoformat()
    assert _attempt(later, 5, True)["failing_since"] is None
    assert _attempt(None, 0, False)["failing_since"] == T0.isoformat()
