"""The wall's views (``analytics.wallframes``) as the poller's derived step stored them, for the pages
that show part of them: used only when they are those of the frames the page reads."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from dashboard.analytics import wallframes
from dashboard.core.freshness import freshness
from dashboard.core.store import CONFIG_SOURCE, FrameStore


def stored(
    store: FrameStore,
    versions: dict[str, int],
    statuses: dict[str, dict],
    now: datetime,
    offered: frozenset[str],
    health_rules: dict,
) -> dict[str, pd.DataFrame] | None:
    """The stored ``wallframes.VIEWS`` when their basis is the frames at ``versions`` of the sources behind
    ``wallframes.INPUTS`` (from their ``statuses``) under ``health_rules``; else None."""
    inputs = freshness(wallframes.INPUTS, statuses, now, offered).sources
    if wallframes.current(store.frame("view_basis", versions), versions, (*inputs, CONFIG_SOURCE), health_rules):
        return {name: store.frame(name, versions) for name in wallframes.VIEWS}
    return None
