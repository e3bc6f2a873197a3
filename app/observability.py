"""Logging and Sentry. Secrets never leave the process: Sentry events are scrubbed first."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask

#: Header, key and variable names whose values are always redacted.
SENSITIVE_KEYS = re.compile(
    r"(authorization|token|secret|password|private[_-]?key|api[_-]?key|signature|cookie|dsn)",
    re.IGNORECASE,
)
#: Token shapes redacted wherever they appear in text.
TOKEN_PATTERNS = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{16,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
    r"|sha256=[0-9a-f]{64})"
)
REDACTED = "[redacted]"


def scrub_text(text: str, extra_secrets: list[str] | None = None) -> str:
    """Replace token-shaped strings and known secret values in `text`."""
    text = TOKEN_PATTERNS.sub(REDACTED, text)
    for secret in extra_secrets or []:
        if len(secret) >= 6:
            text = text.replace(secret, REDACTED)
    return text


def scrub(value: Any, extra_secrets: list[str] | None = None) -> Any:
    """Recursively redact sensitive keys and token-shaped strings in an event-like structure."""
    if isinstance(value, dict):
        return {
            k: REDACTED
            if isinstance(k, str) and SENSITIVE_KEYS.search(k)
            else scrub(v, extra_secrets)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v, extra_secrets) for v in value]
    if isinstance(value, str):
        return scrub_text(value, extra_secrets)
    return value


def init_sentry(dsn: str, secrets: list[str], component: str) -> bool:
    """Initialise Sentry when a DSN is set; every event passes `scrub` first."""
    if not dsn:
        return False
    import sentry_sdk

    def before_send(event: Any, _hint: Any) -> Any:
        return scrub(event, secrets)

    # No PII option: the SDK's default collects none and keeps its own event scrubber (an
    # explicit `data_collection` would switch that scrubber off; `send_default_pii` is
    # deprecated since sentry-sdk 2.7x).
    sentry_sdk.init(dsn=dsn, before_send=before_send, server_name=component)
    return True


def init_app(flask_app: Flask) -> None:
    """Set up logging and, when SENTRY_DSN is set, Sentry for the web process."""
    from app.config import settings_of

    settings = settings_of(flask_app)
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    init_sentry(settings.sentry_dsn, settings.secret_values(), "web")
