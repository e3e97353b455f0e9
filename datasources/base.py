"""The Source protocol and the frame contracts every adapter honours.

A source returns ``dict[frame_name, DataFrame]``; each frame has exactly the
columns of its contract below (extra columns allowed when prefixed ``x_``).
Timestamps are tz-aware UTC. ``validate`` is the one gate the poller uses.
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import pandas as pd

DEFAULT_TIMEOUT_S = 10.0  # a source's ``timeout_s``: one answer, start to end
DEFAULT_MAX_ROWS = 2_000_000  # a source's ``max_rows``: rows per frame (the 1,000-service demo: 1.1 million at most)
POLLER_KEYS = ("poll_timeout_s", "max_rows")  # source keys the poller applies, not the adapter


class SourceError(Exception):
    """A source could not be read or its payload could not be parsed."""


class OptionsError(SourceError, ValueError):
    """A source's options do not fit its kind's ``options_model``; the message names the key."""


class ContractError(ValueError):
    """A frame breaks its contract; the message names the frame and the column."""

    def __init__(self, frame: str, column: str | None, problem: str):
        self.frame, self.column, self.problem = frame, column, problem
        where = f"{frame}.{column}" if column else frame
        super().__init__(f"frame {where}: {problem}")


def parser(error: type[Exception] = SourceError) -> Callable:
    """Mark a payload parser: a payload of the wrong shape (a list where an object was expected,
    a string where a number was) raises ``error`` naming the parser, never a bare TypeError."""

    def wrap(func: Callable) -> Callable:
        @functools.wraps(func)
        def parse(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except (SourceError, ContractError, error):
                raise
            except (AttributeError, TypeError, KeyError, IndexError, ValueError, OverflowError) as exc:
                raise error(f"malformed payload ({func.__name__}): {type(exc).__name__}: {exc}") from exc

        return parse

    return wrap


@dataclass(frozen=True)
class Column:
    """One column of a frame contract."""

    name: str
    kind: str  # str | int | float | bool | ts
    nullable: bool = False
    allowed: frozenset | None = None
    bounds: tuple[float, float] | None = None


def _c(name, kind, nullable=False, allowed=None, bounds=None) -> Column:
    return Column(name, kind, nullable, frozenset(allowed) if allowed else None, bounds)


INCIDENT_STATES = ("new", "in_progress", "on_hold", "resolved", "closed", "cancelled")
CHANGE_TYPES = ("normal", "standard", "emergency")
CHANGE_STATES = ("new", "assess", "authorize", "scheduled", "implement", "review", "closed", "cancelled")
CHANGE_OUTCOMES = ("success", "failed", "rolled_back", "unknown")
CHAOS_STATUSES = ("passed", "failed", "aborted", "running", "not_run")
ALERT_STATES = ("firing", "pending", "resolved", "silenced", "inhibited")
SEVERITIES = ("critical", "warning", "info")
LOG_LEVELS = ("error", "warning", "info", "debug")
REQUEST_STATES = ("open", "fulfilled", "cancelled")
HEALTH_STATUSES = ("ok", "warn", "crit", "nodata")
FEED_MARKETS = ("SSE", "SZSE", "HKEX", "futures", "indices")
FEED_STATES = ("ok", "late", "closed", "nodata")
BUSINESS_METRICS = (  # the business figures a chain reports (``business_metrics``)
    "order_success_ratio",
    "orders_per_s",
    "order_rejects_per_s",
    "counter_latency_p99_ms",
    "transfer_success_ratio",
    "transfers_per_s",
)
BUSINESS_DIMENSIONS = ("counter", "channel", "market", "reason")  # a row with none of them is the chain's total

CONTRACTS: dict[str, tuple[Column, ...]] = {
    "services": (
        _c("service", "str"),
        _c("display_name", "str"),
        _c("tier", "int", bounds=(1, 3)),
        _c("owner", "str", True),
        _c("runbook_url", "str", True),
    ),
    "chains": (
        _c("chain", "str"),
        _c("chain_name", "str"),
        _c("step", "int", bounds=(1, 1000)),
        _c("service", "str"),
    ),
    "edges": (_c("caller", "str"), _c("callee", "str"), _c("calls_per_s", "float", bounds=(0, float("inf")))),
    "service_metrics": (
        _c("ts", "ts"),
        _c("service", "str"),
        _c("requests_per_s", "float", bounds=(0, float("inf"))),
        _c("error_ratio", "float", True, bounds=(0, 1)),
        _c("latency_p50_ms", "float", True),
        _c("latency_p95_ms", "float", True),
        _c("latency_p99_ms", "float", True),
    ),
    "resource_metrics": (
        _c("ts", "ts"),
        _c("service", "str"),
        _c("instance", "str"),
        _c("cpu_ratio", "float", True, bounds=(0, 1)),
        _c("memory_bytes", "float", True),
        _c("memory_ratio", "float", True, bounds=(0, 1)),
        _c("net_rx_bps", "float", True),
        _c("net_tx_bps", "float", True),
    ),
    "calls": (
        _c("trace_id", "str"),
        _c("service", "str"),
        _c("operation", "str"),
        _c("start", "ts"),
        _c("duration_ms", "float", bounds=(0, float("inf"))),
        _c("status", "str", allowed=("ok", "error")),
        _c("instance", "str", True),
    ),
    "spans": (
        _c("trace_id", "str"),
        _c("span_id", "str"),
        _c("parent_id", "str", True),
        _c("service", "str"),
        _c("operation", "str"),
        _c("start", "ts"),
        _c("duration_ms", "float", bounds=(0, float("inf"))),
        _c("status", "str", allowed=("ok", "error")),
        _c("instance", "str", True),
    ),
    "alerts": (
        _c("alert_id", "str"),
        _c("name", "str"),
        _c("service", "str", True),
        _c("severity", "str", allowed=SEVERITIES),
        _c("state", "str", allowed=ALERT_STATES),
        _c("starts_at", "ts"),
        _c("ends_at", "ts", True),
        _c("summary", "str", True),
        _c("runbook_url", "str", True),
        _c("source", "str"),
        _c("url", "str", True),
    ),
    "incidents": (
        _c("incident_id", "str"),
        _c("title", "str"),
        _c("priority", "int", bounds=(1, 5)),
        _c("state", "str", allowed=INCIDENT_STATES),
        _c("service", "str", True),
        _c("opened_at", "ts"),
        _c("acknowledged_at", "ts", True),
        _c("resolved_at", "ts", True),
        _c("assignment_group", "str", True),
        _c("change_id", "str", True),
        _c("runbook_url", "str", True),
        _c("source", "str"),
        _c("url", "str", True),
    ),
    "changes": (
        _c("change_id", "str"),
        _c("title", "str"),
        _c("service", "str", True),
        _c("type", "str", allowed=CHANGE_TYPES),
        _c("state", "str", allowed=CHANGE_STATES),
        _c("planned_start", "ts", True),
        _c("planned_end", "ts", True),
        _c("actual_start", "ts", True),
        _c("actual_end", "ts", True),
        _c("outcome", "str", allowed=CHANGE_OUTCOMES),
        _c("source", "str"),
        _c("url", "str", True),
    ),
    "chaos_runs": (
        _c("run_id", "str"),
        _c("experiment", "str"),
        _c("service", "str", True),
        _c("fault", "str", True),
        _c("started_at", "ts"),
        _c("ended_at", "ts", True),
        _c("status", "str", allowed=CHAOS_STATUSES),
        _c("deviated", "bool"),
        _c("probe_success_ratio", "float", True, bounds=(0, 1)),
        _c("recovery_s", "float", True),
        _c("source", "str"),
        _c("url", "str", True),
    ),
    "anomalies": (
        _c("start", "ts"),
        _c("end", "ts"),
        _c("service", "str"),
        _c("instance", "str", True),
        _c("metric", "str"),
        _c("value", "float"),
        _c("baseline", "float"),
        _c("low", "float"),
        _c("high", "float"),
        _c("score", "float"),
        _c("direction", "str", allowed=("up", "down")),
    ),
    "utilisation_peaks": (
        _c("day", "ts"),
        _c("service", "str"),
        _c("instance", "str"),
        _c("cpu_ratio", "float", True, bounds=(0, 1)),
        _c("memory_ratio", "float", True, bounds=(0, 1)),
        _c("memory_limit_bytes", "float", True),
    ),
    "instances": (_c("service", "str"), _c("instance", "str"), _c("site", "str")),
    # the wall's views, derived from the estate's frames (dashboard/analytics/wallframes.py)
    "service_health": (
        _c("service", "str"),
        _c("p95_target_ms", "float"),
        _c("error_target", "float"),
        _c("requests_per_s", "float", True),
        _c("error_ratio", "float", True),
        _c("latency_p50_ms", "float", True),
        _c("latency_p95_ms", "float", True),
        _c("latency_p99_ms", "float", True),
        _c("status", "str", allowed=HEALTH_STATUSES),
        _c("rule", "str"),
    ),
    "service_status": (
        _c("service", "str"),
        _c("status", "str", allowed=HEALTH_STATUSES),
        _c("metric", "str", allowed=("latency", "errors")),
    ),
    "status_reasons": (
        _c("service", "str"),
        _c("status", "str", allowed=HEALTH_STATUSES),
        _c("kind", "str"),
        _c("values", "str"),
    ),
    "chain_sites": (
        _c("chain", "str"),
        _c("site", "str"),
        _c("share", "float"),
        _c("status", "str", allowed=HEALTH_STATUSES),
    ),
    "site_states": (
        _c("site", "str"),
        _c("status", "str", allowed=HEALTH_STATUSES),
        _c("kind", "str", allowed=("ok", "low", "drained", "silent", "nodata")),
        _c("share", "float"),
        _c("even", "float"),
        _c("instances", "int"),
        _c("services", "int"),
    ),
    "spark": (_c("ts", "ts"), _c("points", "str")),  # per timestamp, the p95 of every tile as a JSON array
    "wall_incidents": (  # the active incidents as the wall lists them, with who commands the P1/P2
        _c("source", "str"),
        _c("incident_id", "str"),
        _c("title", "str"),
        _c("priority", "int", bounds=(1, 5)),
        _c("service", "str", True),
        _c("opened_at", "ts"),
        _c("acknowledged_at", "ts", True),
        _c("assignment_group", "str", True),
        _c("runbook_url", "str", True),
        _c("commander", "str", True),
        _c("updated_at", "ts", True),
        _c("banner", "int"),
    ),
    "wall_alerts": (
        _c("alert_id", "str"),
        _c("name", "str"),
        _c("service", "str", True),
        _c("severity", "str", allowed=SEVERITIES),
        _c("starts_at", "ts"),
        _c("summary", "str", True),
    ),
    "wall_changes": (
        _c("change_id", "str"),
        _c("title", "str"),
        _c("service", "str", True),
        _c("type", "str", allowed=CHANGE_TYPES),
        _c("actual_start", "ts", True),
        _c("planned_start", "ts", True),
        _c("planned_end", "ts", True),
        _c("running", "bool"),
    ),
    "wall_chaos": (
        _c("run_id", "str"),
        _c("experiment", "str"),
        _c("fault", "str", True),
        _c("started_at", "ts"),
        _c("status", "str", allowed=CHAOS_STATUSES),
        _c("recovery_s", "float", True),
    ),
    "kpi_events": (
        _c("figure", "str", allowed=("mtta", "mttr", "changes", "chaos")),
        _c("at", "ts"),
        _c("value", "float"),
    ),
    "wall_model": (_c("lang", "str"), _c("part", "str"), _c("value", "str"), _c("digest", "str")),
    "request_totals": (
        _c("ts", "ts"),
        _c("requests_per_s", "float"),
        _c("failed_per_s", "float"),
        _c("samples", "int"),
    ),
    "view_basis": (_c("source", "str"), _c("version", "int"), _c("rules", "str")),
    "freeze_breaches": (  # the changes and chaos runs made during a change freeze (analytics.freeze)
        _c("kind", "str", allowed=("change", "chaos")),
        _c("id", "str"),
        _c("source", "str"),
        _c("title", "str"),
        _c("service", "str", True),
        _c("type", "str", True, allowed=CHANGE_TYPES),
        _c("reason", "str", allowed=("window", "session")),
        _c("freeze", "str"),
        _c("flagged", "bool"),
        _c("ts", "ts"),
        _c("url", "str", True),
    ),
    "slo_status": (  # each chain's objectives now: budget left over the window, burn rates, the alert raised
        _c("chain", "str"),
        _c("objective", "str", allowed=("availability", "latency")),
        _c("target", "float"),
        _c("total", "float"),
        _c("bad", "float"),
        _c("budget_left", "float", True),
        _c("burn_5m", "float", True),
        _c("burn_30m", "float", True),
        _c("burn_60m", "float", True),
        _c("burn_360m", "float", True),
        _c("alert", "str", allowed=("nodata", "none", "ticket", "page")),  # nodata: no events in the window
    ),
    "slo_days": (  # each chain's in-session events per local day over the budget's window
        _c("chain", "str"),
        _c("objective", "str", allowed=("availability", "latency")),
        _c("day", "ts"),
        _c("total", "float"),
        _c("bad", "float"),
    ),
    "chain_business": (  # each chain's headline business figure (dashboard/analytics/business.py)
        _c("chain", "str"),
        _c("metric", "str", allowed=BUSINESS_METRICS),
        _c("value", "float", True),
        _c("status", "str", allowed=HEALTH_STATUSES),
        _c("at", "ts", True),
    ),
    "incident_command": (  # opscenter's own: who commands each incident acted on, and its last action
        _c("source", "str"),
        _c("incident_id", "str"),
        _c("commander", "str", True),
        _c("updated_at", "ts"),
    ),
    "on_call": (  # opscenter's own: who an ITSM's on-call group has on call, as last read
        _c("source", "str"),
        _c("group", "str"),
        _c("person", "str", True),  # none: the group was read and has nobody on call
        _c("name", "str", True),
        _c("email", "str", True),
        _c("mobile", "str", True),
    ),
    "log_rates": (
        _c("ts", "ts"),
        _c("service", "str"),
        _c("level", "str", allowed=LOG_LEVELS),
        _c("count", "int", bounds=(0, float("inf"))),
    ),
    "log_lines": (
        _c("ts", "ts"),
        _c("service", "str"),
        _c("instance", "str", True),
        _c("level", "str", allowed=LOG_LEVELS),
        _c("message", "str"),
        _c("trace_id", "str", True),
    ),
    "service_requests": (
        _c("request_id", "str"),
        _c("item", "str"),
        _c("category", "str", True),
        _c("opened_at", "ts"),
        _c("fulfilled_at", "ts", True),
        _c("state", "str", allowed=REQUEST_STATES),
        _c("target_h", "float", True, bounds=(0, float("inf"))),
        _c("source", "str"),
    ),
    "feed_status": (  # per market-data feed and site: how old its last tick is, its gaps and its rate
        _c("ts", "ts"),
        _c("market", "str", allowed=FEED_MARKETS),
        _c("feed", "str"),
        _c("site", "str"),
        _c("tick_age_s", "float", True, bounds=(0, float("inf"))),
        _c("sequence_gaps", "float", True, bounds=(0, float("inf"))),
        _c("messages_per_s", "float", True, bounds=(0, float("inf"))),
    ),
    "wall_markets": (  # the wall's market strip: per market its feeds' state and the late sites
        _c("market", "str", allowed=FEED_MARKETS),
        _c("state", "str", allowed=FEED_STATES),
        _c("sites", "str"),
        _c("tick_age_s", "float", True),
    ),
    "business_metrics": (
        _c("ts", "ts"),
        _c("chain", "str"),
        _c("service", "str"),
        _c("metric", "str", allowed=BUSINESS_METRICS),
        _c("value", "float", bounds=(0, float("inf"))),
        *(_c(dimension, "str", True) for dimension in BUSINESS_DIMENSIONS),
    ),
    "source_status": (
        _c("source", "str"),
        _c("kind", "str"),
        _c("last_attempt", "ts", True),
        _c("last_success", "ts", True),
        _c("ok", "bool"),
        _c("error", "str", True),
        _c("rows", "int"),
        _c("duration_ms", "float", True),
    ),
}

FRAME_NAMES: tuple[str, ...] = tuple(CONTRACTS)
METRIC_FRAMES = ("service_metrics", "resource_metrics")  # the frames the derived step learns from
DERIVED_FRAMES = ("anomalies", "utilisation_peaks")  # computed by the poller from metrics, not read
SLO_FRAMES = ("slo_status", "slo_days")  # computed by the poller from the chains' metrics and history
COMMAND_FRAMES = ("incident_command",)  # read by the poller from opscenter's incident actions
DUTY_FRAMES = ("on_call",)  # read by the poller from the ITSM on-call groups the duty roster names
VIEW_FRAMES = (
    "service_health",
    "service_status",
    "status_reasons",
    "chain_sites",
    "site_states",
    "spark",
    "request_totals",
    "wall_incidents",
    "wall_alerts",
    "wall_changes",
    "wall_chaos",
    "kpi_events",
    "wall_model",
    "wall_markets",
    "view_basis",
    "freeze_breaches",
    "chain_business",
)
POLLER_VIEWS = ("freeze_breaches",)  # derived with the wall's views by the poller alone; a page only reads them

_EMPTY_DTYPES = {
    "str": "object",
    "int": "int64",
    "float": "float64",
    "bool": "bool",
    "ts": "datetime64[ns, UTC]",
}


def as_utc(stamp: pd.Timestamp) -> pd.Timestamp:
    """``stamp`` in UTC; a naive timestamp is taken to be UTC already."""
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def utc_column(values: Any, **to_datetime: Any) -> pd.Series:
    """Timestamps (strings, datetimes, tz-aware values, or numbers with ``unit=``) as a
    ``datetime64[ns, UTC]`` column."""
    return pd.to_datetime(values, utc=True, **to_datetime).astype("datetime64[ns, UTC]")


def empty_frame(name: str) -> pd.DataFrame:
    """Return a zero-row frame with the contract's columns and dtypes."""
    return pd.DataFrame({c.name: pd.Series(dtype=_EMPTY_DTYPES[c.kind]) for c in CONTRACTS[name]})


