"""Which sources stand behind a panel and whether it is stale."""
from datetime import datetime, timezone

import pandas as pd

from dashboard.freshness import freshness

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)


def _status(frames, ok=True, minutes_ago=1, interval_s=60):
    success = (pd.Timestamp(NOW) - pd.Timedelta(minutes=minutes_ago)).isoformat()
    return {"ok": ok, "last_success": success, "interval_s": interval_s, "frames": frames}


STATUSES = {
    "metrics": _status(["services", "service_metrics"]),
    "itsm": _status(["incidents", "changes"], ok=False, minutes_ago=20),
    "itsm-b": _status(["incidents"], minutes_ago=10, interval_s=60),  # older than three intervals
    "chaos": _status([]),  # never delivered anything
}


def test_a_panel_depends_on_the_sources_that_delivered_its_frames():
    fresh = freshness(["service_metrics"], STATUSES, NOW)
    assert fresh.sources == ("metrics",) and not fresh.is_stale and fresh.since is None
    assert fresh.version_key({"metrics": 7, "config": 2, "itsm": 3}) == [7, 2]


def test_a_panel_is_stale_since_the_oldest_success_of_its_stale_sources():
    fresh = freshness(["incidents"], STATUSES, NOW)
    assert fresh.sources == ("itsm", "itsm-b") and fresh.stale == ("itsm", "itsm-b") and fresh.is_stale
    assert fresh.since == pd.Timestamp(NOW) - pd.Timedelta(minutes=20)


def test_a_panel_nobody_delivered_is_stale_without_a_time():
    fresh = freshness(["chaos_runs"], STATUSES, NOW)
    assert fresh.sources == () and fresh.is_stale and fresh.since is None
