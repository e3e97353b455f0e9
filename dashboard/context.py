"""What a page or callback may use: the settings and the frame store of the running app."""
from __future__ import annotations

from dataclasses import dataclass, field

import flask

from dashboard.memo import Memo
from dashboard.settings import Settings
from dashboard.store import FrameStore


@dataclass
class Context:
    settings: Settings
    store: FrameStore
    memo: Memo = field(default_factory=Memo)  # per-version results shared by the worker's viewers


def current() -> Context:
    """Return the context of the app serving this request."""
    return flask.current_app.extensions["opscenter"]
