"""The thin HTTP transport shared by the HTTP sources: JSON over GET and POST.

Timeouts, bounded retries with exponential back-off (connection failures,
timeouts, 429 and 5xx), auth from config values (given as ``${ENV}``): basic
(``username`` with ``password`` or ``token``), ``bearer_token``, or a bare
``token`` sent with the source's scheme; a TLS verification switch and a
response size limit. Links are followed only on the source's own host. Every
failure is a ``SourceError`` naming the source, the URL (without credentials)
and the cause.
"""
from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from datasources.base import SourceError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_BYTES = 64 * 2**20
OPTION_KEYS = ("url", "bearer_token", "token", "username", "password", "tls_verify", "timeout_s", "retries",
               "backoff_s", "max_bytes")


class ResponseTooLarge(SourceError):
    """The answer was bigger than the configured limit."""


class HttpError(SourceError):
    """The server answered with an HTTP error status; ``body`` is the start of its answer."""

    def __init__(self, message: str, status: int, body: bytes):
        super().__init__(message)
        self.status, self.body = status, body


@dataclass
class HttpClient:
    """JSON requests against one base URL on behalf of the source ``source``."""

    source: str
    base_url: str
    timeout_s: float = 10.0
    retries: int = 2
    backoff_s: float = 0.25
    max_bytes: int = DEFAULT_MAX_BYTES
    tls_verify: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    requests_sent: int = 0
    _count_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_options(cls, source: str, options: dict[str, Any], token_scheme: str = "Bearer") -> "HttpClient":
        """Build from a source's options: url, auth, tls_verify, timeout_s, retries, backoff_s, max_bytes."""
        url = options.get("url")
        if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise SourceError(f"{source}: option 'url' must be an http(s) URL, got {url!r}")
        parts = urllib.parse.urlsplit(url)
        headers = {"Accept": "application/json", "User-Agent": "opscenter"}
        username = options.get("username") or urllib.parse.unquote(parts.username or "")
        secret = options.get("password") or options.get("token") or urllib.parse.unquote(parts.password or "")
        url = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        if options.get("bearer_token"):
            headers["Authorization"] = f"Bearer {options['bearer_token']}"
        elif username:
            pair = f"{username}:{secret or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        elif options.get("token"):
            headers["Authorization"] = f"{token_scheme} {options['token']}"
        try:
            return cls(source=source, base_url=url.rstrip("/"), timeout_s=float(options.get("timeout_s", 10)),
                       retries=int(options.get("retries", 2)), backoff_s=float(options.get("backoff_s", 0.25)),
                       tls_verify=bool(options.get("tls_verify", True)),
                       max_bytes=int(options.get("max_bytes", DEFAULT_MAX_BYTES)), headers=headers)
        except (TypeError, ValueError) as exc:
            raise SourceError(f"{source}: bad transport option: {exc}") from None

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` with query ``params``; return the decoded JSON."""
        return self.request("GET", path, params)

    def get_with_headers(self, path: str, params: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """GET ``path``; return the decoded JSON and the response headers (for paging links)."""
        return self._exchange("GET", path, params, None)

    def post(self, path: str, body: Any, params: dict[str, Any] | None = None) -> Any:
        """POST ``body`` as JSON; return the decoded JSON answer (None when empty)."""
        return self.request("POST", path, params, body)

    def request(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None) -> Any:
        return self._exchange(method, path, params, body)[0]

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this source; an absolute link to another host is refused."""
        if not urllib.parse.urlsplit(path).scheme:
            return f"{self.base_url}/{path.lstrip('/')}"
        if urllib.parse.urlsplit(path)[:2] != urllib.parse.urlsplit(self.base_url)[:2]:
            raise SourceError(f"{self.source}: refusing to follow {_shown(path)} off {_shown(self.base_url)}")
        return path

    def _exchange(self, method: str, path: str, params: dict[str, Any] | None, body: Any) -> tuple[Any, Any]:
        url = self.url(path)
        full = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params, doseq=True)}" if params else url
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, **({"Content-Type": "application/json"} if data is not None else {})}
        for attempt in range(self.retries + 1):
            try:
                raw, answer_headers = self._send(
                    urllib.request.Request(full, data=data, headers=headers, method=method), url)
                break
            except SourceError as exc:
                final = isinstance(exc, ResponseTooLarge) or (
                    isinstance(exc, HttpError) and exc.status not in RETRY_STATUSES)
                if final or attempt == self.retries:
                    raise
                time.sleep(self.backoff_s * 2**attempt)
        if not raw.strip():
            return None, answer_headers
        try:
            return json.loads(raw), answer_headers
        except ValueError as exc:
            raise SourceError(f"{self.source}: {method} {_shown(url)}: invalid JSON: {exc}") from None

    def _send(self, request: urllib.request.Request, url: str) -> tuple[bytes, Any]:
        where = f"{self.source}: {request.get_method()} {_shown(url)}"
        context = None
        if url.startswith("https:") and not self.tls_verify:
            context = ssl._create_unverified_context()
        with self._count_lock:
            self.requests_sent += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s, context=context) as response:
                return self._read(response, where), response.headers
        except urllib.error.HTTPError as exc:
            body = exc.read(2048) if exc.fp else b""
            exc.close()
            snippet = body[:300].decode("utf-8", "replace").strip()
            raise HttpError(f"{where}: HTTP {exc.code} {exc.reason}" + (f": {snippet}" if snippet else ""),
                            exc.code, body) from None
        except urllib.error.URLError as exc:
            raise SourceError(f"{where}: {self._reason(exc.reason)}") from None
        except OSError as exc:  # timeouts and resets while reading
            raise SourceError(f"{where}: {self._reason(exc)}") from None

    def _read(self, response, where: str) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise _oversize(where, self.max_bytes)
        raw = response.read(self.max_bytes + 1)
        if len(raw) > self.max_bytes:
            raise _oversize(where, self.max_bytes)
        return raw

    def _reason(self, reason: Any) -> str:
        """A short cause: 'connection refused', 'timed out after N s', else the exception's text."""
        if isinstance(reason, ConnectionRefusedError):
            return "connection refused"
        if isinstance(reason, (TimeoutError, socket.timeout)):
            return f"timed out after {self.timeout_s:g} s"
        if isinstance(reason, ssl.SSLError):
            return f"TLS error: {reason.reason or reason}"
        if isinstance(reason, socket.gaierror):
            return f"cannot resolve host: {reason.strerror}"
        return str(reason)


def _shown(url: str) -> str:
    """A URL without user info or query, safe to put in an error."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def _oversize(where: str, limit: int) -> ResponseTooLarge:
    return ResponseTooLarge(f"{where}: response larger than the limit of {limit:,} bytes (option max_bytes)")
