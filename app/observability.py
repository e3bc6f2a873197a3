"""Logging and Sentry. Secrets never leave the process: Sentry events are scrubbed first."""

from __future__ import annotations

import logging
import re
from typing import Any, Literal

from flask import Flask

#: Header, key and variable names whose values are always redacted.
SENSITIVE_KEYS = re.compile(
    r"(authorization|token|secret|password|private[_-]?key|api[_-]?key|signature|cookie|dsn)",
    re.IGNORECASE,
)
#: Token shapes redacted wherever they appear in text. Each is one word: none spans a line, and a
#: failed attempt stops at the first character outside its class, so the scan is linear.
TOKEN_PATTERNS = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|sk-[A-Za-z0-9_-]{16,}"
    r"|sha256=[0-9a-f]{64})"
)
#: The armour lines of a private key. A key's body is found by walking these markers in one
#: pass (see `_scrub_pem`), never by a pattern that looks for an END after every BEGIN: 9,000
#: BEGIN lines with no END once cost 36 s that way.
PEM_MARKER = re.compile(r"-----(BEGIN|END) [A-Z ]{0,40}PRIVATE KEY-----")
#: A line of a key's body (base64) or of its RFC 1421 headers, for an END whose BEGIN was cut.
_PEM_BODY_LINE = re.compile(r"[A-Za-z0-9+/=]+|[A-Za-z-]{1,40}: [^\n]*")
REDACTED = "[redacted]"
#: Characters of text scrubbed at most. Every caller keeps a short excerpt, so the text is cut
#: to this first and scrubbed after: the cost of a scrub never depends on what a log holds.
SCRUB_LIMIT_CHARS = 64 * 1024
#: Whitespace: the cut never leaves part of a word, since a token's prefix is still a secret.
_SPACE = frozenset(" \t\r\n\f\v")


def scrub_text(
    text: str,
    extra_secrets: list[str] | None = None,
    *,
    limit: int = SCRUB_LIMIT_CHARS,
    keep: Literal["head", "tail"] = "head",
) -> str:
    """`text` cut to about `limit` characters (its head or its tail), then with token-shaped
    strings, private keys and the known secret values in `extra_secrets` replaced."""
    text = cut_words(text, limit, keep)
    text = _scrub_pem(text)
    text = TOKEN_PATTERNS.sub(REDACTED, text)
    for secret in extra_secrets or []:
        if len(secret) >= 6:
            text = text.replace(secret, REDACTED)
    return text


def cut_words(text: str, limit: int, keep: Literal["head", "tail"] = "head") -> str:
    """At most `limit` characters of `text` from its head or tail, without a partial word at
    the cut (a token cut in two would no longer look like a token, yet still give half away)."""
    if len(text) <= limit:
        return text
    if keep == "head":
        piece = text[:limit]
        if text[limit] not in _SPACE:
            piece = piece[: max(piece.rfind(c) for c in _SPACE) + 1]
        return piece
    piece = text[-limit:]
    if text[-limit - 1] not in _SPACE:
        starts = [i for i in (piece.find(c) for c in _SPACE) if i >= 0]
        piece = piece[min(starts) + 1 :] if starts else ""
    return piece


def _scrub_pem(text: str) -> str:
    """Private keys replaced in one pass over their armour lines: a BEGIN opens a key that the
    next END closes; a BEGIN never closed hides the rest of the text, and an END whose BEGIN
    was cut off hides the body lines just before it."""
    parts: list[str] = []
    kept_from = 0
    opened: int | None = None
    for marker in PEM_MARKER.finditer(text):
        if marker.group(1) == "BEGIN":
            opened = marker.start() if opened is None else opened
            continue
        start = opened if opened is not None else _body_start(text, kept_from, marker.start())
        parts += [text[kept_from:start], REDACTED]
        kept_from, opened = marker.end(), None
    if opened is not None:
        parts += [text[kept_from:opened], REDACTED]
        kept_from = len(text)
    parts.append(text[kept_from:])
    return "".join(parts)


def _body_start(text: str, floor: int, end: int) -> int:
    """Where the key body that ends at `end` starts: the first of the lines before it (back to
    `floor`) that all look like base64 or armour headers. Each character is looked at once."""
    start = end
    while start > floor:
        line_start = max(text.rfind("\n", floor, start - 1) + 1, floor)
        line = text[line_start:start].rstrip("\n")
        if line and not _PEM_BODY_LINE.fullmatch(line):
            break
        start = line_start
    return start


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
