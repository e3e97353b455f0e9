"""The scheduled evaluation of the catalogue's evidence rules, run by the poller after its polls.

At most once per ``maturity.evaluate_every_min`` across all pollers (a lease in the store,
like a source's), the job reads every frame from the store, completes incidents, changes and
chaos runs with history (which outlives the sources' retention), evaluates every automatic
item and appends the results to ``maturity_evidence``. The pre-plan library and the checklist ticks are
frames too (``preplans``, ``preplan_steps``).
"""

from __future__ import annotations

import logging
from datetime import datetime

import pandas as pd

from dashboard.analytics import incidents as incident_stats
from dashboard.command import actions, checklist
from dashboard.command.preplans import Library
from dashboard.core.status import status_frame
from dashboard.core.store import DERIVED_SOURCE
from dashboard.maturity import assessments, evidence
from datasources.base import FRAME_NAMES, empty_frame

log = logging.getLogger("opscenter.maturity")

LEASE = "job:maturity-evidence"
HISTORY_DAYS = 120
HISTORY_KEYS = {"incidents": "incident_id", "changes": "change_id", "chaos_runs": "run_id"}


def _source_status(store) -> pd.DataFrame:
    """The sources' status records as a frame (the store keeps them apart from the frames)."""
    records = [r for r in store.statuses().values() if r.get("kind") != DERIVED_SOURCE]
    return status_frame(records) if records else empty_frame("source_status")


def frames_with_history(store, history, now: pd.Timestamp, preplans: Library | None = None) -> dict[str, pd.DataFrame]:
    """Every frame from the store, source_status from the status records, the pre-plan library; incidents,
    changes and chaos runs completed from history (without the sources' ``x_`` columns, which history does not
    keep); incidents acknowledged in opscenter earlier than in their source count as acknowledged then; the
    checklist ticks."""
    frames = {name: store.frame(name) for name in FRAME_NAMES if name != "source_status"}
    frames["source_status"] = _source_status(store)
    frames["preplans"] = (preplans or Library()).frame()
    if history is None:
        return frames
    since = (now - pd.Timedelta(days=HISTORY_DAYS)).to_pydatetime()
    frames["preplan_steps"] = checklist.since(history.engine, since)
    for name, key in HISTORY_KEYS.items():
        kept = history.read(name, since=since).reindex(columns=frames[name].columns)
        merged = pd.concat([frames[name], kept], ignore_index=True) if len(kept) else frames[name]
        frames[name] = merged.drop_duplicates(["source", key], keep="first").reset_index(drop=True)
    frames["incidents"] = incident_stats.with_acknowledgements(
        frames["incidents"], actions.acknowledgements(history.engine)
    )
    return frames


class EvidenceJob:
    """Evaluate the catalogue into the history database at most every ``every_s`` seconds."""

    def __init__(self, catalogue, store, history, every_s: float, leases, preplans: Library | None = None):
        self.catalogue, self.store, self.history, self.every_s, self.leases = catalogue, store, history, every_s, leases
        self.preplans = preplans

    def __call__(self, now: datetime) -> int:
        """Run when the lease can be claimed; return how many evaluations were stored."""
        if not self.leases.claim(LEASE, self.every_s):
            return 0
        at = pd.Timestamp(now)
        try:
            results = evidence.evaluate_all(
                self.catalogue, frames_with_history(self.store, self.history, at, self.preplans), at
            )
            return assessments.record_evidence(self.history.engine, results, now)
        except Exception as exc:  # evidence is best effort; polling must go on
            log.error("evaluating the maturity evidence failed: %s", exc)
            return 0
