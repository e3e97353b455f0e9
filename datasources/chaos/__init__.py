"""What the chaos adapters share: the chaos_runs frame, service mapping, fault weights,
and a directory read incrementally, with every rejected file kept by name and reason.

Options common to every chaos source: ``ChaosOptions``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import Field

from datasources.base import CONTRACTS, Health, Source, SourceError, as_utc, utc_column, validate
from datasources.options import SourceOptions

log = logging.getLogger(__name__)

DEFAULT_WEIGHT = 10.0  # LitmusChaos' default weight of a fault
EXTRA_COLUMNS = ("x_reason", "x_native_status", "x_weight")
COLUMNS = tuple(c.name for c in CONTRACTS["chaos_runs"]) + EXTRA_COLUMNS


class RejectedFile(ValueError):
    """A file (or resource) that cannot be turned into runs; the message is the reason."""


def utc(value: Any) -> pd.Timestamp | None:
    """A tz-aware UTC timestamp from an ISO string (naive means UTC); None stays None."""
    if value in (None, ""):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise RejectedFile(f"{value!r} is not a timestamp") from None
    if pd.isna(stamp):
        return None
    return as_utc(stamp)


def target_service(mapping: dict[str, str], names: Iterable[str | None], found: str | None) -> str | None:
    """The service a run targets: the mapping's entry for any of ``names`` or for ``found``, else ``found``."""
    for key in (*names, found):
        if key is not None and key in mapping:
            return mapping[key]
    return found


def fault_weight(weights: dict[str, float], fault: str | None) -> float:
    """The weight of a fault as configured, else ``DEFAULT_WEIGHT``."""
    return float(weights.get(fault, DEFAULT_WEIGHT)) if fault else DEFAULT_WEIGHT


def runs_frame(records: list[dict]) -> pd.DataFrame:
    """A validated chaos_runs frame (plus the ``x_`` columns) from run records, newest first.

    Records may carry further ``x_`` keys of their own; they become columns too.
    """
    extra = sorted({k for r in records for k in r if k.startswith("x_")} - set(COLUMNS))
    frame = pd.DataFrame.from_records(records, columns=[*COLUMNS, *extra])
    for col in CONTRACTS["chaos_runs"]:
        if col.kind == "ts":
            frame[col.name] = utc_column(frame[col.name])
    frame = frame.astype(
        {"deviated": "bool", "probe_success_ratio": "float64", "recovery_s": "float64", "x_weight": "float64"}
    )
    for name in ("run_id", "experiment", "service", "fault", "status", "source", "url", "x_reason", "x_native_status"):
        frame[name] = frame[name].astype("object").where(frame[name].notna(), None)
    frame = frame.sort_values(["started_at", "run_id"], ascending=[False, True], kind="stable")
    return validate("chaos_runs", frame.reset_index(drop=True))


@dataclass
class _Seen:
    mtime_ns: int
    size: int
    records: list[dict]
    reason: str | None


@dataclass
class IncrementalDirectory:
    """Files of a directory turned into records, re-reading only files that are new or changed.

    A file is known by name, modification time and size. ``parse`` turns one file into
    records or raises RejectedFile; a rejected file is logged once per version and kept
    in ``rejected`` (file name -> reason) until it changes or disappears.
    """

    path: Path
    patterns: tuple[str, ...]
    parse: Callable[[Path], list[dict]]
    _seen: dict[str, _Seen] = field(default_factory=dict)

    def read(self) -> list[dict]:
        if not self.path.is_dir():
            raise SourceError(f"{self.path} is not a directory")
        present = {p.name: p for pattern in self.patterns for p in self.path.glob(pattern) if p.is_file()}
        for name in set(self._seen) - set(present):
            del self._seen[name]
        for name, file in sorted(present.items()):
            stat = file.stat()
            seen = self._seen.get(name)
            if seen and (seen.mtime_ns, seen.size) == (stat.st_mtime_ns, stat.st_size):
                continue
            try:
                self._seen[name] = _Seen(stat.st_mtime_ns, stat.st_size, self.parse(file), None)
            except (RejectedFile, OSError, UnicodeDecodeError) as exc:
                reason = f"{name}: {exc}"
                log.warning("rejected %s", reason)
                self._seen[name] = _Seen(stat.st_mtime_ns, stat.st_size, [], reason)
        return [record for name in sorted(self._seen) for record in self._seen[name].records]

    @property
    def rejected(self) -> dict[str, str]:
        return {name: seen.reason for name, seen in sorted(self._seen.items()) if seen.reason}


class ChaosOptions(SourceOptions):
    """Keys of every chaos source."""

    services: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "A name the tool knows (experiment title, engine, target, label value) -> a service of the estate."
        ),
    )
    weights: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(
        default_factory=dict, description=(f"Fault -> weight 0-10; unlisted faults weigh {DEFAULT_WEIGHT:g}.")
    )


class ChaosSource(Source):
    """Base of the chaos adapters: ``records()`` in, one chaos_runs frame out.

    Subclasses implement ``records()`` and report what they rejected through ``rejected``
    (name -> reason); ``check()`` fails on them, and so does ``opscenter check``.
    """

    polled = ("chaos_runs",)

    @property
    def services(self) -> dict[str, str]:
        return self.config.services

    @property
    def weights(self) -> dict[str, float]:
        return self.config.weights

    @property
    def rejected(self) -> dict[str, str]:
        return {}

    def records(self) -> list[dict]:
        raise NotImplementedError

    def fetch(self, now) -> dict[str, pd.DataFrame]:
        return {"chaos_runs": runs_frame(self.records())}

    def check(self) -> Health:
        """Read the runs once; fail on a source error or on any rejected input."""
        try:
            detail = f"{len(self.records())} run(s)"
        except SourceError as exc:
            return Health(False, str(exc))
        if self.rejected:
            return Health(False, f"{detail}; rejected {len(self.rejected)}: {'; '.join(self.rejected.values())}")
        return Health(True, detail)
