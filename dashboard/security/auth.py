"""Access control for every request, in one place.

``init_app(app, settings, access)`` installs one before_request hook. It works out who is
asking (mode ``none``: the local user on loopback, never a request a proxy forwarded;
``proxy``: the trusted header, from a trusted proxy only, never repeated; ``builtin``: the
server-side session of ``dashboard.security.login``; in ``proxy`` and ``builtin``, a wall's display
token too) and whether ``dashboard.security.policy`` lets them read the page, or
``dashboard.security.callbacks`` lets them call the callback. Static files, the login page and
``auth.open_paths`` stay open. Pages perform writes through ``audited()`` or ``audit()``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import dash
import flask
import sqlalchemy as sa
from markupsafe import escape

from dashboard.core.settings import AuthSettings, Settings
from dashboard.i18n import pick_lang, t
from dashboard.security import callbacks as callback_access
from dashboard.security import login, policy, serving
from dashboard.security.access import AccessStore, Forbidden, Identity
from dashboard.security.sessions import Sessions
from dashboard.security.throttle import Throttle

DISPLAY_COOKIE = "oc_display"
SESSION_COOKIE = "oc_session"
TOKEN_PARAM = "token"
DISPLAY_ROLES = frozenset({"viewer"})
DISPLAY_COOKIE_MAX_AGE = timedelta(days=400)
LOCAL_ROLES = frozenset({"admin"})
LOGIN_PATHS = ("/login", "/logout")
STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/_favicon.ico")
DASH_API = "/_dash-"
CALLBACK_PATH = "/_dash-update-component"
FORWARDING_HEADERS = (
    "Forwarded",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Real-IP",
    "X-Client-IP",
    "True-Client-IP",
    "X-Cluster-Client-IP",
    "CF-Connecting-IP",
    "Via",
)
REFUSALS = {400: "auth.malformed", 403: "auth.forbidden"}
log = logging.getLogger("opscenter.auth")


@dataclass(frozen=True)
class AuthState:
    """What the hook needs: the settings, the access records and (builtin mode) the sessions."""

    settings: Settings
    access: AccessStore
    sessions: Sessions | None = None


def state() -> AuthState:
    """The auth state of the app serving this request."""
    return flask.current_app.extensions["opscenter.auth"]


def current_identity() -> Identity | None:
    """Who is making this request (None outside a checked request)."""
    return flask.g.get("oc_identity")


@contextmanager
def audited(action: str, target: str, detail: dict[str, Any] | None = None) -> Iterator[sa.Connection]:
    """Check that the current user may perform ``action`` and yield a history-database connection
    whose transaction holds the audit row; a refusal is audited and answered with 403."""
    with state().access.audited(current_identity(), action, target, detail) as connection:
        yield connection


def audit(action: str, target: str, detail: dict[str, Any] | None = None) -> None:
    """Check and record a write the current user performs elsewhere; a refusal answers 403."""
    state().access.audit(current_identity(), action, target, detail)


def _address(raw: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(raw or "")
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def _proxy_person(settings: Settings) -> Identity | None:
    """The person named by the proxy's header, when the request really comes from a trusted proxy."""
    auth, request = settings.auth, flask.request
    address = _address(request.remote_addr)
    if address is None or not any(address in network for network in auth.trusted_proxies):
        return None
    user = request.headers.get(auth.user_header, "").strip()
    if not user:
        return None
    groups = request.headers.get(auth.groups_header, "") if auth.groups_header else ""
    roles = {auth.group_roles[g.strip()] for g in groups.split(",") if g.strip() in auth.group_roles}
    if not roles and auth.default_role:
        roles = {auth.default_role}
    return Identity(user[:128], frozenset(roles), "proxy", request.remote_addr)


def _session_person(sessions: Sessions) -> Identity | None:
    """The built-in user of this browser's live session, with the role the database gives them now."""
    user = sessions.user(flask.session.get(login.SESSION_ID, ""))
    return Identity(user.name, frozenset({user.role}), "user", flask.request.remote_addr) if user else None


def _forwarded() -> bool:
    """Whether a proxy says it forwarded this request."""
    return any(name in flask.request.headers for name in FORWARDING_HEADERS)


def _repeated_identity(auth: AuthSettings) -> bool:
    """Whether the identity or groups header came more than once: as a list of names in the user
    header (WSGI joins repeats with commas) or as the server's mark (``dashboard.security.serving``)."""
    names = {auth.user_header.lower()} | ({auth.groups_header.lower()} if auth.groups_header else set())
    return "," in flask.request.headers.get(auth.user_header, "") or bool(
        names & serving.repeated_headers(flask.request)
    )


def _identify(auth_state: AuthState) -> tuple[Identity | None, bool]:
    """Who is asking, and whether a display token was presented and refused."""
    settings, remote = auth_state.settings, flask.request.remote_addr
    if settings.auth.mode == "none":
        address = _address(remote)
        local = address is not None and address.is_loopback
        return (Identity("local", LOCAL_ROLES, "local", remote) if local else None), False
    person = _proxy_person(settings) if settings.auth.mode == "proxy" else _session_person(auth_state.sessions)
    if person:
        return person, False
    secret = flask.request.cookies.get(DISPLAY_COOKIE)
    if not secret:
        return None, False
    name = auth_state.access.display_token(secret)
    return (Identity(f"display:{name}", DISPLAY_ROLES, "display", remote), False) if name else (None, True)


