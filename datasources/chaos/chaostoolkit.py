"""Chaos Toolkit: the journals ``chaos run --journal-path`` writes, read from a directory.

Options: ``ChaostoolkitOptions``.

Chaos Toolkit's own semantics are kept:

- ``completed`` and not deviated: the hypothesis held, ``passed``;
- ``deviated: true`` (whatever the status): the hypothesis failed, ``failed``;
- the steady state not met before the method (``steady_states.after`` null, nothing
  run) is ``not_run``, even though Chaos Toolkit calls that run ``completed``;
- ``failed`` (an activity raised) is ``failed``; ``aborted`` and ``interrupted`` are
  ``aborted``.

``x_reason`` says which probe or activity failed and how; ``x_native_status`` keeps the
journal's status. The service comes from the ``services`` mapping (by experiment title,
tag or extension value), else an extension ``{"name": "opscenter", "service": ...}``,
else a tag ``service:<name>`` (or ``service=<name>``). The fault likewise from an
extension or a ``fault:<name>`` tag, else the method's first action. An experiment that drills an
emergency pre-plan names it in a ``preplan:<id>`` tag or the extension's ``preplan`` (``x_preplan``). ``recovery_s`` is
the time from the end of the method to the end of the steady-state check that found the
hypothesis met again (null when it was not). The run id is the journal's file name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from datasources.base import parser
from datasources.chaos import (
    ChaosOptions,
    ChaosSource,
    IncrementalDirectory,
    RejectedFile,
    fault_weight,
    target_service,
    utc,
)
from datasources.registry import register

EXTENSION_NAME = "opscenter"
LABELS = ("service", "fault", "preplan")
NATIVE_TO_CONTRACT = {"completed": "passed", "failed": "failed", "aborted": "aborted", "interrupted": "aborted"}


def _labels(experiment: dict) -> dict[str, str]:
    """``service``, ``fault`` and ``preplan`` from the experiment's tags, overridden by its extension."""
    labels = {}
    for tag in experiment.get("tags") or []:
        key, sep, value = str(tag).replace("=", ":", 1).partition(":")
        if sep and key in LABELS and value:
            labels[key] = value
    for ext in experiment.get("extensions") or []:
        if isinstance(ext, dict) and ext.get("name") == EXTENSION_NAME:
            labels.update({k: str(ext[k]) for k in LABELS if ext.get(k)})
    return labels


def _probes(journal: dict) -> list[dict]:
    """Every probe result of the run: steady-state checks before, during, after, and the method's."""
    states = journal.get("steady_states") or {}
    checks = [states.get("before"), *(states.get("during") or []), states.get("after")]
    found = [p for check in checks if check for p in check.get("probes") or []]
    return found + [r for r in journal.get("run") or [] if (r.get("activity") or {}).get("type") == "probe"]


def _succeeded(result: dict) -> bool:
    return result.get("status") == "succeeded" and result.get("tolerance_met") is not False


def _failure(result: dict) -> str:
    """How one activity failed: its exception's last line, or its tolerance."""
    activity = result.get("activity") or {}
    what = f"{activity.get('type', 'activity')} '{activity.get('name', '?')}'"
    exception = result.get("exception")
    if exception:
        last = (exception[-1] if isinstance(exception, list) else str(exception)).strip()
        return f"{what} raised {last.removeprefix('chaoslib.exceptions.')}"
    return f"{what} not within tolerance" if result.get("status") == "succeeded" else f"{what} {result.get('status')}"


def _failures(results: list[dict]) -> str:
    return "; ".join(_failure(r) for r in results if not _succeeded(r))


def _recovery_s(journal: dict) -> float | None:
    after = (journal.get("steady_states") or {}).get("after")
    run = journal.get("run") or []
    if not (after and after.get("steady_state_met") and run and after.get("probes")):
        return None
    method_end, checked = utc(run[-1].get("end")), utc(after["probes"][-1].get("end"))
    return None if method_end is None or checked is None else max((checked - method_end).total_seconds(), 0.0)


