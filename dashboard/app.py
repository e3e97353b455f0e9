"""The application factory: ``create_app(settings)`` returns a Dash app ready to serve."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import dash
import flask
from dash import ALL, ClientsideFunction, Input, Output, State, dcc, html

from dashboard import build, context, ids
from dashboard.context import Context
from dashboard.core import metrics
from dashboard.core.settings import Settings
from dashboard.core.status import is_stale, newest_success
from dashboard.core.store import FrameStore, open_store
from dashboard.i18n import LANGUAGES, t, template
from dashboard.security import auth, headers, policy
from dashboard.security import callbacks as callback_access
from dashboard.security.access import AccessStore
from layouts.pages import (
    audit,
    capacity,
    chain,
    chaos,
    incident,
    incidents,
    maturity,
    not_found_404,
    preplans,
    service,
    slo,
    sources,
    trace,
    wall,
)
from layouts.pages import (
    service_catalogue as catalogue,
)

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PAGES = (
    wall,
    sources,
    chain,
    service,
    trace,
    incidents,
    incident,
    preplans,
    chaos,
    capacity,
    catalogue,
    maturity,
    audit,
    slo,
    not_found_404,
)
NAV_PAGES = ("wall", "sources", "incidents", "preplans", "chaos", "maturity", "capacity", "slo", "catalogue", "audit")


def nav_text(default_lang: str) -> dict:
    """The navigation's labels in every language and the configured one, for the browser to pick by ``?lang=``."""
    return {
        "default": default_lang,
        "labels": {lang: {page: t(f"nav.{page}", lang) for page in NAV_PAGES} for lang in LANGUAGES},
    }


def nav_class(shown: bool) -> str:
    """The class of a navigation link, hidden for a caller whose roles may not read its page."""
    return "oc-nav-link" if shown else "oc-nav-link oc-nav-hidden"


def liveness(settings: Settings) -> html.Div:
    """What ``assets/liveness.js`` needs to say in every language that the server stopped answering:
    how often to ask ``/health``, the display time zone, the configured language and the texts; and the
    build the page was drawn by, to reload it when the server runs another."""
    texts = {lang: {"lost": template("live.lost", lang), "retrying": t("live.retrying", lang)} for lang in LANGUAGES}
    return html.Div(
        id=ids.LIVENESS,
        hidden=True,
        **{
            "data-interval-ms": str(int(settings.refresh_s * 1000)),
            "data-tz": settings.display_tz,
            "data-build": build.build_id(),
            "data-lang": settings.language,
            "data-text": json.dumps(texts, ensure_ascii=False),
        },
    )


def shell(settings: Settings) -> html.Div:
    """The page shell: navigation, the page container, one interval, the versions store, the playlists,
    what the liveness check needs."""
    nav = html.Nav(
        [
            html.Span(settings.center_name, className="oc-brand"),
            *(
                dcc.Link(
                    t(f"nav.{page}", settings.language),
                    href=f"/{page}",
                    className=nav_class(f"/{page}" not in policy.PAGE_READERS),  # restricted: readable_pages shows it
                    id={"type": ids.NAV_LINK, "page": page},
                )
                for page in NAV_PAGES
            ),
            html.Span(className="oc-clock", **{"data-tz": settings.display_tz, "data-label": settings.display_tz}),
        ],
        id=ids.NAV,
        className="oc-nav",
    )
    return html.Div(
        [
            nav,
            html.Main(dash.page_container, className="oc-main"),
            dcc.Interval(id=ids.TICK, interval=int(settings.refresh_s * 1000)),
            dcc.Store(id=ids.VERSIONS, data={}),
            dcc.Store(id=ids.PLAYLISTS, data=settings.playlists),
            dcc.Store(id=ids.NAV_TEXT, data=nav_text(settings.language)),
            dcc.Location(id=ids.PLAYLIST_NAV, refresh="callback-nav"),
            liveness(settings),
        ],
        id=ids.SHELL,
        className="oc-shell",
    )


def _register_versions(app: dash.Dash) -> None:
    @app.callback(Output(ids.VERSIONS, "data"), Input(ids.TICK, "n_intervals"), State(ids.VERSIONS, "data"))
    def refresh_versions(_n, known):
        """The cheap poll every page listens to: frame versions, stale sources, when the newest data was polled."""
        ctx = context.current()
        now = datetime.now(UTC)
        statuses = ctx.store.statuses()
        current = {
            "frames": ctx.store.versions(),
            "stale": sorted(s for s in ctx.settings.source_names if is_stale(statuses.get(s), now)),
            "as_of": newest_success(statuses),
        }
        return dash.no_update if current == known else current


