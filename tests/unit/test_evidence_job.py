"""The scheduled evidence evaluation reads what the rules need from the store."""

import pandas as pd

from dashboard.core.poller import Poller
from dashboard.core.store import open_store
from dashboard.maturity import evidence
from dashboard.maturity import model as catalogue
from dashboard.maturity.evidence_job import frames_with_history
from datasources import registry

NOW = pd.Timestamp("2026-03-02T02:00:00Z")


def test_source_health_evidence_comes_from_the_status_records():
    specs = [
        {"kind": "demo", "name": "metrics", "interval_s": 60, "frames": ["services", "service_metrics"]},
        {"kind": "demo", "name": "itsm", "interval_s": 60, "fail": True},
    ]
    store = open_store(None, "test", [s["name"] for s in specs])
    poller = Poller([registry.build(s) for s in specs], store, clock=lambda: NOW.to_pydatetime())
    for source in poller.sources:
        poller.poll(source)
    frames = frames_with_history(store, None, NOW)
    assert sorted(frames["source_status"]["source"]) == ["itsm", "metrics"]
    item = next(i for i in catalogue.load().items if i.rule.get("kind") == "sources_healthy")
    result = evidence.evaluate(item, frames, NOW)
    assert result.value == 0.5 and result.passed is False
