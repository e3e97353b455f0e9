"""The ITSM write-back, run by the poller after its polls: deliver the pending incident actions.

One runner at a time across pollers (the lease ``job:incident-writeback``, released when a run ends, so
the job runs after every poll). Each pending action of a
configured source whose kind writes back (``writes_back``) is delivered oldest first with the source's
``write_back``; on success it is marked delivered, on failure it stays pending with the error and a
next attempt after a back-off doubling from ``FIRST_RETRY_S`` up to ``MAX_RETRY_S``; later actions of
the same incident wait behind it, so the ITSM sees them in order. An action on a source that takes no
write-back is marked local. Deliveries are idempotent on the source's side (the action's marker), so
an action delivered but not marked (the database away at that moment) is only delivered again, never
posted twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from dashboard.command import actions
from dashboard.core.leases import MIN_LEASE_S
from datasources.base import SourceError

log = logging.getLogger("opscenter.writeback")

LEASE = "job:incident-writeback"
LEASE_S = 60.0  # the longest one run may hold the lease; it is released when the run ends
FIRST_RETRY_S = 10.0
MAX_RETRY_S = 600.0


def retry_after_s(attempts: int) -> float:
    """The wait before the next attempt after ``attempts`` failed ones."""
    return min(FIRST_RETRY_S * 2 ** max(attempts - 1, 0), MAX_RETRY_S)


class WritebackJob:
    """Deliver the incident actions queued for ``sources`` in the history database ``engine``."""

    def __init__(self, sources, engine, leases):
        self.sources = {source.name: source for source in sources}
        self.engine, self.leases = engine, leases

    def __call__(self, now: datetime) -> int:
        """Deliver what is due when the lease can be claimed; return how many actions were delivered."""
        if not self.leases.claim(LEASE, LEASE_S):
            return 0
        delivered, held = 0, set()
        try:
            for row in actions.due(self.engine, now, list(self.sources)):
                source, incident = self.sources[row["source"]], (row["source"], row["incident_id"])
                if not getattr(source, "writes_back", False):
                    actions.local(self.engine, row["id"])
                    continue
                if incident in held:  # an earlier action of this incident failed: keep the order
                    continue
                try:
                    source.write_back(
                        row["incident_id"], row["id"], row["action"], row["actor"], row["detail"], row["at"]
                    )
                except (SourceError, ValueError) as exc:
                    held.add(incident)
                    wait = timedelta(seconds=retry_after_s(row["attempts"] + 1))
                    actions.failed(self.engine, row["id"], str(exc), now + wait)
                    log.warning("write-back of incident action %s to %s failed: %s", row["id"], row["source"], exc)
                    continue
                actions.delivered(self.engine, row["id"], now)
                delivered += 1
        except Exception as exc:  # the write-back is retried next time; polling must go on
            log.error("incident write-back failed: %s", exc)
        finally:
            self.leases.hold(LEASE, MIN_LEASE_S, 0)
        return delivered
