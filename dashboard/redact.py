"""Secrets out of text: credentials in URLs, tokens and passwords in error messages and logs.

``redact(text)`` is the one place that does it; the poller applies it to every source
error before the status record is stored (so /sources, /health and history never hold a
secret) and ``RedactingFilter`` applies it to every log record of the process.
"""
from __future__ import annotations

import logging
import re

MASK = "***"
_PATTERNS = (
    # scheme://user:password@host -> scheme://user:***@host (and scheme://token@host)
    (re.compile(r"(?P<keep>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^/\s@]*(?=@)"), rf"\g<keep>{MASK}"),
    (re.compile(r"(?P<keep>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s:@]+(?=@)"), rf"\g<keep>{MASK}"),
    # Authorization: Bearer xyz / Basic xyz
    (re.compile(r"(?i)(?P<keep>\b(?:bearer|basic|token)\s+)[A-Za-z0-9._~+/=-]{6,}"), rf"\g<keep>{MASK}"),
    # token=..., api_key: ..., password="..." in query strings, JSON and messages
    (re.compile(r"(?i)(?P<keep>\b[\w-]*(?:token|secret|password|passwd|api[_-]?key|apikey|session|sig|signature)"
                r"[\w-]*[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;}]+"), rf"\g<keep>{MASK}"),
)


def redact(text: str | None) -> str | None:
    """Return ``text`` with credentials, tokens and passwords replaced by ``***``."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


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


def install() -> None:
    """Redact every record that reaches the root logger's handlers (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers or [logging.lastResort]:
        if handler is not None and not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
