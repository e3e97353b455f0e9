"""The one HTTP transport of every HTTP source (the Kubernetes API included): JSON over GET and POST.

A ``requests.Session`` per source keeps connections alive. urllib3's ``Retry`` retries connection
failures, timeouts, 429 and 5xx with exponential back-off, honouring ``Retry-After`` (at most
``MAX_RETRY_AFTER_S``); a request sent with ``resend=False`` (one that adds something, such as a note)
is retried only when it never reached the server, since a timed-out attempt may have been applied.
Auth comes from config values (given as ``${ENV}``): basic (``username`` with ``password`` or
``token``), ``bearer_token``, or a bare ``token`` sent with the source's scheme; a TLS verification
switch (or a CA file) and a client certificate.

Every source is hostile until parsed. Credentials go only to the source's origin (scheme, host and
port): a redirect is followed only there, and a redirect or link anywhere else is refused.
``timeout_s`` bounds each attempt's whole answer, not each read: at its deadline the connection is
shut down, however slowly the server drips; a poll's own deadline (``base.poll_deadline``) cuts
it shorter. The body is streamed, decompressed in small steps, and refused once it passes
``max_bytes``; JSON nested too deeply is refused too. Every failure is a ``SourceError`` naming
the source, the URL (without credentials or query) and the cause.
"""

from __future__ import annotations

import base64
import contextvars
import json
import socket
import ssl
import threading
import urllib.parse
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from datasources.base import DEFAULT_TIMEOUT_S, SourceError, current_poll_deadline

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_MAX_BYTES = 64 * 2**20
MAX_RETRY_AFTER_S = 30.0
MAX_REDIRECTS = 5
CHUNK_BYTES = 64 * 2**10
ERROR_BODY_BYTES = 64 * 2**10  # what is kept of an error answer, for its message
DEFAULT_PORTS = {"http": 80, "https": 443}
OPTION_KEYS = (
    "url",
    "bearer_token",
    "token",
    "username",
    "password",
    "tls_verify",
    "timeout_s",
    "retries",
    "backoff_s",
    "max_bytes",
)


class ResponseTooLarge(SourceError):
    """The answer was bigger than the configured limit."""


class DeadlinePassed(SourceError):
    """The poll's deadline passed before an attempt could start."""


class HttpError(SourceError):
    """The server answered with an HTTP error status; ``body`` is the start of its answer."""

    def __init__(self, message: str, status: int, body: bytes):
        super().__init__(message)
        self.status, self.body = status, body


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of ``url`` (the port a scheme implies when none is given)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1  # not a port: matches no origin
    return scheme, (parts.hostname or "").lower(), port or DEFAULT_PORTS.get(scheme)


def transport_options(source: str, options: dict[str, Any]) -> dict[str, Any]:
    """The transport keys every HTTP source shares: timeout_s, retries, backoff_s, max_bytes."""
    try:
        return {
            "timeout_s": float(options.get("timeout_s", DEFAULT_TIMEOUT_S)),
            "retries": int(options.get("retries", 2)),
            "backoff_s": float(options.get("backoff_s", 0.25)),
            "max_bytes": int(options.get("max_bytes", DEFAULT_MAX_BYTES)),
        }
    except (TypeError, ValueError) as exc:
        raise SourceError(f"{source}: bad transport option: {exc}") from None


