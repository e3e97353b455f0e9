"""The config's ``notifications:`` section: channels, the duty roster (inline or in a file it names), and
the escalation's timing. Checked when the config loads, each problem located by file, line and key (a level's
on-call group must name a source that reads them); a roster kept in its own file is read again when the file
changes (``RosterFile``), so a hand-over edited during the day counts without a restart, and a broken edit keeps
the last good roster (logged).
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard.command.channels import KINDS, model_of
from dashboard.command.roster import Roster

log = logging.getLogger("opscenter.notify")
KEYS = ("channels", "roster", "ack_minutes", "priorities", "link_url", "oncall_interval_s")
MIN_ONCALL_INTERVAL_S = 10.0  # each read asks the ITSM a few requests per group: no faster than this


class RosterFile:
    """The roster at ``path`` (checked against ``channels`` and ``oncall_sources``), read again whenever the
    file changes."""

    def __init__(self, path: str, channels: set[str], oncall_sources: set[str], roster: Roster):
        self.path, self.channels, self.oncall_sources, self._roster = path, channels, oncall_sources, roster
        self._stamp = _stamp(path)
        self._lock = threading.Lock()

    def current(self) -> Roster:
        """The roster as the file now says; the last good one while the file is missing or wrong."""
        from dashboard.core.settings import ConfigError

        with self._lock:
            stamp = _stamp(self.path)
            if stamp != self._stamp:
                self._stamp = stamp
                try:
                    self._roster = read_roster(self.path, self.channels, self.oncall_sources)
                except ConfigError as exc:
                    log.error("duty roster not reloaded, the last good one stays: %s", exc)
            return self._roster


def _stamp(path: str) -> tuple[float, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_mtime, info.st_size


@dataclass(frozen=True)
class NotifySettings:
    """Channels by name, the roster, when to escalate, and how often the on-call groups are read."""

    channels: dict[str, Any]
    roster: Roster | RosterFile
    ack_minutes: float = 5.0
    priorities: tuple[int, ...] = (1,)
    link_url: str | None = None
    oncall_interval_s: float = 60.0

    def current_roster(self) -> Roster:
        return self.roster.current() if isinstance(self.roster, RosterFile) else self.roster


def _roster(doc, where: tuple, raw, channels: set[str], oncall_sources: set[str]) -> Roster:
    from dashboard.core.settings import _check_options

    if not isinstance(raw, dict):
        doc.fail(where, "expected a mapping with people and levels, or the path of a file holding one")
    roster = _check_options(doc, where, raw, Roster)
    for loc, message in roster.problems(channels, oncall_sources):
        doc.fail(where + loc, message)
    return roster


def read_roster(path: str, channels: set[str], oncall_sources: set[str]) -> Roster:
    """The roster file at ``path``, checked; ConfigError naming its line otherwise."""
    from dashboard.core.settings import located_file

    doc = located_file(path)
    return _roster(doc, (), doc.data, channels, oncall_sources)


def oncall_readers(sources: list[dict]) -> set[str]:
    """The names of the configured sources whose kind reads on-call groups."""
    from datasources.registry import find

    return {s["name"] for s in sources if getattr(find(s["kind"]), "reads_on_call", False)}


def check(doc, raw, sources: list[dict]) -> NotifySettings | None:
    """The ``notifications:`` section of the config ``doc`` (a ``settings._Located``) whose checked ``sources``
    are given; None when absent."""
    from dashboard.core.settings import _check_options, _number

    if raw is None:
        return None
    if not isinstance(raw, dict):
        doc.fail(("notifications",), "expected a mapping with channels and roster")
    for key in raw:
        if key not in KEYS:
            doc.fail(("notifications", key), f"unknown key; expected one of {', '.join(KEYS)}")
    named = raw.get("channels", {})  # none: the roster says who is on duty, and nothing is sent
    if not isinstance(named, dict):
        doc.fail(("notifications", "channels"), "expected a mapping of channel name to {kind, ...}")
    channels = {}
    for name, spec in named.items():
        where = ("notifications", "channels", name)
        if not isinstance(spec, dict) or spec.get("kind") not in KINDS:
            doc.fail(where + ("kind",), f"expected a channel kind: {', '.join(KINDS)}")
        channels[str(name)] = _check_options(doc, where, spec, model_of(spec["kind"]))
    raw_roster, readers = raw.get("roster"), oncall_readers(sources)
    if isinstance(raw_roster, str):
        chosen = Path(raw_roster)
        path = str(chosen if chosen.is_absolute() else Path(doc.path).parent / chosen)
        roster = RosterFile(path, set(channels), readers, read_roster(path, set(channels), readers))
    else:
        roster = _roster(doc, ("notifications", "roster"), raw_roster, set(channels), readers)
    priorities = raw.get("priorities", [1])
    if not isinstance(priorities, list) or not priorities or any(p not in (1, 2, 3, 4, 5) for p in priorities):
        doc.fail(("notifications", "priorities"), "expected a list of priorities 1 to 5, such as [1]")
    link = raw.get("link_url")
    if link is not None and not str(link).startswith(("http://", "https://")):
        doc.fail(("notifications", "link_url"), "expected the dashboard's http(s) address, for links in messages")
    where = ("notifications", "oncall_interval_s")
    oncall_interval_s = _number(doc, where, raw.get("oncall_interval_s", 60))
    if oncall_interval_s < MIN_ONCALL_INTERVAL_S:
        doc.fail(where, f"must be at least {MIN_ONCALL_INTERVAL_S:g} (seconds between reads of the on-call groups)")
    return NotifySettings(
        channels=channels,
        roster=roster,
        ack_minutes=_number(doc, ("notifications", "ack_minutes"), raw.get("ack_minutes", 5)),
        priorities=tuple(priorities),
        link_url=str(link).rstrip("/") if link else None,
        oncall_interval_s=oncall_interval_s,
    )
