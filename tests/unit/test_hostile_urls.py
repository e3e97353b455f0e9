"""Every page that takes a value from its URL answers a hostile one with its clear message, never a traceback."""

import pytest
from dash import dcc, html
from dash.development.base_component import Component

from layouts.pages import audit, chain, chaos, incident, service, trace
from tests.demo_app import polled_demo_app

HOSTILE = ["<script>alert(1)</script>", 'x"} or up{job=~".+', "' OR '1'='1", "../../etc/passwd", "a\x00b", "x" * 300]
# page, the layout's keyword arguments for one hostile value, the text its message starts with
PAGES = [
    ("chain", chain.layout, lambda v: {"chain": v}),
    ("chain window", chain.layout, lambda v: {"chain": "equity-trading", "from": v}),
    ("service", service.layout, lambda v: {"service": v}),
    ("service chain", service.layout, lambda v: {"service": "quote-service", "chain": v}),
    ("service window", service.layout, lambda v: {"service": "quote-service", "to": v}),
    ("trace", trace.layout, lambda v: {"trace_id": v}),
    ("trace service", trace.layout, lambda v: {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "service": v}),
    ("incident", incident.layout, lambda v: {"incident_id": v}),
    ("audit actor", audit.layout, lambda v: {"actor": v}),
    ("audit action", audit.layout, lambda v: {"action": v}),
    ("audit window", audit.layout, lambda v: {"from": v}),
    ("audit page", audit.layout, lambda v: {"page": v}),
]


def html_sinks(node) -> list[str]:
    """Every string in a component tree that the browser would read as HTML or as a link target."""
    if isinstance(node, (list, tuple)):
        return [found for child in node for found in html_sinks(child)]
    if not isinstance(node, Component):
        return []
    found = []
    if isinstance(node, dcc.Markdown) and getattr(node, "dangerously_allow_html", False):
        found.append(str(node.children))
    found += [
        str(getattr(node, prop)) for prop in ("srcDoc", "href", "src") if isinstance(getattr(node, prop, None), str)
    ]
    return found + html_sinks(getattr(node, "children", None))


def echoes(page, value: str) -> bool:
    """Whether ``value`` reaches the page as markup or as a link target rather than as text."""
    return any(value in sink or sink.lower().startswith("javascript:") for sink in html_sinks(page))


def test_the_check_catches_a_page_that_echoes_markup():
    value = HOSTILE[0]
    assert echoes(html.Div([html.P("ok"), dcc.Markdown(value, dangerously_allow_html=True)]), value)
    assert echoes(html.Iframe(srcDoc=value), value) and echoes(html.A("x", href="javascript:alert(1)"), value)
    assert not echoes(html.Div([html.P(value), dcc.Markdown(value)]), value)


@pytest.fixture(scope="module")
def app():
    return polled_demo_app()


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name, layout, kwargs", PAGES, ids=[p[0] for p in PAGES])
def test_a_hostile_value_gets_the_pages_clear_message(app, name, layout, kwargs, value):
    with app.server.test_request_context("/"):
        page = layout(**kwargs(value))
    text = str(page)
    assert "This address is not valid" in text and "expected" in text and "Traceback" not in text
    assert not echoes(page, value)


@pytest.mark.parametrize("value", HOSTILE)
def test_a_hostile_chaos_window_gets_its_message(app, value):
    with app.server.test_request_context("/"):
        assert "Time window not understood" in str(chaos.layout(**{"from": value}))


def test_the_message_is_translated(app):
    with app.server.test_request_context("/"):
        assert "此地址无效" in str(chain.layout(chain="<x>", lang="zh"))
