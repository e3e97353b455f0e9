"""Chaos Mesh: experiments (``chaos-mesh.org/v1alpha1`` PodChaos, NetworkChaos, ...), from the
API or exported files.

Options: ``ChaosMeshOptions``.

Chaos Mesh injects faults but holds no hypothesis, so its runs carry no probe ratio and
are never ``deviated``. From ``status.conditions`` (Selected, AllInjected, AllRecovered,
Paused), ``status.experiment.desiredPhase`` and the ``containerRecords`` events:

- nothing selected, or every injection failed: ``not_run``; paused: ``aborted``;
- desired phase Run, not yet all recovered: ``running``;
- desired phase Stop and all recovered: ``passed`` (the fault came and went as planned);
  not all recovered: ``failed`` (the fault is stuck in place), records named in ``x_reason``.

The run starts at the first successful Apply event (else the creation time) and ends at
the last successful Recover. The service comes from the ``services`` mapping (by the
experiment's name or its selector's ``app.kubernetes.io/name`` or ``app`` label), else that
label. The fault is the kind and action, e.g. ``pod-kill``, ``network-delay``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from datasources.base import parser
from datasources.chaos import RejectedFile, fault_weight, target_service, utc
from datasources.chaos.kubernetes import KubeChaosSource, KubeOptions, resource_name
from datasources.registry import register

GROUP, VERSION = "chaos-mesh.org", "v1alpha1"
KINDS = {
    "podchaos": "PodChaos",
    "networkchaos": "NetworkChaos",
    "stresschaos": "StressChaos",
    "iochaos": "IOChaos",
    "timechaos": "TimeChaos",
    "httpchaos": "HTTPChaos",
    "dnschaos": "DNSChaos",
    "kernelchaos": "KernelChaos",
    "jvmchaos": "JVMChaos",
}
SERVICE_LABELS = ("app.kubernetes.io/name", "app")


def fault_name(kind: str, action: str | None) -> str:
    """``PodChaos`` + ``pod-kill`` -> ``pod-kill``; ``NetworkChaos`` + ``delay`` -> ``network-delay``."""
    prefix = kind.removesuffix("Chaos").lower()
    if not action:
        return prefix
    return action if action.startswith(prefix) else f"{prefix}-{action}"


def _events(records: list[dict], operation: str, outcome: str) -> list[tuple]:
    return [
        (utc(e.get("timestamp")), r.get("id"), e.get("message"))
        for r in records
        for e in r.get("events") or []
        if e.get("operation") == operation and e.get("type") == outcome
    ]


def _outcome(conditions: dict[str, dict], desired: str | None, records: list[dict]) -> tuple[str, str | None]:
    failed = _events(records, "Apply", "Failed") + _events(records, "Recover", "Failed")
    failures = "; ".join(f"{op_id} failed: {message}" for _t, op_id, message in failed) or None

    def condition(name: str) -> bool:
        return (conditions.get(name) or {}).get("status") == "True"

    if conditions.get("Selected") and not condition("Selected"):
        return "not_run", (conditions["Selected"].get("reason") or "no target selected")
    if records and not _events(records, "Apply", "Succeeded") and failed:
        return "not_run", f"injection failed: {failures}"
    if condition("Paused"):
        return "aborted", "paused"
    if desired != "Stop" or not records:
        return "running", failures
    if condition("AllRecovered"):
        return "passed", failures
    stuck = ", ".join(r.get("id", "?") for r in records if r.get("phase") != "Not Injected")
    return "failed", f"not recovered: {stuck or 'some targets'}" + (f"; {failures}" if failures else "")


@parser(RejectedFile)
def run_record(chaos: dict, services: dict[str, str], weights: dict[str, float], source: str) -> dict:
    """One chaos_runs record from a Chaos Mesh experiment; RejectedFile when it is not one."""
    meta, spec, status = chaos.get("metadata") or {}, chaos.get("spec") or {}, chaos.get("status") or {}
    kind = chaos.get("kind")
    if not kind or not kind.endswith("Chaos"):
        raise RejectedFile(f"kind {kind!r} is not a Chaos Mesh experiment")
    created = utc(meta.get("creationTimestamp"))
    if created is None:
        raise RejectedFile("no metadata.creationTimestamp")
    experiment = status.get("experiment") or {}
    records = experiment.get("containerRecords") or []
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    contract_status, reason = _outcome(conditions, experiment.get("desiredPhase"), records)
    applied = [t for t, _id, _m in _events(records, "Apply", "Succeeded") if t is not None]
    recovered = [t for t, _id, _m in _events(records, "Recover", "Succeeded") if t is not None]
    labels = (spec.get("selector") or {}).get("labelSelectors") or {}
    fault = fault_name(kind, spec.get("action"))
    label = next((labels[k] for k in SERVICE_LABELS if k in labels), None)
    return {
        "run_id": meta.get("uid") or resource_name(chaos),
        "experiment": meta.get("name") or fault,
        "service": target_service(services, [meta.get("name")], label),
        "fault": fault,
        "started_at": min(applied, default=created),
        "ended_at": max(recovered) if contract_status in ("passed", "failed") and recovered else None,
        "status": contract_status,
        "deviated": False,
        "probe_success_ratio": None,
        "recovery_s": None,
        "source": source,
        "url": None,
        "x_reason": reason,
        "x_native_status": ", ".join(
            [experiment.get("desiredPhase") or "-"] + [f"{name}={c.get('status')}" for name, c in conditions.items()]
        ),
        "x_weight": fault_weight(weights, fault),
    }


class ChaosMeshOptions(KubeOptions):
    """Chaos Mesh: experiments (`chaos-mesh.org/v1alpha1` PodChaos, NetworkChaos, ...), from the API or
    exported files."""

    kinds: list[Literal[tuple(KINDS)]] = Field(
        default_factory=lambda: list(KINDS), description=("Plural resource names of the experiment kinds to list.")
    )


@register
@dataclass
class ChaosMeshSource(KubeChaosSource):
    """Chaos Mesh experiments."""

    kind = "chaosmesh"
    options_model = ChaosMeshOptions

    def __post_init__(self):
        super().__post_init__()
        self.resources = tuple((GROUP, VERSION, plural, KINDS[plural]) for plural in self.config.kinds or KINDS)

    def record(self, resource: dict) -> dict:
        return run_record(resource, self.services, self.weights, self.name)
