"""A page whose whole body is one function of the frames, redrawn when their versions change."""

from __future__ import annotations

from collections.abc import Callable

import dash
from dash import Input, Output, State, dcc, html

from dashboard import context, ids
from dashboard.i18n import pick_lang, t

Body = Callable[[str, dict | None], list]


def layout(lang: str | None, store_id: str, body_id: str, title_key: str, body: Body, class_name: str) -> html.Div:
    """The page: its language in a store, its title, and its body drawn now."""
    lang = pick_lang(lang, context.current().settings.language)
    return html.Div(
        [dcc.Store(id=store_id, data=lang), html.H1(t(title_key, lang)), html.Div(body(lang), id=body_id)],
        className=f"oc-page {class_name}",
    )


def register_refresh(app: dash.Dash, store_id: str, body_id: str, body: Body) -> None:
    """Redraw the body on ``app`` whenever the frame versions change."""

    @app.callback(
        Output(body_id, "children"), Input(ids.VERSIONS, "data"), State(store_id, "data"), prevent_initial_call=True
    )
    def refresh(versions, lang):
        return body(lang or "en", versions)
