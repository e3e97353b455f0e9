"""What a page or callback may use: the settings and the frame store of the running app."""
from __future__ import annotations

from dataclasses import dataclass

import flask

from dashboard.settings import Settings
from dashboard.store import FrameStore


@dataclass
class Context:
    settings: Settings
    store: FrameStore


def current() -> Context:
    """Return the context of the app serving this request."""
    return flask.current_app.extensions["opscenter"]
