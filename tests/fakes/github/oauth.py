"""GitHub's OAuth web flow, faked: the authorize page, the code exchange and `GET /user`.

"Sign in with GitHub" on the dashboard (app/dashboard/auth.py) uses the App's OAuth client. The
fake plays GitHub for a browser already signed in as `signed_in_as`: the authorize page
redirects straight back with a one-time code (a user who approved), the code is exchanged for a
user token only with the right client id and secret and the same redirect URI, and `GET /user`
with that token answers the login. Errors have GitHub's shapes: the token endpoint answers 200
with an `error` field, as GitHub does.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

#: The client id and secret of the fake App's OAuth client.
CLIENT_ID = "Iv23.fakeclient0001"
CLIENT_SECRET = "fake-client-secret-0123456789abcdef"


def json_response(status: int, data: Any) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


@dataclass
class FakeOAuth:
    """The OAuth side of the fake GitHub; `FakeGitHub.oauth` is one of these."""

    api_url: str = ""
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    #: The GitHub user the browser is signed in as when it reaches the authorize page.
    signed_in_as: str = "octocat"
    #: Every authorize request's query, for assertions.
    authorizations: list[dict[str, str]] = field(default_factory=list)
    _codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Response:
        """Serve /login/oauth/authorize and /login/oauth/access_token."""
        if request.path == "/login/oauth/authorize" and request.method == "GET":
            return self._authorize(request)
        if request.path == "/login/oauth/access_token" and request.method == "POST":
            return self._access_token(request)
        return json_response(404, {"message": f"no route for {request.method} {request.path}"})

    def _authorize(self, request: Request) -> Response:
        query = dict(request.args.items())
        self.authorizations.append(query)
        if query.get("client_id") != self.client_id:
            return Response("unknown client_id", status=404, mimetype="text/plain")
        redirect_uri = query.get("redirect_uri", "")
        target = urllib.parse.urlsplit(redirect_uri)
        if target.scheme != "http" or target.hostname not in ("127.0.0.1", "localhost"):
            return Response("redirect_uri is not this App's callback", status=400)
        code = secrets.token_hex(10)
        with self._lock:
            self._codes[code] = (self.signed_in_as, redirect_uri)
        back = {"code": code}
        if "state" in query:
            back["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return Response(
            status=302,
            headers={"Location": redirect_uri + separator + urllib.parse.urlencode(back)},
        )

    def _access_token(self, request: Request) -> Response:
        form = request.form
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return self._token_answer(request, {"error": "incorrect_client_credentials"})
        with self._lock:
            issued = self._codes.pop(form.get("code", ""), None)
        if issued is None:
            return self._token_answer(request, {"error": "bad_verification_code"})
        login, redirect_uri = issued
        if form.get("redirect_uri") and form.get("redirect_uri") != redirect_uri:
            return self._token_answer(request, {"error": "redirect_uri_mismatch"})
        token = "ghu_" + secrets.token_hex(18)
        with self._lock:
            self._tokens[token] = login
        return self._token_answer(
            request, {"access_token": token, "token_type": "bearer", "scope": ""}
        )

    def _token_answer(self, request: Request, fields: dict[str, str]) -> Response:
        if "application/json" in request.headers.get("Accept", ""):
            return json_response(200, fields)
        return Response(
            urllib.parse.urlencode(fields), mimetype="application/x-www-form-urlencoded"
        )

    def user(self, request: Request, _body: Any) -> Response:
        """`GET /user` with a user token from the flow above."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        login = self._tokens.get(token) if scheme.lower() in ("bearer", "token") else None
        if login is None:
            return json_response(401, {"message": "Bad credentials"})
        return json_response(
            200,
            {
                "login": login,
                "id": 7000 + len(login),
                "type": "User",
                "user_view_type": "private",  # GET /user answers the private view of oneself
                "url": f"{self.api_url}/users/{login}",
            },
        )
