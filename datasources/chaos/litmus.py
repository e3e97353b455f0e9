"""LitmusChaos: ChaosResult resources (``litmuschaos.io/v1alpha1``), from the API or exported files.

Options: ``LitmusOptions``.

A ChaosResult describes the latest run of one experiment of one engine:
``status.experimentStatus.verdict`` Pass -> ``passed``, Fail -> ``failed`` (deviated),
Stopped and Error -> ``aborted``, Awaited -> ``running``;
``probeSuccessPercentage`` (a string, "Awaited" while running) / 100 is the probe success
ratio; failed ``probeStatuses``, ``failStep`` and ``errorOutput`` make ``x_reason``. The
service is the first of ``status.history.targets``, through the ``services`` mapping (which
may also name the engine, the experiment or the result). ``history`` counts go to
``x_runs_passed``/``x_runs_failed``/``x_runs_stopped``. A ChaosResult has no end time: a
finished run ends at its last status update (``metadata.managedFields``). Litmus measures
no recovery time.
"""

from __future__ import annotations

from dataclasses import dataclass

from datasources.base import parser
from datasources.chaos import RejectedFile, fault_weight, target_service, utc
from datasources.chaos.kubernetes import KubeChaosSource, KubeOptions, resource_name
from datasources.registry import register

VERDICTS = {"Pass": "passed", "Fail": "failed", "Stopped": "aborted", "Error": "aborted", "Awaited": "running"}
NOT_A_STEP = ("", "N/A", "NA")


def probe_ratio(percentage: str | None) -> float | None:
    """``probeSuccessPercentage`` as a ratio; None while awaited or absent."""
    if percentage in (None, "", "Awaited", "N/A", "NA"):
        return None
    try:
        value = float(str(percentage).rstrip("%"))
    except ValueError:
        raise RejectedFile(f"probeSuccessPercentage {percentage!r} is not a number") from None
    if not 0 <= value <= 100:
        raise RejectedFile(f"probeSuccessPercentage {percentage!r} is outside 0-100")
    return value / 100


def _reason(experiment_status: dict, probe_statuses: list[dict]) -> str | None:
    parts = []
    if experiment_status.get("failStep") not in (None, *NOT_A_STEP):
        parts.append(f"failed step: {experiment_status['failStep']}")
    error = experiment_status.get("errorOutput") or {}
    if error.get("reason"):
        code = f" {error['errorCode']}" if error.get("errorCode") else ""
        parts.append(f"error{code}: {error['reason']}")
    for probe in probe_statuses:
        status = probe.get("status") or {}
        if status.get("verdict") == "Failed":
            detail = f": {status['description']}" if status.get("description") else ""
            parts.append(f"probe '{probe.get('name')}' ({probe.get('type')}, {probe.get('mode')}) failed{detail}")
    return "; ".join(parts) or None


def _ended_at(meta: dict, phase: str | None):
    if phase == "Running":
        return None
    times = [utc(f.get("time")) for f in meta.get("managedFields") or [] if f.get("time")]
    return max((t for t in times if t is not None), default=None)


@parser(RejectedFile)
def run_record(result: dict, services: dict[str, str], weights: dict[str, float], source: str) -> dict:
    """One chaos_runs record from a ChaosResult; RejectedFile when it lacks what a result must have."""
    meta, spec, status = result.get("metadata") or {}, result.get("spec") or {}, result.get("status") or {}
    experiment_status = status.get("experimentStatus") or {}
    verdict = experiment_status.get("verdict")
    if verdict not in VERDICTS:
        raise RejectedFile(f"status.experimentStatus.verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    started = utc(meta.get("creationTimestamp"))
    if started is None:
        raise RejectedFile("no metadata.creationTimestamp")
    history = status.get("history") or {}
    targets = [t.get("name") for t in history.get("targets") or [] if t.get("name")]
    fault = spec.get("experiment")
    contract_status = VERDICTS[verdict]
    return {
        "run_id": meta.get("uid") or resource_name(result),
        "experiment": meta.get("name") or fault,
        "service": target_service(
            services, [meta.get("name"), spec.get("engine"), fault], targets[0] if targets else None
        ),
        "fault": fault,
        "started_at": started,
        "ended_at": None if contract_status == "running" else _ended_at(meta, experiment_status.get("phase")),
        "status": contract_status,
        "deviated": verdict == "Fail",
        "probe_success_ratio": probe_ratio(experiment_status.get("probeSuccessPercentage")),
        "recovery_s": None,
        "source": source,
        "url": None,
        "x_reason": _reason(experiment_status, status.get("probeStatuses") or []),
        "x_native_status": f"{experiment_status.get('phase', '')}/{verdict}",
        "x_weight": fault_weight(weights, fault),
        **{f"x_runs_{k}": int(history.get(f"{k}Runs", 0)) for k in ("passed", "failed", "stopped")},
    }


class LitmusOptions(KubeOptions):
    """LitmusChaos: ChaosResult resources (`litmuschaos.io/v1alpha1`), from the API or exported files."""


@register
@dataclass
class LitmusSource(KubeChaosSource):
    """LitmusChaos ChaosResults."""

    kind = "litmus"
    options_model = LitmusOptions
    resources = (("litmuschaos.io", "v1alpha1", "chaosresults", "ChaosResult"),)

    def record(self, resource: dict) -> dict:
        return run_record(resource, self.services, self.weights, self.name)