def _kind_ok(series: pd.Series, kind: str) -> bool:
    dtype = series.dtype
    if kind == "ts":
        return isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) in ("UTC", "utc")
    if kind == "bool":
        return pd.api.types.is_bool_dtype(dtype)
    if kind == "int":
        return pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    if kind == "float":
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    non_null = series.dropna()
    return pd.api.types.is_string_dtype(dtype) or non_null.map(type).eq(str).all()


def validate(name: str, frame: Any, max_rows: int | None = None) -> pd.DataFrame:
    """Check ``frame`` against contract ``name`` (and at most ``max_rows`` rows); return it with contract
    columns first.

    Raises ContractError naming the frame and the offending column.
    """
    if name not in CONTRACTS:
        raise ContractError(name, None, f"unknown frame; expected one of {', '.join(FRAME_NAMES)}")
    if not isinstance(frame, pd.DataFrame):
        raise ContractError(name, None, f"expected a pandas DataFrame, got {type(frame).__name__}")
    if max_rows is not None and len(frame) > max_rows:
        raise ContractError(name, None, f"{len(frame):,} rows, over the limit of {max_rows:,} (max_rows)")
    columns = CONTRACTS[name]
    expected = [c.name for c in columns]
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise ContractError(name, missing[0], "missing column")
    extra = [c for c in frame.columns if c not in expected and not str(c).startswith("x_")]
    if extra:
        raise ContractError(name, str(extra[0]), "unexpected column (extra columns must start with x_)")
    for col in columns:
        series = frame[col.name]
        if not _kind_ok(series, col.kind):
            wanted = "tz-aware UTC timestamp" if col.kind == "ts" else col.kind
            raise ContractError(name, col.name, f"expected {wanted}, got dtype {series.dtype}")
        nulls = series.isna()
        if not col.nullable and nulls.any():
            raise ContractError(name, col.name, f"{int(nulls.sum())} null value(s) in a required column")
        present = series[~nulls]
        if col.allowed is not None:
            bad = present[~present.isin(col.allowed)]
            if len(bad):
                raise ContractError(name, col.name, f"value {bad.iloc[0]!r} not in {sorted(col.allowed)}")
        if col.bounds is not None and len(present):
            low, high = col.bounds
            bad = present[(present < low) | (present > high)]
            if len(bad):
                raise ContractError(name, col.name, f"value {bad.iloc[0]!r} outside [{low}, {high}]")
    return frame[expected + [c for c in frame.columns if c not in expected]]


