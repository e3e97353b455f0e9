"""The wall's views (``analytics.wallframes``) as the poller's derived step stored them, for the pages
that show part of them: used only when they are those of the frames the page reads.

A poll writes its frames seconds before the derivation that follows it writes their views. Meanwhile a
page may draw the frames the views come from (``drawn_versions``) rather than compute views of its own
from the newest frames, which every worker would do at once, decoding the whole estate."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd

from dashboard.analytics import wallframes
from dashboard.core.freshness import freshness
from dashboard.core.status import is_stale
from dashboard.core.store import CONFIG_SOURCE, DERIVED_SOURCE, FrameStore


def stored(
    store: FrameStore,
    versions: dict[str, int],
    statuses: dict[str, dict],
    now: datetime,
    offered: frozenset[str],
    health_rules: dict,
    names: Iterable[str] = wallframes.VIEWS,
    rows: bool = False,
) -> dict[str, pd.DataFrame] | dict[str, list[dict]] | None:
    """The stored views ``names`` (of ``wallframes.VIEWS``, and any other frame the caller reads with them, in
    the same round trip) when their basis is the frames at ``versions`` of the sources behind
    ``wallframes.INPUTS`` (from their ``statuses``) under ``health_rules``; else None. Given ``rows``, small
    views' rows in plain Python (``FrameStore.records``) rather than frames."""
    inputs = freshness(wallframes.INPUTS, statuses, now, offered).sources
    if not wallframes.current(store.frame("view_basis", versions), versions, (*inputs, CONFIG_SOURCE), health_rules):
        return None
    return store.records(names, versions) if rows else store.frames(names, versions)


def drawn_versions(
    store: FrameStore, versions: dict[str, int], statuses: dict[str, dict], now: datetime, health_rules: dict
) -> dict[str, int]:
    """``versions`` with each source's at the version the stored views come from, while those views may
    stand for the newest frames: derived under ``health_rules`` by a derivation whose last attempt succeeded
    and is not stale (``status.is_stale``), from every source that has delivered, so the views are at most one
    derivation behind and miss no source (a source's first frames wait for nothing). Otherwise
    ``versions`` unchanged, from which a page computes views of its own when the stored ones are behind."""
    if is_stale(statuses.get(DERIVED_SOURCE), now):
        return versions
    view_basis = store.frame("view_basis", versions)
    if view_basis.empty or (view_basis["rules"] != wallframes.rules_digest(health_rules)).any():
        return versions
    recorded = dict(zip(view_basis["source"], view_basis["version"].tolist()))
    if any(version and not recorded.get(source) for source, version in versions.items() if source != DERIVED_SOURCE):
        return versions  # a source has delivered since: views without it would show less than there is
    return {**versions, **recorded}
