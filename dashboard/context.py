"""What a page or callback may use, of the running app: the settings, the frame store, the history database,
the frames configured, the trading calendar and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

import flask
import sqlalchemy as sa

from dashboard.command import preplans
from dashboard.core.calendar_config import LiveCalendar
from dashboard.core.memo import Memo
from dashboard.core.offers import offered_frames, sources_offering
from dashboard.core.settings import Settings
from dashboard.core.store import FrameStore


@dataclass
class Context:
    settings: Settings
    store: FrameStore
    history: sa.Engine  # the history database: assessments, evidence, audit
    memo: Memo = field(default_factory=Memo)  # per-version results shared by the worker's viewers
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))  # "now" of a page that asks
    _offering: dict[frozenset[str], tuple[str, ...]] = field(default_factory=dict, repr=False)

    @cached_property
    def offered(self) -> frozenset[str]:
        """The frames the configuration delivers once polled (``offers.offered_frames``)."""
        return offered_frames(self.settings.sources, self.settings.chains)

    def versions_of(self, versions: dict[str, int], frames: frozenset[str]) -> tuple[int, ...]:
        """Of the frame store's ``versions``, those of the sources delivering any of ``frames``: a key for a result
        read from those frames alone."""
        if frames not in self._offering:
            self._offering[frames] = sources_offering(self.settings.sources, frames)
        return tuple(versions.get(source, 0) for source in self._offering[frames])

    @cached_property
    def calendar(self) -> LiveCalendar:
        """The markets shown and their sessions, with the closures the config declares kept current."""
        return LiveCalendar(self.settings)

    @cached_property
    def preplans(self) -> preplans.Library:
        """The pre-plan library of ``preplans.path``, loaded once (files that do not validate left out)."""
        return preplans.load(self.settings.preplans.path, self.settings.display_tz)


def current() -> Context:
    """Return the context of the app serving this request."""
    return flask.current_app.extensions["opscenter"]
