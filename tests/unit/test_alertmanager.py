"""Alertmanager parsing on a canned /api/v2/alerts answer: states, severities, links."""

import pandas as pd
import pytest

from datasources.base import SourceError
from datasources.monitoring.alertmanager import alerts_frame, severity

NOW = pd.Timestamp("2025-11-21 05:00", tz="UTC")


def alert(name, state="active", silenced=(), inhibited=(), ends="2025-11-21T05:05:00Z", **labels):
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} summary"},
        "startsAt": "2025-11-21T04:50:00.123Z",
        "endsAt": ends,
        "fingerprint": f"fp-{name}",
        "generatorURL": "",
        "status": {"state": state, "silencedBy": list(silenced), "inhibitedBy": list(inhibited)},
        "receivers": [{"name": "null"}],
        "updatedAt": "2025-11-21T04:50:00Z",
    }


def test_states_and_severities():
    payload = [
        alert("Firing", severity="critical", service="ledger"),
        alert("Silenced", "suppressed", silenced=["s1"], severity="warning"),
        alert("Inhibited", "suppressed", inhibited=["fp-x"], severity="page"),
        alert("Unprocessed", "unprocessed"),
        alert("Over", ends="2025-11-21T04:55:00Z", severity="info"),
    ]
    frame = alerts_frame(payload, "am", "http://am:9093", NOW).set_index("name")
    assert frame["state"].to_dict() == {
        "Firing": "firing",
        "Silenced": "silenced",
        "Inhibited": "inhibited",
        "Unprocessed": "pending",
        "Over": "resolved",
    }
    assert frame["severity"].to_dict() == {
        "Firing": "critical",
        "Silenced": "warning",
        "Inhibited": "critical",
        "Unprocessed": "info",
        "Over": "info",
    }
    assert frame.loc["Firing", "service"] == "ledger" and pd.isna(frame.loc["Silenced", "service"])
    assert pd.isna(frame.loc["Firing", "ends_at"]) and frame.loc["Over", "ends_at"] == pd.Timestamp(
        "2025-11-21 04:55", tz="UTC"
    )
    assert frame.loc["Firing", "url"] == "http://am:9093/#/alerts?filter=%7Balertname%3D%22Firing%22%7D"
    assert frame.loc["Firing", "alert_id"] == "fp-Firing" and frame.loc["Firing", "summary"] == "Firing summary"


def test_severity_names():
    assert [severity(v) for v in ("CRITICAL", "warn", None, "debug")] == ["critical", "warning", "info", "info"]


def test_not_a_list():
    with pytest.raises(SourceError, match="expected a JSON list"):
        alerts_frame({"error": "x"}, "am", "http://am", NOW)
