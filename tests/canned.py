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
    """What a path answers: a status, a body (JSON-encoded unless bytes or str), an optional delay,
    extra headers, and ``drip_s``: send the body one byte every that many seconds."""

    body: Any = None
    status: int = 200
    delay_s: float = 0.0
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    drip_s: float = 0.0

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return self.body.encode() if isinstance(self.body, str) else json.dumps(self.body).encode()


@dataclass
class Canned:
    url: str
    routes: dict[str, Any]
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)  # each request's Authorization header
    peers: list[tuple[str, int]] = field(default_factory=list)  # each request's client address (one per connection)
    stopping: threading.Event = field(default_factory=threading.Event)


@contextmanager
def canned_server(routes: dict[str, Any], host: str = "127.0.0.1"):
    """Serve ``routes`` on a free port of ``host``: path -> a Reply, a list answered in turn (the last
    repeated), or a function of the query parameters returning either."""
    state = Canned("", routes)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def _answer(self):
            parts = urllib.parse.urlsplit(self.path)
            state.requests.append((self.command, parts.path, urllib.parse.parse_qs(parts.query)))
            state.authorizations.append(self.headers.get("Authorization"))
            state.peers.append(self.client_address)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))  # a POST's body, so the connection can go on
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
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self._send_body(body, reply.drip_s)
            except OSError:
                pass

        def _send_body(self, body: bytes, drip_s: float):
            if not drip_s:
                return self.wfile.write(body)
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                if state.stopping.wait(drip_s):
                    return

        do_GET = do_POST = _answer

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    state.url = f"http://{host}:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        server.shutdown()
        server.server_close()
