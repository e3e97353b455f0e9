"""/service: a refresh redraws when anything the page shows has changed, and only then."""

import pandas as pd
import pytest

from dashboard import context
from dashboard.core import timewindow
from layouts.pages import service
from tests.demo_app import polled_demo_app

NOW = pd.Timestamp("2026-11-18 02:05", tz="UTC").to_pydatetime()


@pytest.fixture(scope="module")
def app():
    return polled_demo_app(clock=lambda: NOW)


def _digest(app, name, window, **frames) -> str:
    """The page's digest of ``name`` with some of the store's frames replaced by ``frames``."""
    with app.server.test_request_context(f"/service/{name}"), pytest.MonkeyPatch.context() as patch:
        store = context.current().store
        real = store.frame
        patch.setattr(
            store, "frame", lambda frame, *args, **kw: frames[frame] if frame in frames else real(frame, *args, **kw)
        )
        return service.model(name, window, None).digest


def test_a_change_of_an_event_s_label_or_detail_alone_redraws_the_page(app):
    window = timewindow.resolve("now-7d", "now", NOW)
    with app.server.test_request_context("/"):
        incidents = context.current().store.frame("incidents")
    shown = incidents[incidents["opened_at"].between(window.start, window.end)]
    assert len(shown)
    name = shown["service"].iloc[0]
    before = _digest(app, name, window)
    assert _digest(app, name, window) == before  # nothing changed: nothing redrawn
    raised = incidents.assign(
        priority=incidents["priority"].where(incidents["service"] != name, 1 + (incidents["priority"] % 4))
    )
    assert _digest(app, name, window, incidents=raised) != before
    titled = incidents.assign(title=incidents["title"].where(incidents["service"] != name, "renamed"))
    assert _digest(app, name, window, incidents=titled) != before
