"""The page for any URL that names nothing: a clear message, never a traceback."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import context
from dashboard.i18n import pick_lang, t
from layouts.components.titles import page_title


def layout(lang: str | None = None, **_query) -> html.Div:
    lang = pick_lang(lang, context.current().settings.language)
    return html.Div(
        [
            html.H1(t("notfound.title", lang)),
            html.P(t("notfound.body", lang), id="oc-not-found"),
            dcc.Link(t("notfound.back", lang), href="/wall"),
        ],
        className="oc-page oc-not-found",
    )


def register(app: dash.Dash) -> None:
    dash.register_page(__name__, path="/404", layout=layout, title=page_title("title.not_found"))
