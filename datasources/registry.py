"""Source kinds by name: built-ins register with ``@register``, plugins by entry point. A built-in kind's
module is imported when that kind is first asked for, so a process loads the adapters it is configured with."""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from datasources.base import DEFAULT_MAX_ROWS, POLLER_KEYS, Source

ENTRY_POINT_GROUP = "opscenter_datasources"
BUILTIN_MODULES = {  # kind -> the module that registers it
    "demo": "datasources.demo",
    "servicenow": "datasources.itsm.servicenow",
    "jira": "datasources.itsm.jira",
    "request_tracker": "datasources.itsm.request_tracker",
    "sql": "datasources.itsm.sql",
    "prometheus": "datasources.monitoring.prometheus",
    "alertmanager": "datasources.monitoring.alertmanager",
    "jaeger": "datasources.traces.jaeger",
    "zipkin": "datasources.traces.zipkin",
    "otlp_files": "datasources.traces.otlp_files",
    "chaostoolkit": "datasources.chaos.chaostoolkit",
    "litmus": "datasources.chaos.litmus",
    "chaosmesh": "datasources.chaos.chaosmesh",
    "loki": "datasources.logs.loki",
    "elasticsearch": "datasources.logs.elasticsearch",
    "log_files": "datasources.logs.log_files",
}

_KINDS: dict[str, type[Source]] = {}
_loaded = False


def register(cls: type[Source]) -> type[Source]:
    """Class decorator: make ``cls`` available under ``cls.kind``."""
    if not cls.kind:
        raise ValueError(f"{cls.__name__} has no kind")
    _KINDS[cls.kind] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    for module in BUILTIN_MODULES.values():
        import_module(module)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        register(ep.load())
    _loaded = True


def kinds() -> dict[str, type[Source]]:
    """Return every known source kind."""
    _load()
    return dict(_KINDS)


def builtins() -> dict[str, type[Source]]:
    """The kinds this package ships (plugins left out), in the order of ``BUILTIN_MODULES``."""
    known = kinds()
    return {kind: known[kind] for kind in BUILTIN_MODULES if known[kind].__module__ == BUILTIN_MODULES[kind]}


def find(kind: str) -> type[Source] | None:
    """The source class of ``kind``, None when unknown; a built-in kind imports its own module alone."""
    if kind not in _KINDS and kind in BUILTIN_MODULES:
        import_module(BUILTIN_MODULES[kind])  # registers the kind
    return _KINDS.get(kind) or kinds().get(kind)


def _kind(spec: dict[str, Any]) -> type[Source]:
    cls = find(spec["kind"])
    if cls is None:
        raise KeyError(f"unknown source kind {spec['kind']!r}; known kinds: {', '.join(sorted(kinds()))}")
    return cls


def _options(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in ("kind", "name", "interval_s", *POLLER_KEYS)}


def build(spec: dict[str, Any]) -> Source:
    """Build a source from its config entry (``kind``, ``name``, ``interval_s``, the poller's keys
    ``poll_timeout_s`` and ``max_rows``, adapter keys)."""
    poll_timeout_s = spec.get("poll_timeout_s")
    return _kind(spec)(
        name=spec["name"],
        interval_s=float(spec.get("interval_s", 30)),
        options=_options(spec),
        poll_timeout_s=float(poll_timeout_s) if poll_timeout_s else None,
        max_rows=int(spec.get("max_rows", DEFAULT_MAX_ROWS)),
    )


def offers(spec: dict[str, Any]) -> frozenset[str]:
    """The frames the source a config entry describes delivers, without building it."""
    return _kind(spec).offers(_options(spec))
