"""opscenter's own source, polled like any other: the incidents declared in it and who commands what.

Its frames come from the history database: ``incidents`` (the declared incidents, source ``opscenter``)
and ``incident_command`` (``oversight.command_frame``). A poll returns them only when they changed, or
every ``REWRITE_S`` so that a store that lost them gets them back; the pages then see them within one
refresh. When the config names an ITSM source to open tickets in (``command.declare_to``), it takes
the write-back of the declared incidents' actions: a ``declare`` opens the ticket (found again by its
marker, its id and declaration time, after a lost answer: never opened twice) and links it; later
actions go to that ticket.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from dashboard.command import declared, oversight
from datasources.base import Source, SourceError

REWRITE_S = 300.0


def ticket_marker(incident_id: str, opened_at) -> str:
    """What names a declared incident's ticket in the ITSM, found before opening it again: its id and when it
    was declared (UTC), so that an ``OC-1`` of a new database never takes the ticket of an older one."""
    return f"[opscenter {incident_id} {pd.Timestamp(opened_at).tz_convert('UTC'):%Y%m%dT%H%MZ}]"


@dataclass
class CommandSource(Source):
    """The declared incidents and the incident command of the history database ``engine``; ``target``: the
    source to open tickets in, or None."""

    kind = "opscenter"
    polled = ("incidents", "incident_command")
    engine: Any = None
    target: Source | None = None
    _written: tuple[int, float] | None = field(default=None, init=False, repr=False)

    @property
    def writes_back(self) -> bool:
        return self.target is not None

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        at = pd.Timestamp(now)
        frames = {
            "incidents": declared.incident_frame(self.engine, at),
            "incident_command": oversight.command_frame(self.engine, at),
        }
        digest = hash(tuple(pd.util.hash_pandas_object(f.astype(str), index=False).sum() for f in frames.values()))
        if self._written and self._written[0] == digest and time.monotonic() - self._written[1] < REWRITE_S:
            return {}
        self._written = (digest, time.monotonic())
        return frames

    def write_back(self, incident_id: str, action_id: int, action: str, actor: str, detail: dict, at: datetime) -> None:
        """Open the ticket of a declared incident, or deliver a later action (taken at ``at``) to it."""
        row = declared.get(self.engine, incident_id)
        if row is None:
            raise ValueError(f"{incident_id} is not a declared incident")
        if action == "declare":
            if row["ticket_id"] is None:
                ticket, url = self.target.open_ticket(ticket_marker(incident_id, row["opened_at"]), row)
                declared.linked(self.engine, incident_id, self.target.name, ticket, url)
            return
        if row["ticket_id"] is None:
            raise SourceError(f"{incident_id}: its ticket in {self.target.name} is not opened yet")
        self.target.write_back(row["ticket_id"], action_id, action, actor, detail, at)
