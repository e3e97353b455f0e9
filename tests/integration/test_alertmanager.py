"""A real Alertmanager: posted alerts appear, a silence marks them, an inhibition too, a resolved one goes."""

from datetime import UTC, datetime, timedelta

import pytest

from datasources.monitoring.alertmanager import AlertmanagerSource
from datasources.transport import HttpClient
from tests.servers import alertmanager, wait_until


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def am(tmp_path):
    with alertmanager(tmp_path) as url:
        yield url


def test_alerts_silences_inhibitions_and_resolution(am):
    now = datetime.now(UTC)
    client = HttpClient("test", am)
    source = AlertmanagerSource(name="alertmanager", options={"url": am})

    def post(name, ends=None, **labels):
        client.post(
            "/api/v2/alerts",
            [
                {
                    "labels": {"alertname": name, **labels},
                    "annotations": {"summary": f"{name} on {labels.get('service')}"},
                    "startsAt": iso(now - timedelta(minutes=5)),
                    **({"endsAt": iso(ends)} if ends else {}),
                }
            ],
        )

    def states():
        frame = source.fetch(datetime.now(UTC))["alerts"]
        return dict(zip(frame["name"], frame["state"]))

    post("HighLatency", service="pretrade-risk", severity="critical")
    post("DiskSpaceLow", service="audit-log", severity="warning")
    post("ServiceDown", service="ledger", severity="critical")
    post("LedgerLag", service="ledger", severity="warning")
    wait_until(lambda: len(states()) == 4, 10, "four alerts")
    assert states() == {
        "HighLatency": "firing",
        "DiskSpaceLow": "firing",
        "ServiceDown": "firing",
        "LedgerLag": "inhibited",
    }

    client.post(
        "/api/v2/silences",
        {
            "matchers": [{"name": "alertname", "value": "DiskSpaceLow", "isRegex": False, "isEqual": True}],
            "startsAt": iso(now),
            "endsAt": iso(now + timedelta(hours=1)),
            "createdBy": "test",
            "comment": "disk swap",
        },
    )
    wait_until(lambda: states().get("DiskSpaceLow") == "silenced", 10, "the silence")

    post(
        "HighLatency",
        ends=datetime.now(UTC) - timedelta(seconds=1),
        service="pretrade-risk",
        severity="critical",
    )
    wait_until(lambda: "HighLatency" not in states(), 10, "the resolved alert gone")
    frame = source.fetch(datetime.now(UTC))["alerts"]
    assert set(frame["name"]) == {"DiskSpaceLow", "ServiceDown", "LedgerLag"}
    assert set(frame["source"]) == {"alertmanager"} and frame["summary"].notna().all()
    assert source.check().ok and "Alertmanager" in source.check().detail