@dataclass
class HttpClient:
    """JSON requests against one base URL on behalf of the source ``source``."""

    source: str
    base_url: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    retries: int = 2
    backoff_s: float = 0.25
    max_bytes: int = DEFAULT_MAX_BYTES
    tls_verify: bool | str = True  # False, True, or a CA bundle's path
    client_cert: tuple[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    requests_sent: int = 0
    _count_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self):
        self.base_url = self.base_url.rstrip("/")
        self.session = _session(self)

    @classmethod
    def from_options(cls, source: str, options: dict[str, Any], token_scheme: str = "Bearer") -> HttpClient:
        """Build from a source's options: url, auth, tls_verify, timeout_s, retries, backoff_s, max_bytes."""
        url = options.get("url")
        if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise SourceError(f"{source}: option 'url' must be an http(s) URL, got {url!r}")
        parts = urllib.parse.urlsplit(url)
        headers = {}
        username = options.get("username") or urllib.parse.unquote(parts.username or "")
        secret = options.get("password") or options.get("token") or urllib.parse.unquote(parts.password or "")
        if options.get("bearer_token"):
            headers["Authorization"] = f"Bearer {options['bearer_token']}"
        elif username:
            pair = f"{username}:{secret or ''}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        elif options.get("token"):
            headers["Authorization"] = f"{token_scheme} {options['token']}"
        return cls(
            source=source,
            base_url=_without_userinfo(url),
            tls_verify=bool(options.get("tls_verify", True)),
            headers=headers,
            **transport_options(source, options),
        )

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` with query ``params``; return the decoded JSON."""
        return self.request("GET", path, params)

    def get_with_headers(self, path: str, params: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """GET ``path``; return the decoded JSON and the response headers (for paging links)."""
        return self._exchange("GET", path, params, None)

    def post(self, path: str, body: Any, params: dict[str, Any] | None = None) -> Any:
        """POST ``body`` as JSON; return the decoded JSON answer (None when empty)."""
        return self.request("POST", path, params, body)

    def request(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None, resend: bool = True
    ) -> Any:
        """Send ``body`` as JSON with ``method``; return the decoded JSON answer. With ``resend=False`` an attempt
        that reached the server is never repeated (after a timeout or a 5xx the caller finds out what happened)."""
        return self._exchange(method, path, params, body, resend)[0]

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this source; an absolute link off the source's origin is refused."""
        if not urllib.parse.urlsplit(path).scheme:
            return f"{self.base_url}/{path.lstrip('/')}"
        if origin(path) != origin(self.base_url):
            raise SourceError(
                f"{self.source}: refusing to follow {_shown(path)}: not on the source's origin {_shown(self.base_url)}"
            )
        return _without_userinfo(path)

    def _exchange(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, resend: bool = True
    ) -> tuple[Any, Any]:
        """Send, following redirects on the source's origin only; decode the JSON answer."""
        url, data = self.url(path), (json.dumps(body).encode() if body is not None else None)
        for _ in range(MAX_REDIRECTS + 1):
            where = f"{self.source}: {method} {_shown(url)}"
            response, raw = self._send(method, url, params, data, where, resend)
            if not response.is_redirect:
                break
            target = urllib.parse.urljoin(response.url, response.headers["Location"])
            if origin(target) != origin(self.base_url):
                raise SourceError(
                    f"{where}: refusing a redirect (HTTP {response.status_code}) to {_shown(target)}, "
                    f"off the source's origin: credentials go only to {_shown(self.base_url)}"
                )
            url, params = _without_userinfo(target), None
            if response.status_code not in (307, 308):
                method, data = "GET", None
        else:
            raise SourceError(f"{where}: more than {MAX_REDIRECTS} redirects")
        if response.status_code >= 400:
            snippet = raw[:300].decode("utf-8", "replace").strip()
            raise HttpError(
                f"{where}: HTTP {response.status_code} {response.reason}" + (f": {snippet}" if snippet else ""),
                response.status_code,
                raw,
            )
        return _decoded_json(raw, where), response.headers

    def _send(
        self, method: str, url: str, params: Any, data: bytes | None, where: str, resend: bool
    ) -> tuple[Any, bytes]:
        """One request and its whole answer, within the deadline of each attempt."""
        with self._count_lock:
            self.requests_sent += 1
        watch = _Watch(self.timeout_s, resend)
        token = _WATCH.set(watch)
        try:
            seconds = watch.seconds()
            headers = {**self.headers, **({"Content-Type": "application/json"} if data is not None else {})}
            response = self.session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=(seconds, seconds),
                stream=True,
                allow_redirects=False,
            )
            with response:
                if response.is_redirect or response.status_code >= 400:  # its start is enough for a message
                    raw = _read(response, ERROR_BODY_BYTES, where, cut=True)
                else:
                    raw = _read(response, self.max_bytes, where)
        except DeadlinePassed as exc:
            raise SourceError(f"{where}: {exc}") from None
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, zlib.error) as exc:
            raise SourceError(f"{where}: {watch.expired or _reason(exc, self.timeout_s)}") from None
        finally:
            watch.stop()
            _WATCH.reset(token)
        if watch.expired:  # the connection was shut down: what was read is incomplete
            raise SourceError(f"{where}: {watch.expired}")
        return response, raw


def _session(client: HttpClient) -> requests.Session:
    """A session for one source: keep-alive, retries and TLS settings; proxies from the environment, but
    never credentials from ``.netrc`` (the client's own headers go with each request)."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(client.base_url)
    session.verify, session.cert = client.tls_verify, client.client_cert
    session.headers.update(
        {"Accept": "application/json", "Accept-Encoding": "gzip, deflate", "User-Agent": "opscenter"}
    )
    retry = _Retry(
        total=client.retries,
        connect=client.retries,
        read=client.retries,
        status=client.retries,
        backoff_factor=client.backoff_s,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    adapter = _WatchedAdapter(max_retries=retry, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _Retry(Retry):
    """urllib3's retries, with a server's ``Retry-After`` capped (at ``MAX_RETRY_AFTER_S`` and the poll's deadline)."""

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        if seconds is None:
            return None
        poll = current_poll_deadline()
        return max(0.0, min(seconds, MAX_RETRY_AFTER_S, poll.left() if poll else MAX_RETRY_AFTER_S))

    def _is_method_retryable(self, method):
        """Whether an attempt that reached the server may be sent again (not with ``resend=False``)."""
        watch = _WATCH.get()
        return (watch is None or watch.resend) and super()._is_method_retryable(method)


# ---------------------------------------------------------------- the deadline of an answer

_WATCH: contextvars.ContextVar[_Watch | None] = contextvars.ContextVar("opscenter_http_watch", default=None)
_SHUTDOWN = threading.Lock()


class _Watch:
    """The deadline of one request's attempts: each attempt gets ``timeout_s`` (less when the poll's
    deadline comes sooner) for its whole answer; then its connection is shut down, which ends any
    read at once. ``expired`` says why, once it has happened; ``resend`` whether an attempt that reached
    the server may be repeated."""

    def __init__(self, timeout_s: float, resend: bool = True):
        self.timeout_s, self.resend, self.expired = timeout_s, resend, ""
        self._timer: threading.Timer | None = None

    def seconds(self) -> float:
        """What the next attempt may take; DeadlinePassed once the poll's deadline has passed."""
        return self._limit()[0]

    def _limit(self) -> tuple[float, str]:
        poll = current_poll_deadline()
        if poll is None or poll.left() >= self.timeout_s:
            return self.timeout_s, f"timed out after {self.timeout_s:g} s"
        if poll.left() <= 0:
            raise DeadlinePassed(poll.passed())
        return poll.left(), poll.passed()

    def arm(self, connection) -> None:
        """Start the deadline of an attempt on ``connection``."""
        self.stop()
        seconds, why = self._limit()
        with _SHUTDOWN:
            connection.opscenter_watch = self
        self._timer = threading.Timer(seconds, self._expire, (connection, why))
        self._timer.daemon = True
        self._timer.start()

    def _expire(self, connection, why: str) -> None:
        with _SHUTDOWN:
            if getattr(connection, "opscenter_watch", None) is not self:
                return  # the connection went back to the pool and serves another request now
            self.expired = why
            if connection.sock is not None:
                try:
                    socket.socket.shutdown(connection.sock, socket.SHUT_RDWR)
                except OSError:
                    pass

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class _Watched:
    """A connection that starts the current request's deadline whenever it sends."""

    def request(self, *args, **kwargs):
        watch = _WATCH.get()
        if watch is not None:
            watch.arm(self)
        return super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter whose connections (direct or through a proxy) keep the deadline."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = WATCHED_POOLS
        return manager


# ---------------------------------------------------------------- reading and decoding


def _read(response, limit: int, where: str, cut: bool = False) -> bytes:
    """The answer's body, decoded; past ``limit`` bytes a ResponseTooLarge, or with ``cut`` its first ``limit``."""
    declared = response.headers.get("Content-Length", "")
    if not cut and declared.isdigit() and int(declared) > limit:
        raise _oversize(where, limit)
    body = bytearray()
    for chunk in _decompressed(
        response.raw.stream(CHUNK_BYTES, decode_content=False), response.headers.get("Content-Encoding", ""), where
    ):
        body += chunk
        if len(body) > limit:
            if not cut:
                raise _oversize(where, limit)
            return bytes(body[:limit])
    return bytes(body)


def _decompressed(chunks, encoding: str, where: str) -> Iterator[bytes]:
    """The body's bytes decoded, at most ``CHUNK_BYTES`` at a time, so a small compressed answer cannot
    swell in memory before the size limit sees it."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        yield from chunks
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise SourceError(f"{where}: unsupported Content-Encoding {encoding!r}")
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or zlib header
    for chunk in chunks:
        while chunk:
            yield decoder.decompress(chunk, CHUNK_BYTES)
            chunk = decoder.unconsumed_tail
    yield decoder.flush()


def _decoded_json(raw: bytes, where: str) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except RecursionError:
        raise SourceError(f"{where}: invalid JSON: nested too deeply") from None
    except ValueError as exc:
        raise SourceError(f"{where}: invalid JSON: {exc}") from None


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps: urllib3's ``reason``, exception arguments, causes and contexts."""
    found, pending = [], [exc]
    while pending and len(found) < 20:
        current = pending.pop(0)
        if isinstance(current, BaseException) and not any(current is e for e in found):
            found.append(current)
            pending += [getattr(current, "reason", None), current.__cause__, current.__context__, *current.args]
    return found


def _reason(exc: BaseException, timeout_s: float) -> str:
    """A short cause: 'connection refused', 'timed out after N s', a TLS or name error, else the innermost text."""
    causes = _causes(exc)
    if any(isinstance(e, ConnectionRefusedError) for e in causes):
        return "connection refused"
    if any(isinstance(e, (TimeoutError, urllib3.exceptions.TimeoutError, requests.Timeout)) for e in causes):
        return f"timed out after {timeout_s:g} s"
    tls = next((e for e in causes if isinstance(e, ssl.SSLError)), None)
    if tls is not None:
        return f"TLS error: {tls.reason or tls}"
    name = next((e for e in causes if isinstance(e, socket.gaierror)), None)
    if name is not None:
        return f"cannot resolve host: {name.strerror}"
    return str(causes[-1]) or type(causes[-1]).__name__


def _without_userinfo(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _shown(url: str) -> str:
    """A URL without user info or query, safe to put in an error."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def _oversize(where: str, limit: int) -> ResponseTooLarge:
    return ResponseTooLarge(f"{where}: response larger than the limit of {limit:,} bytes (option max_bytes)")
