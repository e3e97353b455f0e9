"""A tiny loopback HTTP server answering canned responses by path, recording every request."""
from __future__ import annotations

import json
import threading
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What a path answers: a status, a body (JSON-encoded unless bytes or str), an optional delay."""

    body: Any = None
    status: int = 200
    delay_s: float = 0.0
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return self.body.encode() if isinstance(self.body, str) else json.dumps(self.body).encode()


@dataclass
class Canned:
    url: str
    routes: dict[str, Any]
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)


@contextmanager
def canned_server(routes: dict[str, Any]):
    """Serve ``routes`` on a free port: path -> a Reply, a list answered in turn (the last repeated),
    or a function of the query parameters returning either."""
    state = Canned("", routes)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self):
            parts = urllib.parse.urlsplit(self.path)
            state.requests.append((self.command, parts.path, urllib.parse.parse_qs(parts.query)))
            reply = state.routes.get(parts.path, Reply({"error": "no such path"}, 404))
            if callable(reply):
                reply = reply(state.requests[-1][2])
            if isinstance(reply, list):
                reply = reply.pop(0) if len(reply) > 1 else reply[0]
            time.sleep(reply.delay_s)
            body = reply.encoded()
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                pass

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