@dataclass(frozen=True)
class PollDeadline:
    """When the poll running in this context must end (``time.monotonic()``) and its length."""

    at: float
    seconds: float

    def left(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> str:
        return f"the poll's deadline of {self.seconds:g} s (poll_timeout_s) passed"


_POLL_DEADLINE: contextvars.ContextVar[PollDeadline | None] = contextvars.ContextVar(
    "opscenter_poll_deadline", default=None
)


@contextmanager
def poll_deadline(seconds: float, started: float | None = None) -> Iterator[PollDeadline]:
    """Run the block as a poll that must end within ``seconds`` of ``started`` (``time.monotonic()``, default
    now): the transport cuts its requests short at the deadline (a thread the block starts sees it only
    through ``contextvars.copy_context``)."""
    deadline = PollDeadline((time.monotonic() if started is None else started) + seconds, seconds)
    token = _POLL_DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _POLL_DEADLINE.reset(token)


def current_poll_deadline() -> PollDeadline | None:
    """The deadline of the poll running in this context, if any."""
    return _POLL_DEADLINE.get()


@dataclass
class Health:
    """The answer to ``Source.check()``."""

    ok: bool
    detail: str = ""


@dataclass
class Source:
    """Base class of every adapter: configuration plus ``fetch`` and ``check``.

    Subclasses set ``kind``, ``options_model`` (the pydantic model of their options, see
    ``datasources.options``; ``config`` is then the validated options) and ``polled`` (the frames
    ``fetch`` returns, or override ``offers`` when the options decide) and implement
    ``fetch(now)``; they may override ``check()`` with a cheaper ping, ``spans(trace_id)`` for
    on-demand traces and ``log_lines(...)`` for on-demand log lines.
    """

    kind: ClassVar[str] = ""
    polled: ClassVar[tuple[str, ...] | None] = None  # None: the kind does not say, so any frame
    options_model: ClassVar[type | None] = None  # None: any option is accepted (plugins)
    name: str
    interval_s: float = 30.0
    options: dict[str, Any] = field(default_factory=dict)
    poll_timeout_s: float | None = None  # None: ``poll_deadline_s()``'s default
    max_rows: int = DEFAULT_MAX_ROWS
    config: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if self.options_model is None:
            return
        from pydantic import ValidationError

        from datasources.options import problems

        spec = {"kind": self.kind, "name": self.name, "interval_s": self.interval_s, **self.options}
        try:
            self.config = self.options_model.model_validate(spec)
        except ValidationError as exc:
            loc, message = problems(self.options_model, exc)[0]
            where = f"option {'.'.join(map(str, loc))!r}" if loc else "options"
            raise OptionsError(f"{self.name}: {where}: {message}") from None

    def poll_deadline_s(self) -> float:
        """How long one poll may take: ``poll_timeout_s``, by default twice the interval or six request
        timeouts, whichever is longer."""
        if self.poll_timeout_s:
            return float(self.poll_timeout_s)
        return max(2 * self.interval_s, 6 * float(self.options.get("timeout_s", DEFAULT_TIMEOUT_S)))

    @classmethod
    def offers(cls, options: dict[str, Any]) -> frozenset[str]:
        """The frames a source of this kind configured with ``options`` delivers, known before it polls."""
        return frozenset(FRAME_NAMES if cls.polled is None else cls.polled)

    def fetch(self, now: datetime) -> dict[str, pd.DataFrame]:
        raise NotImplementedError

    def warnings(self) -> list[str]:
        """What the last fetch found that a duty manager should fix though it did not fail the poll (shown
        with the source's status on /sources); default none."""
        return []

    def check(self) -> Health:
        """Ping the source; the default polls once and reports the outcome."""
        try:
            frames = self.fetch(pd.Timestamp.now(tz="UTC").to_pydatetime())
        except SourceError as exc:
            return Health(False, str(exc))
        return Health(True, f"{len(frames)} frame(s)")

    def history(self, start: datetime, end: datetime, step_s: int | None = None) -> dict[str, pd.DataFrame]:
        """Metric frames (service_metrics, resource_metrics) over [start, end) for baselines, a point per
        ``step_s`` (None: the source's own resolution); default none."""
        return {}

    def spans(self, trace_id: str) -> pd.DataFrame:
        """Return the spans of one trace; sources without traces return none."""
        return empty_frame("spans")

    def log_lines(
        self,
        services: tuple[str, ...],
        start: datetime,
        end: datetime,
        limit: int,
        instances: tuple[str, ...] = (),
        trace_id: str | None = None,
    ) -> pd.DataFrame:
        """Return at most ``limit`` log lines of ``services`` (or ``instances``) in [start, end];
        lines carrying ``trace_id`` first. Sources without logs return none."""
        return empty_frame("log_lines")
