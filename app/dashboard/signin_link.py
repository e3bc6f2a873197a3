"""One-time sign-in links (`fixwurx dashboard login`): a dashboard with no OAuth app.

Whoever can run `fixwurx` on the server holds SECRET_KEY and the database, so they may mint a
link: the link names a login from DASHBOARD_USERS and a random nonce, signed with SECRET_KEY
(itsdangerous, which Flask already depends on), and expires after `DEFAULT_TTL_S`. Using it
stores the nonce (`dashboard_sign_ins`); the primary key refuses the same link a second time,
across every web process.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.dashboard import auth
from app.db import session_scope
from app.models import DashboardSignIn

#: How long a link works unless the command says otherwise: long enough to paste it.
DEFAULT_TTL_S = 600
#: The longest lifetime a link may be given: a sign-in link is a password while it lives.
MAX_TTL_S = 3600
#: Keeps these signatures apart from the session cookie's, which uses the same key.
SALT = "fixwurx-dashboard-sign-in"


class LinkRefused(Exception):
    """The link cannot sign anyone in; the message says why and what to do."""


@dataclass(frozen=True)
class SignIn:
    login: str
    nonce: str


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    if not settings.secret_key:
        raise LinkRefused("SECRET_KEY is not set; set it in the environment of every process")
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def mint(settings: Settings, login: str, ttl_s: int = DEFAULT_TTL_S) -> str:
    """A signed token for `login` (which must be in DASHBOARD_USERS), good for `ttl_s`."""
    if not 0 < ttl_s <= MAX_TTL_S:
        raise LinkRefused(f"a link lives 1 to {MAX_TTL_S} seconds, not {ttl_s}")
    if not auth.is_allowed(settings, login):
        users = ", ".join(sorted(auth.allowed_logins(settings))) or "nobody"
        raise LinkRefused(f"{login!r} is not in DASHBOARD_USERS ({users}); add it there first")
    payload = {"login": login, "nonce": secrets.token_hex(16), "ttl": ttl_s}
    token: str = _serializer(settings).dumps(payload)
    return token


def redeem(settings: Settings, token: str) -> str:
    """The login a valid, unexpired, unused token names; the token is used up."""
    serializer = _serializer(settings)
    # The lifetime is inside the signed payload: read it unverified, then verify the whole
    # token against it (a forged lifetime fails the signature; MAX_TTL_S caps it anyway).
    _, unverified = serializer.loads_unsafe(token)
    ttl = unverified.get("ttl") if isinstance(unverified, dict) else None
    lifetime = min(ttl if isinstance(ttl, int) else DEFAULT_TTL_S, MAX_TTL_S)
    try:
        data = serializer.loads(token, max_age=lifetime)
    except SignatureExpired:
        raise LinkRefused("this sign-in link has expired; run `fixwurx dashboard login`") from None
    except BadSignature:
        raise LinkRefused("this sign-in link is not valid; run `fixwurx dashboard login`") from None
    sign_in = SignIn(str(data.get("login", "")), str(data.get("nonce", "")))
    if not sign_in.nonce or not auth.is_allowed(settings, sign_in.login):
        raise LinkRefused(f"{sign_in.login!r} may not use the dashboard (DASHBOARD_USERS)")
    try:
        with session_scope(settings.database_url) as session:
            session.add(DashboardSignIn(nonce=sign_in.nonce, login=sign_in.login))
    except IntegrityError:
        raise LinkRefused(
            "this sign-in link was already used; run `fixwurx dashboard login`"
        ) from None
    return sign_in.login