def _outcome(journal: dict) -> tuple[str, str | None]:
    """The contract status and the reason for it."""
    native = journal["status"]
    states = journal.get("steady_states") or {}
    before, after = states.get("before"), states.get("after")
    method = journal.get("run") or []
    if native in ("aborted", "interrupted"):
        detail = _failures(method + ((after or {}).get("probes") or []))
        return "aborted", f"run {native}" + (f": {detail}" if detail else "")
    if before and not before.get("steady_state_met") and after is None and not method:
        return "not_run", f"steady state not met before the method: {_failures(before.get('probes') or [])}"
    if journal.get("deviated"):
        checks = [*(states.get("during") or []), after or {}]
        detail = _failures([p for c in checks for p in c.get("probes") or []])
        return "failed", f"steady state deviated: {detail}" if detail else "steady state deviated"
    detail = _failures(method)
    if native == "failed":
        return "failed", f"run failed: {detail}" if detail else "run failed"
    return "passed", f"the hypothesis held; {detail}" if detail else None


@parser(RejectedFile)
def run_record(journal: dict, run_id: str, services: dict[str, str], weights: dict[str, float], source: str) -> dict:
    """One chaos_runs record from a parsed journal; RejectedFile when it is not a journal."""
    if not isinstance(journal, dict):
        raise RejectedFile("not a Chaos Toolkit journal (expected a JSON object)")
    missing = [k for k in ("experiment", "status", "start") if k not in journal]
    if missing:
        raise RejectedFile(f"not a Chaos Toolkit journal: no {', '.join(repr(k) for k in missing)}")
    if journal["status"] not in NATIVE_TO_CONTRACT:
        raise RejectedFile(f"unknown journal status {journal['status']!r}")
    experiment = journal["experiment"] or {}
    labels = _labels(experiment)
    title = experiment.get("title") or run_id
    actions = [a.get("name") for a in experiment.get("method") or [] if a.get("type") == "action"]
    fault = labels.get("fault") or (actions[0] if actions else None)
    status, reason = _outcome(journal)
    probes = _probes(journal)
    return {
        "run_id": run_id,
        "experiment": title,
        "service": target_service(services, [title], labels.get("service")),
        "fault": fault,
        "started_at": utc(journal["start"]),
        "ended_at": utc(journal.get("end")),
        "status": status,
        "deviated": bool(journal.get("deviated")),
        "probe_success_ratio": (sum(map(_succeeded, probes)) / len(probes) if probes and status != "not_run" else None),
        "recovery_s": _recovery_s(journal),
        "source": source,
        "url": None,
        "x_reason": reason,
        "x_native_status": journal["status"],
        "x_weight": fault_weight(weights, fault),
        "x_preplan": labels.get("preplan"),
    }


def read_journal(path: Path) -> dict:
    """The parsed journal at ``path``; RejectedFile naming what is wrong when it is not JSON."""
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise RejectedFile("empty file")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        kind = "malformed" if text.rstrip().endswith("}") else "truncated"
        raise RejectedFile(f"{kind} JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


class ChaostoolkitOptions(ChaosOptions):
    """Chaos Toolkit: the journals `chaos run --journal-path` writes, read from a directory."""

    path: str = Field(description="The directory of journals; new and changed ones are read.")
    pattern: str = Field("*.json", description="Glob of the journals in the directory.")


@register
@dataclass
class ChaosToolkitSource(ChaosSource):
    """Journals of ``chaos run`` in a directory."""

    kind = "chaostoolkit"
    options_model = ChaostoolkitOptions

    def __post_init__(self):
        super().__post_init__()
        self._journals = IncrementalDirectory(Path(self.config.path).expanduser(), (self.config.pattern,), self._parse)

    def _parse(self, path: Path) -> list[dict]:
        return [run_record(read_journal(path), path.stem, self.services, self.weights, self.name)]

    @property
    def rejected(self) -> dict[str, str]:
        return self._journals.rejected

    def records(self) -> list[dict]:
        return self._journals.read()
