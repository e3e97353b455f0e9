"""Configuration: a YAML file (built-in default: the demo estate) plus the environment.

Any string value may be written ``${ENV_NAME}``; secrets are given only that way (a source's
secret option written as anything else is refused). Each source is checked against its kind's
options model (``datasources.options``). Every problem is reported once, as
``file:line: key: message``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from dashboard.analytics.feeds import LATE_S as FEED_LATE_S
from dashboard.security.policy import ROLES
from datasources.base import BUSINESS_METRICS

DEFAULT_CONFIG = Path(__file__).with_name("default.yaml")
ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
LANGUAGES = ("en", "zh")
RESERVED_NAMES = ("config", "derived", "opscenter", "oncall")  # source names the store gives its own frames
DEFAULT_TIER_TARGETS = {
    1: {"p95_ms": 300.0, "error_ratio": 0.01},
    2: {"p95_ms": 800.0, "error_ratio": 0.02},
    3: {"p95_ms": 2000.0, "error_ratio": 0.05},
}


class ConfigError(ValueError):
    """A configuration problem, located by file, line and key."""


AUTH_MODES = ("none", "proxy", "builtin")
HEADER_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,64}$")
MIN_SECRET_KEY = 32


@dataclass(frozen=True)
class AuthSettings:
    """The ``auth:`` section: how people and wall displays are recognised."""

    mode: str = "none"
    user_header: str = "X-Forwarded-User"
    groups_header: str | None = None
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    group_roles: dict[str, str] = field(default_factory=dict)
    default_role: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    session_hours: float = 12.0
    session_idle_minutes: float = 30.0
    cookie_secure: bool = True
    open_paths: tuple[str, ...] = ("/health", "/metrics")


@dataclass(frozen=True)
class MaturitySettings:
    """The ``maturity:`` section: the catalogue, the "+" rule, how often evidence is evaluated."""

    catalogue: str | None = None
    plus_share: float = 0.5
    plus_domains: int = 3
    evaluate_every_min: float = 60.0


@dataclass(frozen=True)
class PreplanSettings:
    """The ``preplans:`` section: the directory of the pre-plan library (None: no library)."""

    path: str | None = None


@dataclass(frozen=True)
class CommandSettings:
    """The ``command:`` section: the ITSM source tickets of declared incidents are opened in (None: they stay
    in opscenter), the minutes without an update before an open P1 or P2 turns amber, how often the poller
    reads the declared incidents and the incident command."""

    declare_to: str | None = None
    stale_after_min: dict[int, float] = field(default_factory=lambda: {1: 15.0, 2: 30.0})
    interval_s: float = 10.0


@dataclass(frozen=True)
class CalendarSettings:
    """The ``calendar:`` section: the futures night session (None: not shown) and the declared closures."""

    futures_night: tuple[str, str] | None = None
    closures: tuple = ()  # of analytics.calendar.Closure


@dataclass(frozen=True)
class FreezeSettings:
    """The ``freeze:`` section: whether the sessions of a service's market are frozen, and the named windows
    (``analytics.freeze.Window``)."""

    sessions: bool = True
    windows: tuple = ()


@dataclass(frozen=True)
class Settings:
    """Everything the application and the poller are configured with."""

    sources: list[dict[str, Any]]
    center_name: str = "Operations Command Center"
    display_tz: str = "Asia/Shanghai"
    language: str = "en"
    refresh_s: float = 5.0
    deployment: str = "default"
    frame_limit_mb: float = 16.0  # the largest value the frame store writes (dashboard.core.store)
    chains: list[dict[str, Any]] = field(default_factory=list)
    health: dict[str, Any] = field(default_factory=dict)
    playlists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    service_requests: list[dict[str, Any]] = field(default_factory=list)
    auth: AuthSettings = field(default_factory=AuthSettings)
    maturity: MaturitySettings = field(default_factory=MaturitySettings)
    capacity: dict[str, Any] = field(default_factory=dict)
    calendar: CalendarSettings = field(default_factory=CalendarSettings)
    grading_table: str | None = None  # the regulator's grading table (None: the built-in one)
    notifications: Any = None  # dashboard.command.notify_config.NotifySettings, when configured
    preplans: PreplanSettings = field(default_factory=PreplanSettings)
    command: CommandSettings = field(default_factory=CommandSettings)
    freeze: FreezeSettings = field(default_factory=FreezeSettings)
    slo: Any = field(default_factory=lambda: _slo_settings())  # dashboard.analytics.slo.SloSettings
    redis_url: str | None = None
    database_url: str | None = None
    path: str = str(DEFAULT_CONFIG)

    @property
    def source_names(self) -> list[str]:
        return [s["name"] for s in self.sources]


class _Located:
    """A parsed YAML document that remembers the line of every key path (of its key, and of its
    value), and which values were written as one ``${ENV_NAME}`` (``from_env``)."""

    def __init__(self, text: str, path: str, env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        self.path, self.env, self.lines, self.key_lines, self.from_env = path, env, {}, {}, set()
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            self.data = self._convert(loader, node, ()) if node is not None else {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark else 1
            raise ConfigError(f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
        finally:
            loader.dispose()

    def _convert(self, loader, node, key_path):
        self.lines[key_path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out = {}
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node, deep=True)
                self.key_lines[key_path + (key,)] = key_node.start_mark.line + 1
                out[key] = self._convert(loader, value_node, key_path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._convert(loader, item, key_path + (i,)) for i, item in enumerate(node.value)]
        value = loader.construct_object(node, deep=True)
        if isinstance(value, str):
            if ENV_PATTERN.fullmatch(value):
                self.from_env.add(key_path)
            value = self._expand_env(value, key_path)
        return value

    def _expand_env(self, value: str, key_path) -> str:
        def replace(match):
            name = match.group(1)
            if name not in self.env:
                self.fail(key_path, f"environment variable {name} is not set")
            return self.env[name]

        return ENV_PATTERN.sub(replace, value)

    def fail(self, key_path, message: str):
        """Raise a ConfigError at ``key_path``'s line (a missing key: its closest present parent's value)."""
        key_path = tuple(key_path)
        present = next((key_path[:n] for n in range(len(key_path), 0, -1) if key_path[:n] in self.lines), ())
        line = self.key_lines.get(key_path) or self.lines.get(present, 1)
        dotted = ".".join(str(k) for k in key_path) or "(top level)"
        raise ConfigError(f"{self.path}:{line}: {dotted}: {message}")


def _number(doc: _Located, key_path, value, minimum: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        doc.fail(key_path, f"expected a number, got {value!r}")
    if number <= minimum:
        doc.fail(key_path, f"must be greater than {minimum:g}")
    return number


def _check_options(doc: _Located, where: tuple, spec: dict[str, Any], model) -> Any:
    """``spec`` validated by its kind's options model; unknown keys and literal secrets refused."""
    from pydantic import ValidationError

    from datasources.options import problems, secret_keys

    try:
        options = model.model_validate(spec)
    except ValidationError as exc:
        loc, message = problems(model, exc)[0]
        doc.fail(where + loc, message)
    for key in secret_keys(model):
        if spec.get(key) is not None and where + (key,) not in doc.from_env:
            doc.fail(where + (key,), "secrets must be given as ${ENV_NAME}")
    return options


