"""The versions a wall draws between a poll and its derivation (``layouts.components.views.drawn_versions``)."""

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.analytics import wallframes
from dashboard.core.settings import load
from dashboard.core.status import after_attempt
from dashboard.core.store import DERIVED_SOURCE, open_store
from layouts.components import views

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
RULES = load().health


def _store(basis: dict[str, int], ok: bool = True, age_s: float = 5):
    """A store whose views were derived from the sources at ``basis``, ``age_s`` before NOW."""
    store = open_store(None, "views-test", ["demo", "itsm"])
    store.write(DERIVED_SOURCE, {"view_basis": wallframes.basis(basis, RULES)})
    record = after_attempt(
        None,
        source=DERIVED_SOURCE,
        kind=DERIVED_SOURCE,
        interval_s=15,
        started=NOW - timedelta(seconds=age_s),
        errors=[] if ok else ["ValueError: no"],
        rows=1,
        duration_ms=1.0,
        frames=["view_basis"],
        offers=["view_basis"],
    )
    store.set_status(DERIVED_SOURCE, record)
    return store


@pytest.mark.parametrize(
    "basis, ok, age_s, drawn",
    [
        ({"demo": 4, "itsm": 3}, True, 5, {"demo": 4, "itsm": 3}),  # one derivation behind: its frames
        ({"demo": 5, "itsm": 3}, True, 5, {"demo": 5, "itsm": 3}),  # current
        ({"itsm": 3}, True, 5, {"demo": 5, "itsm": 3}),  # derived before the demo's first frames: not without them
        ({"demo": 4, "itsm": 3}, False, 5, {"demo": 5, "itsm": 3}),  # the derivation failed: the newest frames
        ({"demo": 4, "itsm": 3}, True, 300, {"demo": 5, "itsm": 3}),  # fallen behind: the newest frames
    ],
)
def test_a_wall_draws_the_views_frames_only_while_they_stand_for_every_source(basis, ok, age_s, drawn):
    store = _store(basis, ok, age_s)
    versions = {"demo": 5, "itsm": 3, DERIVED_SOURCE: store.versions()[DERIVED_SOURCE]}
    got = views.drawn_versions(store, versions, store.statuses(), NOW, RULES)
    assert {s: v for s, v in got.items() if s != DERIVED_SOURCE} == drawn
