"""A loopback HTTP server answering from recorded payloads or a stateful fake, so adapters run their real
transport."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).with_name("fixtures")


def recorded(*parts: str) -> dict:
    """A recorded payload under tests/fixtures."""
    return json.loads(FIXTURES.joinpath(*parts).read_text(encoding="utf-8"))


@dataclass
class Reply:
    body: object
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: object = None
    method: str = "GET"


@contextmanager
def serve(answer: Callable[[Request, str], Reply]):
    """Serve ``answer(request, base_url)`` on a free loopback port; yield (base_url, requests seen)."""
    seen: list[Request] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.answer(None)

        def do_POST(self):
            self.answer(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null"))

        do_PUT = do_PATCH = do_DELETE = do_POST

        def answer(self, body):
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            request = Request(parts.path, query, dict(self.headers), body, self.command)
            seen.append(request)
            reply = answer(request, base_url)
            body = json.dumps(reply.body).encode() if not isinstance(reply.body, bytes) else reply.body
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url, seen
    finally:
        server.shutdown()
        server.server_close()
