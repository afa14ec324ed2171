"""Structured logs, as JSON lines or pretty text; never with secrets or personal data in them.

Leaks are fixed where they start (messages name methods and paths, not URLs with keys; reasons do not
quote customer data). As a safeguard, every line also passes `redact`: secret values loaded from the
configuration, e-mail addresses, credentials in URLs, key-like query parameters and values a system
quotes in its error messages (an ERP may name the party whose phone number it refuses) are masked, in
emporion's own events, in tracebacks, and in the records of the standard library's loggers.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import structlog

MASK = "***"
EMAIL_MASK = "<e-mail>"
MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.\-]*://)[^/\s@:]+:[^/\s@]+@", re.IGNORECASE)
KEY_PARAMETER = re.compile(
    r"(?P<name>(?:oauth_)?(?:consumer_key|consumer_secret|signature|password|secret|token|api_key))"
    r"(?P<sep>=|%3D)(?P<value>[^&\s\"',;]+)",
    re.IGNORECASE,
)
# systems quote the values they refuse in double quotes ('The phone number "…" for party "…"'); the
# full text stays in the dead letter, the log line gets it without the quoted values
QUOTED = re.compile(r'"[^"\n]{1,200}"')
QUOTED_MASK = '"…"'
_secrets: set[str] = set()


def add_secret(value: str | None) -> None:
    """Mask `value` wherever it appears in a log line from now on (config secrets register here)."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        _secrets.add(value)


def add_secrets(values: Iterable[str | None]) -> None:
    """`add_secret` for several values."""
    for value in values:
        add_secret(value)


def redact_text(text: str) -> str:
    """`text` with secrets, URL credentials, key-like query parameters, e-mails and quoted values masked."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    text = URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    text = KEY_PARAMETER.sub(lambda m: f"{m['name']}{m['sep']}{MASK}", text)
    text = EMAIL.sub(EMAIL_MASK, text)
    return QUOTED.sub(QUOTED_MASK, text)


def redact(value: Any) -> Any:
    """A log value with every string inside it passed through `redact_text`."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def redact_event(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: redact every value of the event (exception text included)."""
    return {key: redact(value) for key, value in event_dict.items()}


class RedactingFormatter(logging.Formatter):
    """The standard library's formatter, with `redact_text` over each finished line."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted line (traceback included), redacted."""
        return redact_text(super().format(record))


def _redacting_record_factory() -> None:
    """Redact the message of every standard-library log record as it is made, whatever handler shows it."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts", False):
        return

    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        """A record as the previous factory makes it, its message redacted."""
        record = factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return record
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return record

    make.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make)


def configure_logging(fmt: str = "pretty", level: str = "info") -> None:
    """Route structlog and the standard library's logging through one renderer on stderr."""
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, redact_event, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    _redacting_record_factory()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # request lines can carry query-string keys
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)  # SQL parameters: webhook bodies, e-mails


def _stderr_logger(*args: object) -> structlog.PrintLogger:
    """A logger on the current sys.stderr (looked up per call, so a replaced stream is followed)."""
    return structlog.PrintLogger(sys.stderr)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """The structlog logger for `name` (every event passes the redaction)."""
    return structlog.get_logger(name)


CORRELATION_HEADER = "x-correlation-id"  # kept with an inbox delivery; sent on outbound requests


def new_correlation_id() -> str:
    """A fresh id that follows one work item from ingress to the ERP and the shop."""
    return uuid.uuid4().hex


def bind_correlation(correlation_id: str | None) -> None:
    """Put `correlation_id` on every log line of the current task (and what it awaits), or clear it."""
    if correlation_id:
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
    else:
        structlog.contextvars.unbind_contextvars("correlation_id")


def current_correlation_id() -> str | None:
    """The correlation id bound in this task, if any (for outbound request headers)."""
    value = structlog.contextvars.get_contextvars().get("correlation_id")
    return str(value) if value else None