def _refusal(identity: Identity, access: AccessStore) -> int | None:
    """None when the policy lets ``identity`` make this request, else the status refusing it."""
    path = flask.request.path
    if path == CALLBACK_PATH:
        return callback_access.check(identity, access)
    if path.startswith(DASH_API):
        return None if identity.roles else 403
    return None if policy.may_read(identity.roles, path) else 403


def _same_site() -> bool:
    """Whether a state-changing request comes from this site (the browser says so, or its Origin matches)."""
    request = flask.request
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return True
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def refuse(status: int, message_key: str) -> flask.Response:
    """A refusal in the caller's terms: JSON for Dash's endpoints, a small page otherwise."""
    settings = state().settings
    lang = pick_lang(flask.request.args.get("lang"), settings.language)
    message = t(message_key, lang)
    if flask.request.path.startswith(DASH_API):
        return flask.Response(json.dumps({"error": message}), status=status, mimetype="application/json")
    return flask.Response(
        login.page(settings.center_name, lang, f'<p class="oc-auth-message" role="alert">{escape(message)}</p>'),
        status=status,
        mimetype="text/html",
    )


def _same_page_without_token() -> str | None:
    """The address of this request's page without the token, built by the route it matched (so
    always one leading ``/`` and a quoted path); None for a path no route serves or one holding
    control characters."""
    request = flask.request
    if request.url_rule is None or request.routing_exception is not None or login.CONTROL.search(request.path):
        return None
    query = urlencode([(k, v) for k, v in request.args.items(multi=True) if k != TOKEN_PARAM])
    return flask.url_for(request.endpoint, **(request.view_args or {})) + (f"?{query}" if query else "")


def _adopt_display_token(auth_state: AuthState, secret: str) -> flask.Response:
    """Swap a ``?token=`` for a cookie and reload the same address without the token."""
    if not auth_state.access.display_token(secret):
        response = refuse(401, "auth.display_invalid")
        response.delete_cookie(DISPLAY_COOKIE)
        return response
    target = _same_page_without_token()
    if target is None:
        return flask.Response("Not Found", status=404, mimetype="text/plain")
    response = flask.redirect(target)
    response.set_cookie(
        DISPLAY_COOKIE,
        secret,
        max_age=DISPLAY_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=auth_state.settings.auth.cookie_secure,
    )
    return response


def _unauthenticated(auth_state: AuthState, display_refused: bool) -> flask.Response:
    mode, request = auth_state.settings.auth.mode, flask.request
    if mode == "none":
        return refuse(403, "auth.loopback_only")
    if display_refused:
        response = refuse(401, "auth.display_invalid")
        response.delete_cookie(DISPLAY_COOKIE)
        return response
    if mode == "builtin" and not request.path.startswith(DASH_API):
        return flask.redirect("/login?" + urlencode({"next": request.full_path.rstrip("?")}))
    return refuse(401, "auth.required")


def check_request() -> flask.Response | None:
    """The enforcement point: let the request through, or answer it with a redirect, 401 or 403."""
    auth_state, request = state(), flask.request
    settings = auth_state.settings.auth
    path = request.path
    if path.startswith(STATIC_PREFIXES) or path in settings.open_paths:
        return None
    if not _same_site():
        return refuse(403, "auth.cross_site")
    if settings.mode == "builtin" and path in LOGIN_PATHS:
        return None
    if settings.mode == "none" and _forwarded():
        return refuse(403, "auth.forwarded")
    if settings.mode == "proxy" and _repeated_identity(settings):
        log.warning("refused %s %s: repeated identity header from %s", request.method, path, request.remote_addr)
        return refuse(400, "auth.repeated_header")
    secret = request.args.get(TOKEN_PARAM)
    if (
        secret is not None
        and settings.mode != "none"
        and request.method in ("GET", "HEAD")
        and not path.startswith(DASH_API)
    ):
        return _adopt_display_token(auth_state, secret)
    identity, display_refused = _identify(auth_state)
    if identity is None:
        return _unauthenticated(auth_state, display_refused)
    flask.g.oc_identity = identity
    status = _refusal(identity, auth_state.access)
    action = policy.refused_read_action(path) if status == 403 and path != CALLBACK_PATH else None
    if action:
        auth_state.access.refused(identity, action, path[: callback_access.MAX_TARGET], {"method": request.method})
    if status:
        log.info(
            "refused %s %s to %s (%s): %d",
            request.method,
            path,
            identity.name,
            ",".join(sorted(identity.roles)),
            status,
        )
        return refuse(status, REFUSALS[status])
    return None


def init_app(app: dash.Dash, settings: Settings, access: AccessStore) -> None:
    """Guard every request of ``app`` according to ``settings.auth``."""
    server = app.server
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.auth.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.auth.session_hours),
    )
    sessions = None
    if settings.auth.mode == "builtin":
        server.secret_key = settings.auth.secret_key
        sessions = Sessions(
            access,
            idle=timedelta(minutes=settings.auth.session_idle_minutes),
            lifetime=timedelta(hours=settings.auth.session_hours),
        )
        login.register(server, settings, access, sessions, Throttle(settings.redis_url, settings.deployment))
    server.extensions["opscenter.auth"] = AuthState(settings, access, sessions)
    server.before_request(check_request)
    server.register_error_handler(Forbidden, lambda _exc: refuse(403, "auth.forbidden"))
