"""`opscenter run`'s HTTP server tells the app which header fields a request repeated."""

import http.client
import threading

import flask
import pytest
from werkzeug.serving import make_server

from dashboard.security import serving


@pytest.fixture
def server():
    app = flask.Flask(__name__)

    @app.get("/")
    def echo():
        return {
            "repeated": sorted(serving.repeated_headers(flask.request)),
            "groups": flask.request.headers.get("X-Forwarded-Groups"),
        }

    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=serving.RequestHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    thread.join()


def _get(port: int, headers: list[tuple[str, str]]) -> dict:
    import json

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("GET", "/")
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


def test_repeated_header_fields_are_named(server):
    answer = _get(
        server,
        [("X-Forwarded-Groups", "ops-viewers"), ("x-forwarded-groups", "ops-platform"), ("X-Forwarded-User", "vera")],
    )
    assert answer == {"repeated": ["x-forwarded-groups"], "groups": "ops-viewers,ops-platform"}


def test_a_client_cannot_forge_or_hide_the_mark(server):
    forged = [(serving.REPEATED_MARK, "x-forwarded-user"), ("X-Forwarded-User", "vera")]
    assert _get(server, forged)["repeated"] == []