def _check_sources(doc: _Located, raw) -> list[dict[str, Any]]:
    from datasources.options import OpenOptions
    from datasources.registry import find, kinds

    if not isinstance(raw, list) or not raw:
        doc.fail(("sources",), "expected a non-empty list of sources")
    seen, sources = set(), []
    for i, spec in enumerate(raw):
        where = ("sources", i)
        if not isinstance(spec, dict):
            doc.fail(where, "expected a mapping with kind and name")
        for key in ("kind", "name"):
            if not spec.get(key):
                doc.fail(where, f"missing key {key!r}")
        cls = find(spec["kind"])
        if cls is None:
            doc.fail(where + ("kind",), f"unknown kind {spec['kind']!r}; known: {', '.join(sorted(kinds()))}")
        name = str(spec["name"])
        if not NAME_PATTERN.match(name) or name in RESERVED_NAMES:
            doc.fail(
                where + ("name",),
                f"{name!r} must be lower-case letters, digits, '-', '_' or '.' (and not {', '.join(RESERVED_NAMES)})",
            )
        if name in seen:
            doc.fail(where + ("name",), f"duplicate source name {name!r}")
        seen.add(name)
        options = _check_options(doc, where, spec, cls.options_model or OpenOptions)
        limits = {key: getattr(options, key) for key in ("poll_timeout_s", "max_rows") if key in spec}
        sources.append({**spec, "name": name, "interval_s": options.interval_s, **limits})
    return sources


