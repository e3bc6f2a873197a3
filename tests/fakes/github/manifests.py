"""GitHub's App manifest flow, faked: the "create App" page and the code conversion.

The browser POSTs `manifest=<JSON>` to `{web}/settings/apps/new?state=S` (or an
organization's `/organizations/ORG/settings/apps/new`); GitHub shows the App and, when the user
clicks "Create", redirects to the manifest's `redirect_url` with `?code=C&state=S`. The code
is good once, for an hour: `POST /app-manifests/{code}/conversions` (no authentication) returns
the new App with its `pem`, `webhook_secret`, `client_id` and `client_secret` (the answer is
checked against @octokit/openapi by the server like every other).
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

#: What GitHub requires of a manifest (the rest is optional).
REQUIRED = ("url",)
#: Seconds a code can be converted (GitHub: one hour).
CODE_TTL_S = 3600


class ManifestError(Exception):
    """A manifest GitHub would refuse; the message is GitHub-like."""


@dataclass
class Created:
    manifest: dict[str, Any]
    org: str | None
    issued_at: float


@dataclass
class FakeManifests:
    """The state of the flow: the manifests received and the codes not yet converted."""

    app_id: int
    private_key_pem: str
    owner: str = "octocat"
    received: list[dict[str, Any]] = field(default_factory=list)
    codes: dict[str, Created] = field(default_factory=dict)
    converted: list[str] = field(default_factory=list)

    def create_page(self, request: Request, org: str | None) -> Response:
        """The user lands on "Create GitHub App" and clicks Create: redirect with a code."""
        if request.method != "POST":
            return Response("POST the manifest form here", status=405)
        try:
            manifest = self._manifest(request.form.get("manifest", ""))
        except ManifestError as exc:
            return Response(f"Invalid GitHub App configuration: {exc}", status=422)
        self.received.append(manifest)
        code = secrets.token_hex(10)
        self.codes[code] = Created(manifest, org, time.time())
        query = {"code": code}
        if request.args.get("state"):
            query["state"] = request.args["state"]
        target = f"{manifest['redirect_url']}?{urllib.parse.urlencode(query)}"
        return Response(status=302, headers={"Location": target})

    def _manifest(self, raw: str) -> dict[str, Any]:
        try:
            manifest = json.loads(raw)
        except ValueError as exc:
            raise ManifestError(f"manifest is not JSON ({exc})") from None
        if not isinstance(manifest, dict):
            raise ManifestError("manifest must be a JSON object")
        missing = [key for key in REQUIRED if not manifest.get(key)]
        if missing:
            raise ManifestError(f"missing {', '.join(missing)}")
        if not str(manifest.get("redirect_url", "")).startswith(("http://", "https://")):
            raise ManifestError("redirect_url must be an http(s) URL")
        return manifest

    def convert(self, _request: Request, _body: Any, code: str) -> tuple[int, dict[str, Any]]:
        """`POST /app-manifests/{code}/conversions`: the App, once per code."""
        created = self.codes.pop(code, None)
        if created is None or time.time() - created.issued_at > CODE_TTL_S:
            return 404, {"message": "Not Found"}
        self.converted.append(code)
        manifest = created.manifest
        owner = created.org or self.owner
        hook = manifest.get("hook_attributes") or {}
        return 201, {
            "id": self.app_id,
            "slug": str(manifest.get("name", "fixwurx")).lower().replace(" ", "-"),
            "node_id": "A_kwDOfake",
            "client_id": "Iv1." + secrets.token_hex(8),
            "owner": {"login": owner, "id": 1, "type": "Organization" if created.org else "User"},
            "name": manifest.get("name", ""),
            "description": manifest.get("description"),
            "external_url": manifest["url"],
            "html_url": f"https://github.com/apps/{manifest.get('name', 'fixwurx').lower()}",
            "created_at": "2026-12-06T09:00:00Z",
            "updated_at": "2026-12-06T09:00:00Z",
            "permissions": manifest.get("default_permissions", {}),
            "events": manifest.get("default_events", []),
            "client_secret": secrets.token_hex(20),
            "webhook_secret": secrets.token_hex(20) if hook.get("url") else None,
            "pem": self.private_key_pem,
        }
