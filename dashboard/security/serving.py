"""What opscenter's HTTP servers tell the app beyond WSGI: which header fields a request repeated.

WSGI joins a repeated header field into one comma-separated value, so a proxy that adds its
``X-Forwarded-Groups`` beside a copy the client sent would hand the app one longer list. The
servers opscenter starts note the names of repeated fields in the REPEATED_MARK header (after
dropping any copy of it the client sent): ``RequestHandler`` for ``opscenter run``'s werkzeug
server, ``mark_repeated`` as gunicorn's ``pre_request`` hook (``dashboard.gunicorn_conf``).
``auth`` refuses a request whose identity headers were repeated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import flask
from werkzeug.serving import WSGIRequestHandler

REPEATED_MARK = "X-Opscenter-Repeated-Headers"
_ENVIRON_KEY = "HTTP_" + REPEATED_MARK.upper().replace("-", "_")


def _repeated(names: Iterable[str]) -> str:
    """The lower-cased names that occur more than once, comma-separated (the mark itself left out)."""
    counts = Counter(name.lower() for name in names if name.lower() != REPEATED_MARK.lower())
    return ",".join(sorted(name for name, count in counts.items() if count > 1))


def repeated_headers(request: flask.Request) -> set[str]:
    """The lower-cased names of the header fields the server saw more than once in ``request``."""
    return {name for name in request.headers.get(REPEATED_MARK, "").split(",") if name}


class RequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, noting repeated header fields in the environ."""

    def make_environ(self):
        environ = super().make_environ()
        environ.pop(_ENVIRON_KEY, None)
        repeated = _repeated(self.headers.keys())
        if repeated:
            environ[_ENVIRON_KEY] = repeated
        return environ


def mark_repeated(_worker, request) -> None:
    """gunicorn's ``pre_request`` hook: the same note, made on the parsed request's header list."""
    request.headers = [(name, value) for name, value in request.headers if name != REPEATED_MARK.upper()]
    repeated = _repeated(name for name, _value in request.headers)
    if repeated:
        request.headers.append((REPEATED_MARK.upper(), repeated))
