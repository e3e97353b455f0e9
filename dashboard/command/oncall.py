"""The ITSM on-call groups the duty roster names, read by the poller like a source of its own.

Each poll reads every group the roster names now (``Roster.oncall_groups``, so a roster file edited to name
another group counts from the next poll) through its ITSM source's ``on_call``, on that source's transport:
its deadlines, size limits and credentials, which never leave the source's host. The answer is the
``on_call`` frame under the reserved source ``oncall``: a row for each person on call, and one without a
person for a group read with nobody on call, so every group the read covered has a row. A read that fails for
any group fails the poll, so the store keeps the last good frame and the status record says it is stale. The
web side and the escalation turn the frame and the status record into the same answer
(``roster.on_call_answer``), where a group outside the last good read is unread; no web request
ever asks an ITSM.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from dashboard.command.roster import Roster
from datasources.base import Source, SourceError, empty_frame, validate


@dataclass
class OnCallSource(Source):
    """The on-call groups of ``roster()`` read through ``readers``, the sources (by name) that read them."""

    kind = "oncall"
    polled = ("on_call",)
    roster: Callable[[], Roster] | None = None
    readers: dict[str, Source] = field(default_factory=dict)

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        rows, failed = [], []
        for oncall in self.roster().oncall_groups():
            reader = self.readers.get(oncall.source)
            try:
                if reader is None:
                    raise SourceError(f"no source {oncall.source!r} that reads on-call groups")
                people = reader.on_call(oncall.group)
            except SourceError as exc:
                failed.append(f"group {oncall.group!r} of {oncall.source}: {exc}")
                continue
            group = {"source": oncall.source, "group": oncall.group}
            rows += [{**group, **person} for person in people] or [{**group, "person": None, "name": None}]
        if failed:
            raise SourceError(f"{self.name}: on-call read failed, the last good answer stays: {'; '.join(failed)}")
        frame = pd.DataFrame(rows, columns=empty_frame("on_call").columns, dtype=object)
        return {"on_call": validate("on_call", frame.where(frame.notna(), None))}
