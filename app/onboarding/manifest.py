"""The App manifest (app.yml) as GitHub's manifest flow wants it, and the code conversion.

GitHub's flow: a browser POSTs `manifest=<JSON>` to `{GITHUB_URL}/settings/apps/new` (or an
organization's), the user clicks Create, GitHub redirects to the manifest's `redirect_url` with
a one-time `code`, and `POST {api}/app-manifests/{code}/conversions` (no authentication) returns
the App: its id, private key, webhook secret and OAuth client. GitHub Enterprise Server serves
the same at its own host, with the API under `/api/v3`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from app.errors import BadInput

#: GitHub itself; any other GITHUB_URL is a GitHub Enterprise Server.
GITHUB_COM = "https://github.com"
#: Seconds the conversion request may take.
HTTP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class GitHubHost:
    """Where the manifest page and the REST API of one GitHub are."""

    web_url: str

    @property
    def api_url(self) -> str:
        web = self.web_url.rstrip("/")
        return "https://api.github.com" if web == GITHUB_COM else f"{web}/api/v3"

    def new_app_url(self, org: str | None, state: str) -> str:
        owner = f"/organizations/{urllib.parse.quote(org)}" if org else ""
        query = urllib.parse.urlencode({"state": state})
        return f"{self.web_url.rstrip('/')}{owner}/settings/apps/new?{query}"


@dataclass(frozen=True)
class CreatedApp:
    """What the conversion returned, the fields `.env` needs."""

    app_id: int
    slug: str
    owner: str
    pem: str
    webhook_secret: str
    client_id: str
    client_secret: str
    html_url: str


def load_manifest(path: Path, redirect_url: str, webhook_url: str | None) -> dict[str, Any]:
    """app.yml as the manifest JSON, pointed at our redirect (and webhook URL, when given)."""
    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"cannot read the manifest {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(manifest, dict) or not manifest.get("url"):
        raise BadInput(f"{path} is not an App manifest (it needs at least `url:`); see app.yml")
    manifest["redirect_url"] = redirect_url
    if webhook_url:
        manifest.setdefault("hook_attributes", {})["url"] = webhook_url
    return manifest


def convert(host: GitHubHost, code: str) -> CreatedApp:
    """Exchange the one-time code for the App's credentials."""
    url = f"{host.api_url}/app-manifests/{urllib.parse.quote(code)}/conversions"
    request = urllib.request.Request(
        url,
        data=b"",
        method="POST",
        headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            data = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise BadInput(
            f"GitHub answered {exc.code} to the code conversion at {host.api_url}: the code "
            "is good once and for an hour; run `fixwurx setup` again"
        ) from None
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        raise BadInput(f"cannot reach {host.api_url} ({exc}); check GITHUB_URL") from None
    return _created(data)


def _created(data: Any) -> CreatedApp:
    try:
        return CreatedApp(
            app_id=int(data["id"]),
            slug=str(data.get("slug") or ""),
            owner=str((data.get("owner") or {}).get("login") or ""),
            pem=str(data["pem"]),
            webhook_secret=str(data.get("webhook_secret") or ""),
            client_id=str(data["client_id"]),
            client_secret=str(data["client_secret"]),
            html_url=str(data.get("html_url") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadInput(f"GitHub's conversion answer lacks {exc}") from None
