"""Sign in with GitHub: the OAuth web flow through the App's own client id and secret (optional).

Why no OAuth library: the flow FixWurx needs is three requests (redirect to GitHub's authorize
page with a random `state`, exchange the code for a user token, read `GET /user`), and the only
secret-bearing one goes to a fixed URL; a client library would add a dependency and an HTTP stack
for that. The token is used once, to learn the login, and then dropped: the session cookie
(signed with SECRET_KEY) holds only the login. Access is for the logins in DASHBOARD_USERS;
anyone else who signs in gets 403, and nobody gets in anonymously.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from app.config import Settings

log = logging.getLogger(__name__)

#: Seconds the token exchange and the user lookup may take.
HTTP_TIMEOUT_S = 10.0
#: Session keys.
LOGIN_KEY = "dashboard_login"
STATE_KEY = "dashboard_oauth_state"
NEXT_KEY = "dashboard_next"


class SignInError(Exception):
    """GitHub refused or answered something unusable; the message is safe to show."""


@dataclass(frozen=True)
class OAuthEndpoints:
    """Where GitHub (or GitHub Enterprise) serves the web flow and the REST API."""

    authorize_url: str
    token_url: str
    user_url: str

    @classmethod
    def for_settings(cls, settings: Settings) -> OAuthEndpoints:
        api = settings.github_api_url.rstrip("/")
        web = "https://github.com" if api == "https://api.github.com" else api
        web = web.removesuffix("/api/v3")
        return cls(f"{web}/login/oauth/authorize", f"{web}/login/oauth/access_token", f"{api}/user")


def allowed_logins(settings: Settings) -> frozenset[str]:
    """DASHBOARD_USERS as a set of lower-case logins (GitHub logins are case-insensitive)."""
    raw = settings.dashboard_users.replace(",", " ")
    return frozenset(login.strip().lower() for login in raw.split() if login.strip())


def is_allowed(settings: Settings, login: str) -> bool:
    return login.lower() in allowed_logins(settings)


def missing_settings(settings: Settings) -> list[str]:
    """The settings the dashboard needs that are not set.

    The OAuth client is optional: without it operators sign in with one-time links from
    `fixwurx dashboard login` (signin_link.py).
    """
    needed = {
        "SECRET_KEY": settings.secret_key,
        "DASHBOARD_USERS": settings.dashboard_users.strip(),
    }
    return [name for name, value in needed.items() if not value]


def oauth_configured(settings: Settings) -> bool:
    """Whether Sign in with GitHub is possible (the App's OAuth client id and secret are set)."""
    return bool(settings.github_client_id and settings.github_client_secret)


def new_state() -> str:
    return secrets.token_urlsafe(24)


def states_match(expected: str | None, got: str | None) -> bool:
    return bool(expected and got) and hmac.compare_digest(str(expected), str(got))


def authorize_redirect(settings: Settings, redirect_uri: str, state: str) -> str:
    """The URL of GitHub's consent page for this App."""
    query = urllib.parse.urlencode(
        {
            "client_id": settings.github_client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "allow_signup": "false",
        }
    )
    return f"{OAuthEndpoints.for_settings(settings).authorize_url}?{query}"


def login_for_code(settings: Settings, code: str, redirect_uri: str) -> str:
    """Exchange `code` for a user token, then ask GitHub whose it is."""
    endpoints = OAuthEndpoints.for_settings(settings)
    body = urllib.parse.urlencode(
        {
            "client_id": settings.github_client_id,
            "client_secret": settings.github_client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
        }
    ).encode()
    answer = _request(endpoints.token_url, data=body, headers={"Accept": "application/json"})
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise SignInError(f"GitHub did not issue a token ({answer.get('error', 'no error given')})")
    user = _request(
        endpoints.user_url,
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    login = user.get("login")
    if not isinstance(login, str) or not login:
        raise SignInError("GitHub's /user answer has no login")
    return login


def _request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            parsed = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        log.warning("sign-in: GitHub answered %s for %s", exc.code, url.split("?")[0])
        raise SignInError(f"GitHub answered {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        log.warning("sign-in: could not reach GitHub at %s (%s)", url.split("?")[0], exc)
        raise SignInError("GitHub could not be reached") from None
    if not isinstance(parsed, dict):
        raise SignInError("GitHub's answer is not a JSON object")
    return parsed
