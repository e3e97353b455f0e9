"""Secrets out of text: credentials in URLs, tokens and passwords in error messages and logs.

``redact(text)`` is the one place that does it; the poller applies it to every source
error before the status record is stored (so /sources, /health and history never hold a
secret) and ``RedactingFilter`` applies it to every log record of the process, the access
logs of werkzeug and gunicorn included (``install``, and ``GunicornLogger`` for gunicorn's own).
A query parameter counts by its decoded name, so ``?%74oken=`` is masked like ``?token=``.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

from gunicorn import glogging

MASK = "***"
ACCESS_LOGGERS = ("werkzeug", "gunicorn.access")
_SECRET_WORDS = "token|secret|password|passwd|api[_-]?key|apikey|session|sig|signature"
_SECRET_NAME = re.compile(f"(?i){_SECRET_WORDS}")
# a query parameter: its name may be percent-encoded (?%74oken= is ?token= to the application)
_QUERY_PARAMETER = re.compile(r"(?P<keep>[?&;](?P<name>[^=&?;\s\"']+)=)[^&;\s\"']*")
_PATTERNS = (
    # scheme://user:password@host -> scheme://user:***@host (and scheme://token@host)
    (re.compile(r"(?P<keep>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^/\s@]*(?=@)"), rf"\g<keep>{MASK}"),
    (re.compile(r"(?P<keep>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s:@]+(?=@)"), rf"\g<keep>{MASK}"),
    # Authorization: Bearer xyz / Basic xyz
    (re.compile(r"(?i)(?P<keep>\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{6,}"), rf"\g<keep>{MASK}"),
    # token=..., api_key: ..., password="..." in query strings, JSON and messages
    (
        re.compile(rf"(?i)(?P<keep>\b[\w-]*(?:{_SECRET_WORDS})[\w-]*[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;}}]+"),
        rf"\g<keep>{MASK}",
    ),
)


def _mask_secret_parameter(match: re.Match) -> str:
    return match["keep"] + MASK if _SECRET_NAME.search(unquote_plus(match["name"])) else match[0]


def redact(text: str | None) -> str | None:
    """Return ``text`` with credentials, tokens and passwords replaced by ``***``."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return _QUERY_PARAMETER.sub(_mask_secret_parameter, text)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def _add_filter(filterer: logging.Filterer) -> None:
    if not any(isinstance(f, RedactingFilter) for f in filterer.filters):
        filterer.addFilter(RedactingFilter())


def install() -> None:
    """Redact every record that reaches the root logger's handlers, and the access logs of
    werkzeug and gunicorn, which may not reach them (idempotent)."""
    for handler in logging.getLogger().handlers or [logging.lastResort]:
        if handler is not None:
            _add_filter(handler)
    for name in ACCESS_LOGGERS:
        _add_filter(logging.getLogger(name))


class GunicornLogger(glogging.Logger):
    """gunicorn's logger with the access and error logs redacted, whatever the application does:
    ``--logger-class dashboard.security.redact.GunicornLogger`` (set in ``dashboard.gunicorn_conf``)."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        _add_filter(self.access_log)
        _add_filter(self.error_log)
