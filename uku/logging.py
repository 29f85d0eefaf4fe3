"""Logging: one JSON object per line, carrying the request id, with secrets redacted.

Redaction has two layers. `RedactSecretsFilter` masks anything that looks like a credential
(`token=...`, `Authorization: ...`, our `uku_...` API tokens, Tripletex `test-...` tokens) and, on top,
every value registered with `register_secret()` at run time: the Tripletex client registers the
employee and session tokens it holds, so they cannot leak even in an unexpected format. Tokens in
URL paths (invitation and password-reset links) are masked too, so access logs can print paths.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
MASK = "[REDACTED]"

# key=value, key: value, "key": "value" for credential-ish keys; Authorization headers; our tokens.
_PATTERNS = [
    re.compile(
        r"(?i)(\"?(?:[a-z_]*token|password|secret|api[_-]?key|authorization|cookie)\"?\s*[=:]\s*\"?)"
        r"(?:(?:basic|bearer|token)\s+)?([^\s\"&,;}]+)"
    ),
    re.compile(r"\buku_[A-Za-z0-9_\-]{20,}"),
    re.compile(r"\btest-[A-Za-z0-9_\-.]{16,}"),
]


# Tokens that travel in URL paths: an access log line (gunicorn, runserver), a "Not Found: /path"
# warning or a `?next=` query carries them. A slash may be written `%2F` (a `next=` parameter).
_SLASH = r"(?:/|%2F)"
_SEGMENT = r"[^/%?&#\s\"']+"
_PATH_PATTERNS = [
    # /invitations/<token>/ (uku/urls.py accept_invitation); /invitations/<uuid>/cancel/ is no
    # secret and stays readable.
    re.compile(rf"(?i)({_SLASH}invitations{_SLASH})(?![0-9a-f-]{{36}}{_SLASH}cancel\b){_SEGMENT}"),
    # /accounts/reset/<uidb64>/<token>/ (Django's password reset link); after the first visit
    # Django swaps the token for "set-password", which is kept.
    re.compile(rf"(?i)({_SLASH}reset{_SLASH}{_SEGMENT}{_SLASH})(?!set-password\b){_SEGMENT}"),
]


def register_secret(value: str | None) -> None:
    """Make sure `value` never appears in a log line (minimum 6 characters, to avoid noise)."""
    if value and len(value) >= 6:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Return `text` with registered secrets and credential-looking values masked."""
    if not text:
        return text
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _PATTERNS[0].sub(lambda m: m.group(1) + MASK, text)
    for pattern in _PATTERNS[1:]:
        text = pattern.sub(MASK, text)
    for pattern in _PATH_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites the record's message (and exception text) with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, and any extras."""

    _skip = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()) | {
        "message",
        "request_id",
        "asctime",
        # Celery passes its message arguments again as `extra={"data": ...}`, task arguments
        # included; the message already says what happened, and arguments are no log material.
        "data",
    }

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in vars(record).items():
            if key not in self._skip and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool | None) else str(value)
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # Redact each value, not the serialized line: masking inside JSON text could swallow an
        # escaping backslash and leave a line that is no longer JSON.
        redacted = {k: redact(v) if isinstance(v, str) else v for k, v in entry.items()}
        return json.dumps(redacted, ensure_ascii=False, default=str)
