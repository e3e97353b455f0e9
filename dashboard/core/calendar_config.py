"""The configured trading calendar: the markets shown and the closures an administrator declares.

Closures change while the application runs (a typhoon signal is hoisted): the config file's ``calendar:``
section is read again at most once a minute, when the file has changed; a section that no longer parses is
logged and the closures read before it stay.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from dashboard.analytics import calendar
from dashboard.core.settings import CalendarSettings, ConfigError, Settings, read_calendar

REREAD_S = 60.0
log = logging.getLogger(__name__)


class LiveCalendar:
    """The markets of ``settings`` and their sessions, with the config file's closures kept current."""

    def __init__(self, settings: Settings, reread_s: float = REREAD_S, monotonic: Callable[[], float] = time.monotonic):
        self.path, self.reread_s, self.monotonic = settings.path, reread_s, monotonic
        self._lock = threading.Lock()
        self._section = settings.calendar
        self._checked = monotonic()
        self._mtime = self._modified()

    def _modified(self) -> float | None:
        try:
            return Path(self.path).stat().st_mtime
        except OSError:
            return None

    def section(self) -> CalendarSettings:
        """The ``calendar:`` section as last read, read again when a minute has passed and the file changed."""
        with self._lock:
            if self.monotonic() - self._checked >= self.reread_s:
                self._checked = self.monotonic()
                mtime = self._modified()
                if mtime != self._mtime:
                    self._mtime = mtime
                    try:
                        self._section = read_calendar(self.path)
                    except ConfigError as exc:
                        log.warning("calendar closures not reloaded, the previous ones stay: %s", exc)
            return self._section

    @property
    def markets(self) -> tuple[calendar.Market, ...]:
        """The markets shown: A-share, Hong Kong, and the futures night session when the config turns it on."""
        night = self.section().futures_night
        return tuple(calendar.MARKETS.values()) + ((calendar.futures_night(*night),) if night else ())

    def closures(self) -> tuple[calendar.Closure, ...]:
        """The closures the config declares, as they stand now."""
        return self.section().closures

    def sessions(self, now: datetime) -> dict[str, calendar.Session]:
        """Each market's session at ``now``, declared closures included."""
        return calendar.sessions(now, self.markets, self.closures())
