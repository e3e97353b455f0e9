"""Browser tab titles in the language a page is asked in (``?lang=``)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, unquote

import dash
import flask
from dash.exceptions import MissingCallbackContextException

from dashboard import context, ids
from dashboard.i18n import pick_lang, t


def requested_lang() -> str:
    """The language of the page being served, or being navigated to in the browser."""
    try:  # navigation in the browser: Dash's page callback carries the new URL's query string
        search = dash.ctx.inputs.get(f"{ids.PAGES_LOCATION}.search") or ""
        asked = parse_qs(search.lstrip("?")).get("lang", [None])[0]
    except (LookupError, MissingCallbackContextException):  # no callback: the page's first HTML
        asked = flask.request.args.get("lang")
    return pick_lang(asked, context.current().settings.language)


def page_title(key: str, subject: str | None = None, limit: int = 64) -> Callable[..., str]:
    """A ``register_page`` title: text ``key`` in the requested language, with the path variable
    ``subject`` (at most ``limit`` characters of it) filled in."""

    def title(**path_variables) -> str:
        return t(key, requested_lang(), subject=unquote(path_variables.get(subject) or "")[:limit])

    return title
