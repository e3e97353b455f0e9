"""Tab titles follow ?lang= on a page's first HTML, with the path's subject filled in."""

import pytest

from dashboard.app import create_app
from dashboard.core.settings import parse
from layouts.components.titles import page_title


@pytest.fixture
def app():
    return create_app(parse("sources:\n  - {kind: demo, name: demo}\n"))


@pytest.mark.parametrize(
    "query, expected", [("?lang=zh", "orders · 业务链路"), ("", "orders · chain"), ("?lang=xx", "orders · chain")]
)
def test_a_title_is_in_the_language_asked_for(app, query, expected):
    with app.server.test_request_context(f"/chain/orders{query}"):
        assert page_title("title.chain", "chain")(chain="orders") == expected


def test_the_subject_is_unquoted_and_cut(app):
    with app.server.test_request_context("/trace/x?lang=zh"):
        assert page_title("title.trace", "trace_id", limit=4)(trace_id="ab%20cdef") == "调用链 ab c"
