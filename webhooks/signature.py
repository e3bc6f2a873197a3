"""Webhook signature check: HMAC-SHA256 over the raw body, compared in constant time. No I/O.

Kept free of Flask and of parsing so it can be tested exhaustively and so the view can run it
before it looks at a single byte of the JSON (Warehouse's "verify before parse").
"""

from __future__ import annotations

import hashlib
import hmac

#: The only scheme GitHub signs with that we accept; the SHA-1 `X-Hub-Signature` is ignored.
PREFIX = "sha256="


def expected(body: bytes, secret: str) -> str:
    """The header value GitHub would send for `body` signed with `secret`."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_valid(body: bytes, header: str | None, secret: str) -> bool:
    """True only when `header` is the sha256 signature of `body` under a non-empty `secret`."""
    if not secret or not header or not header.startswith(PREFIX):
        return False
    # compare_digest on ASCII bytes: timing does not depend on where the first mismatch is.
    try:
        given = header.encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(given, expected(body, secret).encode("ascii"))
