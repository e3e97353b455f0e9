"""A thin HTTP transport for the ITSM adapters: timeouts, bounded retries, auth, clear errors.

Auth comes from config values (given as ``${ENV}``): ``username`` + ``password``
(or ``username`` + ``token``) for basic auth, else ``token`` alone as an
``Authorization: <scheme> <token>`` header. Every failure is a SourceError
naming the source, the method and URL (without credentials) and the cause.
"""
from __future__ import annotations

import itertools
import time
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from datasources.base import SourceError

RETRY_STATUSES = frozenset({429, 502, 503, 504})


def _shown(url: str) -> str:
    """The URL without user info and query, safe to put in an error."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


class Transport:
    """GET JSON from one base URL on behalf of one source."""

    def __init__(self, source: str, options: dict[str, Any], token_scheme: str = "Bearer"):
        url = str(options.get("url") or "").rstrip("/")
        if urlsplit(url).scheme not in ("http", "https"):
            raise SourceError(f"{source}: url must be http(s)://..., got {url[:60]!r}")
        self.source, self.base_url = source, url + "/"
        self.timeout_s = float(options.get("timeout_s", 10))
        self.retries = int(options.get("retries", 2))
        self.backoff_s = float(options.get("backoff_s", 0.5))
        self.session = requests.Session()
        self.session.headers["Accept"] = "application/json"
        self.session.verify = options.get("verify_tls", True)
        username, password, token = (options.get(k) for k in ("username", "password", "token"))
        if username and (password or token):
            self.session.auth = (str(username), str(password or token))
        elif token:
            self.session.headers["Authorization"] = f"{token_scheme} {token}"

    def url(self, path: str) -> str:
        """An absolute URL on this source; a link to another host is refused."""
        absolute = urljoin(self.base_url, path.lstrip("/") if not urlsplit(path).scheme else path)
        if urlsplit(absolute)[:2] != urlsplit(self.base_url)[:2]:
            raise SourceError(f"{self.source}: refusing to follow {_shown(absolute)} off {_shown(self.base_url)}")
        return absolute

    def get(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        """GET with retries on connection errors, timeouts, 429 and 502-504; return the 2xx response."""
        url = self.url(path)
        for attempt in itertools.count():
            last = attempt >= self.retries
            try:
                response = self.session.get(url, params=params, timeout=self.timeout_s)
            except requests.RequestException as exc:
                if last:
                    raise SourceError(f"{self.source}: GET {_shown(url)}: {type(exc).__name__}: {exc}") from None
            else:
                if response.ok:
                    return response
                if last or response.status_code not in RETRY_STATUSES:
                    raise SourceError(
                        f"{self.source}: GET {_shown(url)}: HTTP {response.status_code} {response.text[:200]!r}")
            time.sleep(self.backoff_s * 2 ** attempt)

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> tuple[Any, requests.Response]:
        """GET and decode JSON; return the body and the response (for its headers)."""
        response = self.get(path, params)
        try:
            return response.json(), response
        except ValueError:
            raise SourceError(f"{self.source}: GET {_shown(response.url)}: response is not JSON") from None

    def close(self) -> None:
        self.session.close()