def _check_chains(doc: _Located, raw) -> list[dict[str, Any]]:
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        doc.fail(("chains",), "expected a list of chains")
    for i, chain in enumerate(raw):
        if not isinstance(chain, dict) or not chain.get("chain"):
            doc.fail(("chains", i), "expected a mapping with 'chain', 'name' and 'steps'")
        steps = chain.get("steps")
        if not isinstance(steps, list) or not steps or not all(isinstance(s, str) for s in steps):
            doc.fail(("chains", i, "steps"), "expected a non-empty list of service names")
    return raw


def _check_service_requests(doc: _Located, raw) -> list[dict[str, Any]]:
    """The standard service requests offered: ``item`` with optional ``category`` and ``target_h``."""
    if raw in (None, []):
        return []
    if not isinstance(raw, list):
        doc.fail(("service_requests",), "expected a list of items")
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("item"), str):
            doc.fail(("service_requests", i), "expected a mapping with 'item', 'category' and 'target_h'")
        if "target_h" in item:
            _number(doc, ("service_requests", i, "target_h"), item["target_h"])
    return raw


def _check_health(doc: _Located, raw) -> dict[str, Any]:
    raw = raw or {}
    if not isinstance(raw, dict):
        doc.fail(("health",), "expected a mapping")
    tiers = {tier: dict(targets) for tier, targets in DEFAULT_TIER_TARGETS.items()}
    for tier, targets in (raw.get("tiers") or {}).items():
        if tier not in tiers:
            doc.fail(("health", "tiers", tier), "tier must be 1, 2 or 3")
        for key, value in (targets or {}).items():
            if key not in ("p95_ms", "error_ratio"):
                doc.fail(("health", "tiers", tier, key), "expected p95_ms or error_ratio")
            tiers[tier][key] = _number(doc, ("health", "tiers", tier, key), value)
    services = {}
    for service, targets in (raw.get("services") or {}).items():
        for key, value in (targets or {}).items():
            if key not in ("p95_ms", "error_ratio"):
                doc.fail(("health", "services", service, key), "expected p95_ms or error_ratio")
            services.setdefault(service, {})[key] = _number(doc, ("health", "services", service, key), value)
    amber_at = _number(doc, ("health", "amber_at"), raw.get("amber_at", 0.8))
    if amber_at > 1:
        doc.fail(("health", "amber_at"), "must be at most 1 (a fraction of the target)")
    feed_late_s = _number(doc, ("health", "feed_late_s"), raw.get("feed_late_s", FEED_LATE_S))
    if feed_late_s <= 0:
        doc.fail(("health", "feed_late_s"), "must be more than 0 seconds")
    return {
        "tiers": tiers,
        "services": services,
        "amber_at": amber_at,
        "feed_late_s": feed_late_s,
        "business": _check_business(doc, raw),
    }


def _check_business(doc: _Located, raw: dict) -> dict[str, dict[str, Any]]:
    """``health.business``: per chain, the business figure that heads it and its warn and crit thresholds."""
    found = {}
    for chain, rule in (raw.get("business") or {}).items():
        where = ("health", "business", chain)
        if not isinstance(rule, dict) or set(rule) != {"metric", "warn", "crit"}:
            doc.fail(where, "expected a mapping with metric, warn and crit")
        if rule["metric"] not in BUSINESS_METRICS:
            doc.fail((*where, "metric"), f"expected one of {', '.join(BUSINESS_METRICS)}")
        found[str(chain)] = {
            "metric": rule["metric"],
            **{key: _number(doc, (*where, key), rule[key]) for key in ("warn", "crit")},
        }
    return found