def _register_nav_access(app: dash.Dash) -> None:
    @app.callback(Output({"type": ids.NAV_LINK, "page": ALL}, "className"), Input(ids.NAV_TEXT, "data"))
    def readable_pages(_text):
        """Show the caller the links to the pages their roles may read (the shell starts with the links every
        role may follow); the access check still decides every request."""
        identity = auth.current_identity()
        roles = identity.roles if identity else frozenset()
        return [nav_class(policy.may_read(roles, f"/{output['id']['page']}")) for output in dash.ctx.outputs_list]


def _register_display(app: dash.Dash) -> None:
    """Kiosk mode, the navigation's language and playlist rotation, in the browser: all follow the URL."""
    app.clientside_callback(
        ClientsideFunction("opscenter", "shellClass"),
        Output(ids.SHELL, "className"),
        Input(ids.PAGES_LOCATION, "search"),
    )
    app.clientside_callback(
        ClientsideFunction("opscenter", "navigation"),
        Output({"type": ids.NAV_LINK, "page": ALL}, "children"),
        Output({"type": ids.NAV_LINK, "page": ALL}, "href"),
        Input(ids.PAGES_LOCATION, "search"),
        State(ids.NAV_TEXT, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("opscenter", "rotate"),
        Output(ids.PLAYLIST_NAV, "href"),
        Input(ids.TICK, "n_intervals"),
        State(ids.PAGES_LOCATION, "pathname"),
        State(ids.PAGES_LOCATION, "search"),
        State(ids.PLAYLISTS, "data"),
        prevent_initial_call=True,
    )


def _register_routes(server: flask.Flask) -> None:
    @server.get("/health")
    def health():
        ctx: Context = server.extensions["opscenter"]
        now = datetime.now(UTC)
        store_ok = ctx.store.ping()
        sources_state = {}
        if store_ok:
            for name in ctx.settings.source_names:
                status = ctx.store.status(name) or {}
                sources_state[name] = {
                    "ok": bool(status.get("ok")),
                    "stale": is_stale(status or None, now),
                    "last_success": status.get("last_success"),
                    "error": status.get("error"),
                    "rows": status.get("rows", 0),
                }
        body = {
            "status": "ok" if store_ok else "store_unavailable",
            "build": build.build_id(),
            "store": {"backend": ctx.store.backend, "ok": store_ok},
            "sources": sources_state,
        }
        return flask.Response(json.dumps(body), status=200 if store_ok else 503, mimetype="application/json")

    @server.get("/metrics")
    def prometheus_metrics():
        return flask.Response(metrics.render(), content_type=metrics.CONTENT_TYPE)

    @server.before_request
    def start_timer():
        flask.g.oc_started = time.perf_counter()
        if flask.request.path == "/":
            query = flask.request.query_string.decode()
            return flask.redirect("/wall" + (f"?{query}" if query else ""))
        return None

    @server.after_request
    def time_callbacks(response):
        if flask.request.path.endswith("/_dash-update-component"):
            metrics.observe_callback(callback_access.metric_label(), time.perf_counter() - flask.g.oc_started)
        return response


def create_app(
    settings: Settings,
    store: FrameStore | None = None,
    access: AccessStore | None = None,
    clock: Callable[[], datetime] | None = None,
) -> dash.Dash:
    """Build the Dash app on ``settings``; the store and the access records default to the ones
    the settings name; ``clock`` (default: the system's, in UTC) is the "now" of pages that ask."""
    store = store or open_store(settings.redis_url, settings.deployment, settings.source_names, settings.frame_limit_mb)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        suppress_callback_exceptions=True,
        title=settings.center_name,
        update_title=None,
    )
    access = access or AccessStore(settings.database_url)
    app.server.extensions["opscenter"] = Context(
        settings=settings, store=store, history=access.engine, **({"clock": clock} if clock else {})
    )
    for page in PAGES:
        with callback_access.page_callbacks(app, page.__name__):
            page.register(app)
    app.layout = shell(settings)
    with callback_access.shell_callbacks(app):
        _register_versions(app)
        _register_nav_access(app)
        _register_display(app)
    _register_routes(app.server)
    auth.init_app(app, settings, access)
    headers.init_app(app)
    return app
