"""Which sources stand behind a panel, and whether the panel is stale.

A panel reads some frames; the sources behind it are those whose last good poll
delivered any of those frames (the status records' ``frames``). The panel is stale
when any of them is stale, or when no source has delivered its frames yet. Before
any delivery, the frames the configuration offers (``offers.offered_frames``) tell a
panel waiting for its sources from one that no configured source will ever fill, and
the status records' ``offers`` name the sources that would fill it but whose polls fail. Either
way, a panel whose sources fail (``unknown``) does not know what it would show, since the first
failed poll (the status records' ``failing_since``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from dashboard.core.status import is_stale
from dashboard.core.store import CONFIG_SOURCE


@dataclass(frozen=True)
class Freshness:
    """The sources behind a panel, those of them that are stale, since when, and whether any is configured."""

    sources: tuple[str, ...]
    stale: tuple[str, ...]
    since: pd.Timestamp | None  # the earliest last success among the stale sources
    configured: bool  # a configured source offers the panel's frames (or has delivered them)
    failing: tuple[str, ...] = ()  # sources offering the frames that have failed every poll so far
    broken: tuple[str, ...] = ()  # sources behind the panel whose last poll failed
    failing_since: pd.Timestamp | None = None  # the earliest first failure of the failing and broken sources

    @property
    def is_stale(self) -> bool:
        return bool(self.stale) or not self.sources

    @property
    def waiting(self) -> bool:
        """Nothing delivered yet, but a configured source offers the frames and has not failed."""
        return not self.sources and self.configured and not self.failing

    @property
    def unknown(self) -> tuple[str, ...]:
        """The sources whose failure leaves the panel not knowing what to show."""
        return self.failing + self.broken

    def version_key(self, versions: dict[str, int]) -> list[int]:
        """The frame versions this panel depends on: unchanged means nothing to redraw."""
        return [versions.get(s, 0) for s in (*self.sources, CONFIG_SOURCE)]


def freshness(frames: Iterable[str], statuses: dict[str, dict], now: datetime, offered: frozenset[str]) -> Freshness:
    """The freshness of a panel reading ``frames``, from every source's status record and the frames
    the configuration ``offered``."""
    wanted = set(frames)
    sources = tuple(sorted(s for s, status in statuses.items() if wanted & set(status.get("frames") or ())))
    stale = tuple(s for s in sources if is_stale(statuses[s], now))
    successes = [pd.Timestamp(statuses[s]["last_success"]) for s in stale if statuses[s].get("last_success")]
    failing = tuple(
        sorted(
            s
            for s, status in statuses.items()
            if s not in sources and not status.get("ok") and wanted & set(status.get("offers") or ())
        )
    )
    broken = tuple(s for s in stale if statuses[s].get("ok") is False)
    since = [
        pd.Timestamp(statuses[s].get("failing_since") or statuses[s].get("last_attempt"))
        for s in failing + broken
        if statuses[s].get("failing_since") or statuses[s].get("last_attempt")
    ]
    return Freshness(
        sources,
        stale,
        min(successes) if successes else None,
        bool(sources or wanted & offered),
        failing,
        broken,
        min(since) if since else None,
    )