def _check_playlists(doc: _Located, raw) -> dict[str, list[dict[str, Any]]]:
    raw = raw or {}
    if not isinstance(raw, dict):
        doc.fail(("playlists",), "expected a mapping of playlist name to pages")
    playlists = {}
    for name, pages in raw.items():
        if not isinstance(pages, list) or not pages:
            doc.fail(("playlists", name), "expected a non-empty list of {page, seconds}")
        entries = []
        for i, entry in enumerate(pages):
            if not isinstance(entry, dict) or not str(entry.get("page", "")).startswith("/"):
                doc.fail(("playlists", name, i), "expected a mapping with a page path starting with '/'")
            seconds = _number(doc, ("playlists", name, i, "seconds"), entry.get("seconds", 60))
            entries.append({"page": entry["page"], "seconds": seconds})
        playlists[str(name)] = entries
    return playlists


def _section(doc: _Located, name: str, raw, known, what: str = "expected a mapping") -> dict:
    """The config section ``name`` as a mapping (empty when left out), every key one of ``known``."""
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        doc.fail((name,), what)
    for key in raw:
        if key not in known:
            doc.fail((name, key), f"unknown key; expected one of {', '.join(sorted(known))}")
    return raw


def _check_auth(doc: _Located, raw) -> AuthSettings:
    raw = _section(doc, "auth", raw, AuthSettings.__dataclass_fields__, "expected a mapping with at least 'mode'")
    mode = raw.get("mode", "none")
    if mode not in AUTH_MODES:
        doc.fail(("auth", "mode"), f"expected one of {', '.join(AUTH_MODES)}")
    headers = {}
    for key in ("user_header", "groups_header"):
        value = raw.get(key, getattr(AuthSettings, key))
        if value is not None and not HEADER_PATTERN.match(str(value)):
            doc.fail(("auth", key), "expected an HTTP header name (letters, digits and '-')")
        headers[key] = value
    proxies = []
    for i, cidr in enumerate(raw.get("trusted_proxies") or []):
        try:
            proxies.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            doc.fail(("auth", "trusted_proxies", i), f"{cidr!r} is not an IP address or CIDR network")
    if mode == "proxy" and not proxies:
        doc.fail(("auth", "trusted_proxies"), "proxy mode needs the addresses of the trusted proxies")
    group_roles = raw.get("group_roles") or {}
    if not isinstance(group_roles, dict):
        doc.fail(("auth", "group_roles"), "expected a mapping of group to role")
    for group, role in group_roles.items():
        if role not in ROLES:
            doc.fail(("auth", "group_roles", group), f"expected one of {', '.join(ROLES)}")
    default_role = raw.get("default_role")
    if default_role is not None and default_role not in ROLES:
        doc.fail(("auth", "default_role"), f"expected one of {', '.join(ROLES)}")
    secret_key = raw.get("secret_key")
    if mode == "builtin" and len(str(secret_key or "")) < MIN_SECRET_KEY:
        doc.fail(
            ("auth", "secret_key"),
            f"builtin mode needs a secret key of at least {MIN_SECRET_KEY} characters, given as ${{ENV_NAME}}",
        )
    open_paths = raw.get("open_paths", list(AuthSettings.open_paths))
    if not isinstance(open_paths, list) or not all(isinstance(p, str) and p.startswith("/") for p in open_paths):
        doc.fail(("auth", "open_paths"), "expected a list of paths starting with '/'")
    cookie_secure = raw.get("cookie_secure", True)
    if not isinstance(cookie_secure, bool):
        doc.fail(("auth", "cookie_secure"), "expected true or false")
    return AuthSettings(
        mode=mode,
        **headers,
        trusted_proxies=tuple(proxies),
        group_roles={str(group): role for group, role in group_roles.items()},
        default_role=default_role,
        secret_key=str(secret_key) if secret_key else None,
        session_hours=_number(doc, ("auth", "session_hours"), raw.get("session_hours", 12)),
        session_idle_minutes=_number(doc, ("auth", "session_idle_minutes"), raw.get("session_idle_minutes", 30)),
        cookie_secure=cookie_secure,
        open_paths=tuple(open_paths),
    )


