"""Log files on disk: JSON lines, or plain text parsed by a configured regular expression.

Options: ``LogFilesOptions``.

The file is read incrementally: each poll reads from where the previous one stopped, up to the
last complete line. Rotation is found by inode and size: a new inode means the file was moved
away (the rest of the old file is read first, found by its inode in the same directory), a
smaller size means it was truncated in place (read again from the start). Lines that do not
parse are counted and skipped. Timestamps without a zone are UTC.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import AfterValidator, Field, field_validator

from datasources.base import Health, Source, SourceError, as_utc
from datasources.logs import LogOptions, level_of, rates_frame, trace_in, trace_then_window
from datasources.options import Regex
from datasources.registry import register

log = logging.getLogger(__name__)
COLUMNS = ("ts", "level", "message", "service", "instance", "trace_id")


def parse_json_line(text: str, fields: dict[str, str]) -> dict | None:
    """A raw record from one JSON line (None when it is not a JSON object with a time)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    record = {column: data.get(fields.get(column, column)) for column in COLUMNS}
    return record if record["ts"] is not None else None


def parse_text_line(text: str, pattern: re.Pattern) -> dict | None:
    """A raw record from one text line matched by ``pattern`` (None when it does not match)."""
    found = pattern.search(text)
    if not found:
        return None
    groups = found.groupdict()
    return {column: groups.get(column) for column in COLUMNS}


def _nanos(value: Any) -> int | None:
    try:
        stamp = pd.Timestamp(value, unit="s") if isinstance(value, (int, float)) else pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if pd.isna(stamp):
        return None
    return as_utc(stamp).value


@dataclass
class FilePosition:
    """Where reading stopped: the file's inode and the offset after the last complete line."""

    inode: int = -1
    offset: int = 0


def _line_pattern(pattern: str | None) -> str | None:
    if pattern is not None and not {"ts", "message"} <= set(re.compile(pattern).groupindex):
        raise ValueError("needs named groups ts and message, e.g. (?P<ts>\\S+) (?P<message>.*)")
    return pattern


class LogFilesOptions(LogOptions):
    """One log file on disk, read incrementally: JSON lines, or text parsed by a regular expression."""

    path: str = Field(description="The log file.")
    pattern: Annotated[Regex | None, AfterValidator(_line_pattern)] = Field(
        None,
        description=(
            "For text: a regular expression with named groups `ts` and `message`, optionally `level`, `service`, "
            "`instance`, `trace_id`."
        ),
    )
    format: Literal["json", "text"] = Field("json", description="`json` (one object a line) or `text` (`pattern`).")
    fields: dict[Literal[COLUMNS], str] = Field(
        default_factory=dict,
        description=(
            'For JSON: contract column -> key, e.g. `{ts: "@timestamp", level: severity}` (default: the column names).'
        ),
    )
    service: str | None = Field(None, description="Service of lines that name none.")
    instance: str | None = Field(None, description="Instance of lines that name none.")
    keep_lines: int = Field(20000, ge=1, description="Recent lines kept for on-demand reads.")

    @field_validator("format")
    @classmethod
    def _text_needs_pattern(cls, fmt: str, info) -> str:
        if fmt == "text" and "pattern" in info.data and info.data["pattern"] is None:
            raise ValueError("format text needs a 'pattern'")
        return fmt


@register
@dataclass
class LogFilesSource(Source):
    """One log file read incrementally into log_rates; its recent lines answer ``log_lines``."""

    kind = "log_files"
    options_model = LogFilesOptions
    polled = ("log_rates",)
    position: FilePosition = field(default_factory=FilePosition)
    counts: Counter = field(default_factory=Counter)
    lines: deque = field(default_factory=lambda: deque(maxlen=20000))
    rejected: int = 0

    def __post_init__(self):
        super().__post_init__()
        cfg = self.config
        self.pattern = re.compile(cfg.pattern) if cfg.format == "text" else None
        self.window = pd.Timedelta(minutes=cfg.window_m)
        self.lines = deque(maxlen=cfg.keep_lines)

    # ---------------------------------------------------------------- reading

    def _read_from(self, path: str, offset: int) -> int:
        """Parse complete lines of ``path`` from ``offset``; return the offset after the last one."""
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
        complete = data[: data.rfind(b"\n") + 1]
        for raw in complete.splitlines():
            self._take(raw.decode("utf-8", errors="replace"))
        return offset + len(complete)

    def _rotated_away(self, directory: str, inode: int) -> str | None:
        """The file in ``directory`` that now has ``inode`` (the rotated-away file), if any."""
        with os.scandir(directory) as entries:
            return next((e.path for e in entries if e.is_file() and e.inode() == inode), None)

    def read_new(self) -> None:
        """Read what was appended since the last call, following a rotation."""
        path = self.config.path
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            raise SourceError(f"{self.name}: {path} does not exist") from None
        except OSError as exc:
            raise SourceError(f"{self.name}: cannot read {path}: {exc.strerror}") from None
        position = self.position
        if position.inode not in (-1, stat.st_ino):
            old = self._rotated_away(os.path.dirname(os.path.abspath(path)), position.inode)
            if old:
                self._read_from(old, position.offset)
            position.offset = 0
        elif stat.st_size < position.offset:
            position.offset = 0
        position.inode = stat.st_ino
        position.offset = self._read_from(path, position.offset)

    def _take(self, text: str) -> None:
        raw = parse_text_line(text, self.pattern) if self.pattern else parse_json_line(text, self.config.fields)
        ts = _nanos(raw["ts"]) if raw else None
        if ts is None:
            self.rejected += 1
            return
        level = level_of(raw["level"])
        service = str(raw["service"] or self.config.service or "unknown")
        message = str(raw["message"] or "")
        self.counts[(ts // 60_000_000_000 * 60_000_000_000, service, level)] += 1
        self.lines.append(
            {
                "ts": ts,
                "service": service,
                "instance": raw["instance"] or self.config.instance,
                "level": level,
                "message": message,
                "trace_id": str(raw["trace_id"]).lower() if raw["trace_id"] else trace_in(message),
            }
        )

    # ---------------------------------------------------------------- the contract

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        self.read_new()
        cutoff = (pd.Timestamp(now) - self.window).value
        for key in [k for k in self.counts if k[0] < cutoff]:
            del self.counts[key]
        return {"log_rates": rates_frame([(*key, n) for key, n in self.counts.items()])}

    def log_lines(
        self,
        services: tuple[str, ...],
        start: datetime,
        end: datetime,
        limit: int,
        instances: tuple[str, ...] = (),
        trace_id: str | None = None,
    ) -> pd.DataFrame:
        low, high = pd.Timestamp(start).value, pd.Timestamp(end).value
        found = [
            r
            for r in self.lines
            if low <= r["ts"] <= high
            and r["service"] in services
            and (not instances or r["instance"] is None or r["instance"] in instances)
        ]
        return trace_then_window(
            lambda tid: [r for r in found if r["trace_id"] == tid] if tid else found, trace_id, limit
        )

    def check(self) -> Health:
        path = self.config.path
        if not os.access(path, os.R_OK):
            return Health(False, f"{self.name}: cannot read {path}")
        return Health(True, f"{path} readable")
