"""Who may call which Dash callback, decided on the app's own callback registry.

A callback request names its callback by ``output`` and sends its arguments by position; nothing
else in it is trusted. ``create_app`` registers each page module's callbacks inside
``page_callbacks(app, module)`` and the shell's inside ``shell_callbacks(app)``, so every server
callback in ``app.callback_map`` is recorded with the page whose readers may call it (the shell's:
every role). A page registers a callback that writes inside ``writes(app, action, target)``.
Dash's page router, registered by Dash itself, is known by its output and decides by the path at
its registered ``pathname`` input.

``check(identity, access)`` answers a request: 400 when it names no registered server callback or
does not send, position by position, the ids and properties the callback was registered with;
403 when the callback's page (for the router: the path asked for) is not the caller's to read, a
refused write or a refused read of a page in ``policy.AUDITED_READS`` audited first; None to let it run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import dash
import flask

from dashboard import ids
from dashboard.security import policy
from dashboard.security.access import AccessStore, Identity

REGISTRY = "opscenter.callbacks"
UNREGISTERED = "unregistered"  # the metric label of every request naming no registered callback
UNKNOWN_TARGET = "?"
MAX_TARGET = 128
EXPANDING = (["ALL"], ["ALLSMALLER"])  # pattern wildcards sent as a list of components
SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class Rule:
    """What the server knows of one callback."""

    page: str | None  # the policy page whose readers may call it; None: every role
    action: str | None = None  # the write it performs, named in policy.WRITERS
    target: Callable[..., Any] | None = None  # what it writes, from the callback's arguments
    pathname_at: int | None = None  # the page router: the input position of the path it serves


@dataclass
class _Registry:
    app: dash.Dash
    pages: dict[str, str | None] = field(default_factory=dict)
    writes: dict[str, tuple[str, Callable[..., Any] | None]] = field(default_factory=dict)


def _registry(app: dash.Dash) -> _Registry:
    return app.server.extensions.setdefault(REGISTRY, _Registry(app))


@contextmanager
def _recording(app: dash.Dash, record: Callable[[list[str]], None]) -> Iterator[None]:
    """Pass ``record`` the keys of the callbacks registered on ``app`` inside the block."""
    before = set(app.callback_map)
    yield
    record([key for key in app.callback_map if key not in before])


def page_callbacks(app: dash.Dash, module: str) -> AbstractContextManager[None]:
    """Record the callbacks registered inside the block as the page module ``module``'s: the readers
    of the page it registers (``policy.page_of`` its path) may call them."""

    def record(keys: list[str]) -> None:
        page = policy.page_of(dash.page_registry[module]["path"])
        _registry(app).pages.update(dict.fromkeys(keys, page))

    return _recording(app, record)


def shell_callbacks(app: dash.Dash) -> AbstractContextManager[None]:
    """Record the callbacks registered inside the block as the shell's, around every page: every role may call them."""
    return _recording(app, lambda keys: _registry(app).pages.update(dict.fromkeys(keys, None)))


def writes(app: dash.Dash, action: str, target: Callable[..., Any] | None = None) -> AbstractContextManager[None]:
    """Record the callbacks registered inside the block as performing ``action``; ``target``, given the
    callback's arguments, names what it writes, for the audit row of a refusal."""
    if action not in policy.WRITERS:
        raise ValueError(f"{action!r} is not a write named in policy.WRITERS")
    return _recording(app, lambda keys: _registry(app).writes.update(dict.fromkeys(keys, (action, target))))


def _router_pathname(entry: dict) -> int | None:
    """The input position of the path Dash's page router serves, when ``entry`` is that router."""
    outputs = entry["output"] if isinstance(entry["output"], list) else [entry["output"]]
    if not any(output.component_id == ids.PAGES_CONTENT for output in outputs):
        return None
    return next(
        i for i, d in enumerate(entry["inputs"]) if (d["id"], d["property"]) == (ids.PAGES_LOCATION, "pathname")
    )


def rule(app: dash.Dash, key: str) -> Rule | None:
    """The rule of the server callback registered under ``key`` (as ``app.callback_map`` keys it), else None."""
    registry, entry = _registry(app), app.callback_map.get(key)
    if entry is None or "callback" not in entry:
        return None
    if key in registry.pages:
        action, target = registry.writes.get(key, (None, None))
        return Rule(registry.pages[key], action, target)
    pathname_at = _router_pathname(entry)
    return None if pathname_at is None else Rule(None, pathname_at=pathname_at)