def _check_command(doc: _Located, raw, sources: list[dict[str, Any]]) -> CommandSettings:
    from datasources.registry import find

    raw = _section(doc, "command", raw, CommandSettings.__dataclass_fields__)
    declare_to = raw.get("declare_to")
    if declare_to is not None:
        openers = [s["name"] for s in sources if hasattr(find(s["kind"]), "open_ticket")]
        if declare_to not in openers:
            doc.fail(
                ("command", "declare_to"),
                f"{declare_to!r} is not a configured source that opens tickets; those that do: "
                f"{', '.join(openers) or 'none'}",
            )
    stale = raw.get("stale_after_min", {})
    if not isinstance(stale, dict) or not set(stale) <= {1, 2}:
        doc.fail(("command", "stale_after_min"), "expected a mapping of priority (1 or 2) to minutes")
    limits = {p: _number(doc, ("command", "stale_after_min", p), m) for p, m in stale.items()}
    interval = _number(doc, ("command", "interval_s"), raw.get("interval_s", CommandSettings.interval_s))
    return CommandSettings(declare_to, {**CommandSettings().stale_after_min, **limits}, interval)


def _check_maturity(doc: _Located, raw) -> MaturitySettings:
    raw = _section(doc, "maturity", raw, MaturitySettings.__dataclass_fields__)
    catalogue = raw.get("catalogue")
    if catalogue is not None:
        catalogue = _relative(doc, catalogue)
    share = _number(doc, ("maturity", "plus_share"), raw.get("plus_share", MaturitySettings.plus_share))
    if share > 1:
        doc.fail(("maturity", "plus_share"), "must be at most 1 (a share of the next level's items)")
    domains = raw.get("plus_domains", MaturitySettings.plus_domains)
    if isinstance(domains, bool) or not isinstance(domains, int) or domains < 1:
        doc.fail(("maturity", "plus_domains"), "expected a whole number of domains, at least 1")
    every = _number(
        doc, ("maturity", "evaluate_every_min"), raw.get("evaluate_every_min", MaturitySettings.evaluate_every_min)
    )
    return MaturitySettings(catalogue=catalogue, plus_share=share, plus_domains=domains, evaluate_every_min=every)


def _relative(doc: _Located, value) -> str:
    """A path from the config, relative ones taken from the config file's directory."""
    chosen = Path(str(value))
    return str(chosen if chosen.is_absolute() else Path(doc.path).parent / chosen)


def _check_preplans(doc: _Located, raw) -> PreplanSettings:
    raw = {} if raw is None else raw
    if not isinstance(raw, dict) or set(raw) - {"path"}:
        doc.fail(("preplans",), "expected a mapping with 'path' (the pre-plan directory)")
    path = raw.get("path")
    if path is not None and (not isinstance(path, str) or not path.strip()):
        doc.fail(("preplans", "path"), "expected the path of a directory")
    return PreplanSettings(path=None if path is None else os.path.normpath(_relative(doc, path)))


def _check_capacity(doc: _Located, raw) -> dict[str, Any]:
    from dashboard.analytics.calendar import MARKETS
    from dashboard.analytics.capacity import DEFAULTS

    raw = raw or {}
    if not isinstance(raw, dict):
        doc.fail(("capacity",), "expected a mapping of unit costs and targets")
    result = dict(DEFAULTS)
    for key, value in raw.items():
        if key not in DEFAULTS:
            doc.fail(("capacity", key), f"unknown key; expected one of {', '.join(sorted(DEFAULTS))}")
        if key == "currency":
            result[key] = str(value)
        elif key == "market":
            if value not in MARKETS:
                doc.fail(("capacity", key), f"expected one of {', '.join(MARKETS)} (the trading calendar)")
            result[key] = value
        elif key == "services":
            if not isinstance(value, dict):
                doc.fail(("capacity", key), "expected a mapping of service to {cores_per_instance}")
            for service, options in value.items():
                if not isinstance(options, dict) or set(options) - {"cores_per_instance"}:
                    doc.fail(("capacity", key, service), "expected {cores_per_instance: number}")
                _number(doc, ("capacity", key, service, "cores_per_instance"), options["cores_per_instance"])
            result[key] = value
        else:
            result[key] = _number(doc, ("capacity", key), value)
    for key in ("headroom_target", "buffer", "low_utilisation"):
        if result[key] >= 1:
            doc.fail(("capacity", key), "must be a fraction below 1")
    return result


