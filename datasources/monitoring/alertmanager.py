"""Alertmanager: ``/api/v2/alerts`` into the alerts frame, silenced and inhibited alerts marked as such.

Options: ``AlertmanagerOptions``. Severities map to critical, warning or info.
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any
from urllib.parse import quote

import pandas as pd
from pydantic import Field

from datasources.base import CONTRACTS, Health, Source, SourceError, empty_frame, parser, utc_column, validate
from datasources.options import HttpOptions
from datasources.registry import register
from datasources.transport import HttpClient

SEVERITIES = {
    "critical": "critical",
    "crit": "critical",
    "page": "critical",
    "emergency": "critical",
    "high": "critical",
    "error": "critical",
    "p1": "critical",
    "warning": "warning",
    "warn": "warning",
    "medium": "warning",
    "major": "warning",
    "p2": "warning",
}


def severity(value: Any) -> str:
    """critical, warning or info from a severity label's value."""
    return SEVERITIES.get(str(value or "").strip().lower(), "info")


def state(alert: dict, now: pd.Timestamp) -> str:
    """firing, pending, resolved, silenced or inhibited from an alert's status and end time."""
    status = alert.get("status") or {}
    ends = _time(alert.get("endsAt"))
    if ends is not None and ends <= now:
        return "resolved"
    if status.get("silencedBy"):
        return "silenced"
    if status.get("inhibitedBy"):
        return "inhibited"
    return "pending" if status.get("state") == "unprocessed" else "firing"


def _time(value: Any) -> pd.Timestamp | None:
    if not value or str(value).startswith("0001-"):
        return None
    try:
        return pd.Timestamp(value).tz_convert("UTC")
    except (ValueError, TypeError):
        return None


@parser()
def alerts_frame(
    payload: Any,
    source: str,
    base_url: str,
    now: pd.Timestamp,
    service_label: str = "service",
    severity_label: str = "severity",
) -> pd.DataFrame:
    """The alerts frame from a ``GET /api/v2/alerts`` answer."""
    if not isinstance(payload, list):
        raise SourceError(f"expected a JSON list of alerts, got {type(payload).__name__}")
    records = []
    for alert in payload:
        labels, notes = alert.get("labels") or {}, alert.get("annotations") or {}
        starts = _time(alert.get("startsAt"))
        if not isinstance(labels, dict) or "alertname" not in labels or starts is None:
            continue
        current = state(alert, now)
        name = labels["alertname"]
        records.append(
            {
                "alert_id": alert.get("fingerprint") or f"{name}:{sorted(labels.items())}",
                "name": name,
                "service": labels.get(service_label) or None,
                "severity": severity(labels.get(severity_label)),
                "state": current,
                "starts_at": starts,
                "ends_at": _time(alert.get("endsAt")) if current == "resolved" else None,
                "summary": notes.get("summary") or notes.get("description") or None,
                "runbook_url": notes.get("runbook_url") or notes.get("runbook") or None,
                "source": source,
                "url": alert.get("generatorURL") or f"{base_url}/#/alerts?filter=" + quote(f'{{alertname="{name}"}}'),
            }
        )
    if not records:
        return empty_frame("alerts")
    frame = pd.DataFrame(records, columns=[c.name for c in CONTRACTS["alerts"]])
    for column in ("starts_at", "ends_at"):
        frame[column] = utc_column(frame[column])
    return validate("alerts", frame.sort_values(["starts_at", "alert_id"]).reset_index(drop=True))


class AlertmanagerOptions(HttpOptions):
    """Alertmanager's v2 API: active, silenced and inhibited alerts."""

    service_label: str = Field("service", description="Alert label naming the service.")
    severity_label: str = Field(
        "severity", description="Alert label holding the severity (`critical`, `page`, `warn`, ... are understood)."
    )


@register
class AlertmanagerSource(Source):
    """Alerts from Alertmanager's v2 API, with silences and inhibitions."""

    kind = "alertmanager"
    options_model = AlertmanagerOptions
    polled = ("alerts",)

    @cached_property
    def client(self) -> HttpClient:
        return HttpClient.from_options(self.name, self.config.transport())

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        payload = self.client.get("/api/v2/alerts", {"active": "true", "silenced": "true", "inhibited": "true"})
        try:
            frame = alerts_frame(
                payload,
                self.name,
                self.client.base_url,
                pd.Timestamp(now).tz_convert("UTC"),
                self.config.service_label,
                self.config.severity_label,
            )
        except SourceError as exc:
            raise SourceError(f"{self.name}: {self.client.base_url}/api/v2/alerts: {exc}") from None
        return {"alerts": frame}

    def check(self) -> Health:
        try:
            status = self.client.get("/api/v2/status")
        except SourceError as exc:
            return Health(False, str(exc))
        version = ((status or {}).get("versionInfo") or {}).get("version", "?")
        return Health(True, f"Alertmanager {version} at {self.client.base_url}")