@dataclass(frozen=True)
class _Request:
    payload: dict
    key: str
    rule: Rule
    entry: dict  # as registered in app.callback_map


def _requested() -> _Request | None:
    """This callback request, when it names a registered server callback."""
    app = flask.current_app.extensions[REGISTRY].app
    payload = flask.request.get_json(silent=True)
    key = payload.get("output") if isinstance(payload, dict) else None
    found = rule(app, key) if isinstance(key, str) else None
    return _Request(payload, key, found, app.callback_map[key]) if found else None


def metric_label() -> str:
    """The callback this request names when it is registered, else UNREGISTERED (a bounded set of labels)."""
    request = _requested()
    return request.key if request else UNREGISTERED


def _fits(sent: Any, declared: dict) -> bool:
    """Whether ``sent`` is the registered dependency ``declared``: its id and property, or for a pattern
    id, components matching it (a list of them for ALL and ALLSMALLER)."""
    if not declared["id"].startswith("{"):
        return (
            isinstance(sent, dict) and sent.get("id") == declared["id"] and sent.get("property") == declared["property"]
        )
    pattern = json.loads(declared["id"])

    def matches(item: Any) -> bool:
        component = item.get("id") if isinstance(item, dict) else None
        return (
            isinstance(component, dict)
            and item.get("property") == declared["property"]
            and component.keys() == pattern.keys()
            and all(
                isinstance(component[k], SCALARS) if isinstance(want, list) else component[k] == want
                for k, want in pattern.items()
            )
        )

    if any(value in EXPANDING for value in pattern.values()):
        return isinstance(sent, list) and all(matches(item) for item in sent)
    return matches(sent)


def _well_formed(payload: dict, entry: dict) -> bool:
    """Whether the request sends, position by position, the outputs, inputs and state the callback declares."""
    outputs, sent_outputs = entry["output"], payload.get("outputs")
    if isinstance(outputs, list):
        if not isinstance(sent_outputs, list) or len(sent_outputs) != len(outputs):
            return False
        pairs = list(zip(sent_outputs, (output.to_dict() for output in outputs)))
    else:
        pairs = [(sent_outputs, outputs.to_dict())]
    for part in ("inputs", "state"):
        sent = payload.get(part, [])
        if not isinstance(sent, list) or len(sent) != len(entry[part]):
            return False
        pairs += zip(sent, entry[part])
    changed = payload.get("changedPropIds", [])
    return (
        isinstance(changed, list)
        and all(isinstance(prop_id, str) for prop_id in changed)
        and all(_fits(sent, declared) for sent, declared in pairs)
    )


def _target(request: _Request) -> str:
    """What a refused write would have written, from its arguments as Dash would pass them, else UNKNOWN_TARGET."""
    if request.rule.target is None:
        return UNKNOWN_TARGET
    payload = request.payload
    try:
        arguments = [
            [item.get("value") for item in sent] if isinstance(sent, list) else sent.get("value")
            for sent in [*payload.get("inputs", []), *payload.get("state", [])]
        ]
        return str(request.rule.target(*arguments))[:MAX_TARGET]
    except (LookupError, TypeError, AttributeError, ValueError):  # arguments not as the callback declares them
        return UNKNOWN_TARGET


def check(identity: Identity, access: AccessStore) -> int | None:
    """None when ``identity`` may run the callback this request names, else the status refusing it
    (400 or 403); a refused write callback is audited before the answer."""
    request = _requested()
    if request is None:
        return 400
    page = request.rule.page
    if not identity.roles or (page is not None and not policy.may_read(identity.roles, page)):
        if request.rule.action:
            access.refused(identity, request.rule.action, _target(request), {"callback": request.key})
        elif page is not None and (read := policy.refused_read_action(page)):
            access.refused(identity, read, page, {"callback": request.key})
        return 403
    if not _well_formed(request.payload, request.entry):
        return 400
    if request.rule.pathname_at is not None:
        path = request.payload["inputs"][request.rule.pathname_at].get("value")
        if not isinstance(path, str):
            return 400
        if not policy.may_read(identity.roles, path):
            if read := policy.refused_read_action(path):
                access.refused(identity, read, path[:MAX_TARGET], {"callback": request.key})
            return 403
    return None