def _clock_time(doc: _Located, key_path, value) -> str:
    """A local time of day written HH:MM."""
    text = str(value)
    if not re.fullmatch(r"[0-2][0-9]:[0-5][0-9]", text) or text > "23:59":
        doc.fail(key_path, f"expected a time of day as HH:MM, got {value!r}")
    return text


def _moment(doc: _Located, key_path, value, tz: str):
    """A date and time; one without an offset is local to ``tz``."""
    import pandas as pd

    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if pd.isna(stamp):
        doc.fail(key_path, f"expected a date and time such as 2026-09-16 09:00, got {value!r}")
    return (stamp.tz_localize(tz) if stamp.tzinfo is None else stamp).to_pydatetime()


def _check_calendar(doc: _Located, raw) -> CalendarSettings:
    """The futures night session (``futures_night: {enabled, from, to}``) and the closures an administrator
    declares (``closures: [{market, from, to, reason}]``)."""
    from dashboard.analytics.calendar import DEFAULT_NIGHT, MARKETS, Closure, futures_night

    raw = {} if raw is None else raw
    if not isinstance(raw, dict) or set(raw) - {"futures_night", "closures"}:
        doc.fail(("calendar",), "expected a mapping with futures_night and closures")
    night = raw.get("futures_night") or {}
    if not isinstance(night, dict) or set(night) - {"enabled", "from", "to"}:
        doc.fail(("calendar", "futures_night"), "expected {enabled: true, from: HH:MM, to: HH:MM}")
    if not isinstance(night.get("enabled", False), bool):
        doc.fail(("calendar", "futures_night", "enabled"), "expected true or false")
    hours = tuple(
        _clock_time(doc, ("calendar", "futures_night", key), night.get(key, default))
        for key, default in zip(("from", "to"), DEFAULT_NIGHT, strict=True)
    )
    markets = {**MARKETS, "futures": futures_night()}
    closures = []
    for i, item in enumerate(raw.get("closures") or []):
        where = ("calendar", "closures", i)
        if not isinstance(item, dict) or set(item) != {"market", "from", "to", "reason"}:
            doc.fail(where, "expected a mapping with market, from, to and reason")
        if item["market"] not in markets:
            doc.fail(where + ("market",), f"expected one of {', '.join(markets)}")
        tz = markets[item["market"]].tz
        start, end = (_moment(doc, where + (key,), item[key], tz) for key in ("from", "to"))
        if end <= start:
            doc.fail(where + ("to",), "must be after from")
        closures.append(Closure(item["market"], start, end, str(item["reason"])))
    return CalendarSettings(hours if night.get("enabled") else None, tuple(closures))


def _check_freeze(doc: _Located, raw, tz: str) -> FreezeSettings:
    """``sessions: true|false`` and ``windows: [{name, start, end, markets?, chains?}]``, times local to ``tz``
    unless they carry an offset."""
    from dashboard.analytics.calendar import MARKETS
    from dashboard.analytics.freeze import Window

    raw = _section(doc, "freeze", raw, FreezeSettings.__dataclass_fields__)
    sessions = raw.get("sessions", FreezeSettings.sessions)
    if not isinstance(sessions, bool):
        doc.fail(("freeze", "sessions"), "expected true or false")
    windows, markets = [], (*MARKETS, "futures")
    for i, item in enumerate(raw.get("windows") or []):
        where = ("freeze", "windows", i)
        if (
            not isinstance(item, dict)
            or not {"name", "start", "end"} <= set(item) <= Window.__dataclass_fields__.keys()
        ):
            doc.fail(where, "expected a mapping with name, start, end and optionally markets and chains")
        start, end = (_moment(doc, where + (key,), item[key], tz) for key in ("start", "end"))
        if end <= start:
            doc.fail(where + ("end",), "must be after start")
        picked = {}
        for key in ("markets", "chains"):
            value = item.get(key) or []
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                doc.fail(where + (key,), "expected a list of names")
            picked[key] = tuple(value)
        for market in picked["markets"]:
            if market not in markets:
                doc.fail(where + ("markets",), f"unknown market {market!r}; expected one of {', '.join(markets)}")
        windows.append(Window(str(item["name"]), start, end, picked["markets"], picked["chains"]))
    return FreezeSettings(sessions, tuple(windows))


