"""CSRF tokens for the dashboard's forms: every POST must carry the session's token.

The session cookie is SameSite=Lax, which already keeps other sites' POSTs from carrying it;
the token is the second lock (a browser without SameSite, a subdomain that can set cookies).
One random token per session, compared in constant time; a form without it gets 400.
"""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

#: The session key and the form field that carry the token.
SESSION_KEY = "dashboard_csrf"
FIELD = "csrf_token"


def token() -> str:
    """The session's token, made on first use (templates put it in every form)."""
    current = session.get(SESSION_KEY)
    if not isinstance(current, str) or not current:
        current = secrets.token_urlsafe(32)
        session[SESSION_KEY] = current
    return current


def valid() -> bool:
    """Whether this request's form (or X-CSRF-Token header) carries the session's token."""
    expected = session.get(SESSION_KEY)
    sent = request.form.get(FIELD) or request.headers.get("X-CSRF-Token") or ""
    return isinstance(expected, str) and bool(expected) and hmac.compare_digest(expected, sent)