def _check_grading_table(doc: _Located, raw) -> str | None:
    """The grading table's path (relative to the config file), checked by loading it."""
    if raw is None:
        return None
    from dashboard.command import grading

    chosen = Path(str(raw))
    path = str(chosen if chosen.is_absolute() else Path(doc.path).parent / chosen)
    try:
        grading.load(path)
    except ConfigError as exc:
        doc.fail(("grading_table",), f"the grading table does not load: {exc}")
    return path


def _check_notifications(doc: _Located, raw, sources: list[dict[str, Any]]):
    from dashboard.command import notify_config

    return notify_config.check(doc, raw, sources)


def _slo_settings(**values):
    from dashboard.analytics.slo import SloSettings

    return SloSettings(**values)


def _check_objectives(doc: _Located, where: tuple, raw, base):
    """One chain's objectives (``market``, ``availability``, ``latency_p99_ms``, ``latency_target``) over
    ``base``."""
    from dataclasses import replace

    from dashboard.command.grading import MARKETS

    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        doc.fail(where, "expected a mapping of market, availability, latency_p99_ms and latency_target")
    values = {}
    for key, value in raw.items():
        if key not in base.__dataclass_fields__:
            doc.fail(where + (key,), f"unknown key; expected one of {', '.join(base.__dataclass_fields__)}")
        if key == "market":
            if value not in MARKETS:
                doc.fail(where + (key,), f"expected one of {', '.join(MARKETS)} (the trading calendar)")
            values[key] = value
            continue
        values[key] = _number(doc, where + (key,), value)
        if key != "latency_p99_ms" and values[key] >= 1:
            doc.fail(where + (key,), "must be a ratio below 1, e.g. 0.999")
    return replace(base, **values)


def _check_slo(doc: _Located, raw):
    """The ``slo:`` section: default and per-chain objectives, the budget's window, the burn-rate alerts."""
    from dashboard.analytics.slo import ALERTS, BurnAlert, Objectives, SloSettings

    raw = _section(doc, "slo", raw, {"default", "chains", "window_days", "alerts"})
    default = _check_objectives(doc, ("slo", "default"), raw.get("default"), Objectives())
    chains = raw.get("chains") or {}
    if not isinstance(chains, dict):
        doc.fail(("slo", "chains"), "expected a mapping of chain to its objectives")
    own = {str(c): _check_objectives(doc, ("slo", "chains", c), o, default) for c, o in chains.items()}
    days = raw.get("window_days", SloSettings.window_days)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 90:
        doc.fail(("slo", "window_days"), "expected a whole number of days from 1 to 90")
    alerts = SloSettings().alerts
    if "alerts" in raw:
        if not isinstance(raw["alerts"], list):
            doc.fail(("slo", "alerts"), "expected a list of {severity, burn, long_min, short_min}")
        alerts = []
        for i, item in enumerate(raw["alerts"]):
            where = ("slo", "alerts", i)
            if not isinstance(item, dict) or set(item) != {"severity", "burn", "long_min", "short_min"}:
                doc.fail(where, "expected a mapping with severity, burn, long_min and short_min")
            if item["severity"] not in ALERTS[1:]:
                doc.fail(where + ("severity",), f"expected one of {', '.join(ALERTS[1:])}")
            long_min, short_min = (_number(doc, where + (k,), item[k]) for k in ("long_min", "short_min"))
            if short_min >= long_min or long_min > 24 * 60 or long_min != int(long_min) or short_min != int(short_min):
                doc.fail(where, "expected whole minutes, the short window shorter and the long one at most a day")
            alerts.append(
                BurnAlert(
                    item["severity"], _number(doc, where + ("burn",), item["burn"]), int(long_min), int(short_min)
                )
            )
    return SloSettings(default=default, chains=own, window_days=days, alerts=tuple(alerts))


def located_file(path: str) -> _Located:
    """The YAML file at ``path``, parsed with its lines kept (for a file the config names)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc.strerror}") from None
    return _Located(text, path)


def read_calendar(path: str) -> CalendarSettings:
    """The ``calendar:`` section of the config file at ``path``, read afresh (closures change while running)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror}") from None
    doc = _Located(text, path)
    return _check_calendar(doc, doc.data.get("calendar") if isinstance(doc.data, dict) else None)


def parse(text: str, path: str = "<config>", env: dict[str, str] | None = None) -> Settings:
    """Parse and validate config text; raise ConfigError naming the key and the line."""
    env = os.environ if env is None else env
    doc = _Located(text, path, env)
    data = doc.data
    if not isinstance(data, dict):
        doc.fail((), "expected a mapping at the top level")
    known = {
        "center_name",
        "display_tz",
        "language",
        "refresh_s",
        "deployment",
        "frame_limit_mb",
        "sources",
        "chains",
        "health",
        "playlists",
        "auth",
        "maturity",
        "capacity",
        "service_requests",
        "calendar",
        "grading_table",
        "notifications",
        "preplans",
        "command",
        "freeze",
        "slo",
    }
    for key in data:
        if key not in known:
            doc.fail((key,), f"unknown key; expected one of {', '.join(sorted(known))}")
    display_tz = str(data.get("display_tz", "Asia/Shanghai"))
    try:
        ZoneInfo(display_tz)
    except (ZoneInfoNotFoundError, ValueError):
        doc.fail(("display_tz",), f"unknown time zone {display_tz!r}")
    language = data.get("language", "en")
    if language not in LANGUAGES:
        doc.fail(("language",), f"expected one of {', '.join(LANGUAGES)}")
    deployment = str(data.get("deployment", "default"))
    if not NAME_PATTERN.match(deployment):
        doc.fail(("deployment",), "must be lower-case letters, digits, '-', '_' or '.'")
    sources = _check_sources(doc, data.get("sources"))
    return Settings(
        sources=sources,
        center_name=str(data.get("center_name", Settings.center_name)),
        display_tz=display_tz,
        language=language,
        refresh_s=_number(doc, ("refresh_s",), data.get("refresh_s", 5)),
        deployment=deployment,
        frame_limit_mb=_number(doc, ("frame_limit_mb",), data.get("frame_limit_mb", Settings.frame_limit_mb)),
        chains=_check_chains(doc, data.get("chains")),
        health=_check_health(doc, data.get("health")),
        playlists=_check_playlists(doc, data.get("playlists")),
        service_requests=_check_service_requests(doc, data.get("service_requests")),
        auth=_check_auth(doc, data.get("auth")),
        maturity=_check_maturity(doc, data.get("maturity")),
        capacity=_check_capacity(doc, data.get("capacity")),
        calendar=_check_calendar(doc, data.get("calendar")),
        grading_table=_check_grading_table(doc, data.get("grading_table")),
        notifications=_check_notifications(doc, data.get("notifications"), sources),
        preplans=_check_preplans(doc, data.get("preplans")),
        command=_check_command(doc, data.get("command"), sources),
        freeze=_check_freeze(doc, data.get("freeze"), display_tz),
        slo=_check_slo(doc, data.get("slo")),
        redis_url=env.get("OPSCENTER_REDIS_URL") or None,
        database_url=env.get("OPSCENTER_DATABASE_URL") or None,
        path=path,
    )


def load(path: str | os.PathLike | None = None) -> Settings:
    """Load the config named by ``path``, else OPSCENTER_CONFIG, else the built-in default."""
    chosen = Path(path or os.environ.get("OPSCENTER_CONFIG") or DEFAULT_CONFIG)
    try:
        text = chosen.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{chosen}: cannot read the config file: {exc.strerror}") from None
    return parse(text, str(chosen))
