"""`fixwurx setup`: create the GitHub App from app.yml in one command (the manifest flow).

Probot's `npm start` does this for its apps; FixWurx serves the same flow from a page on
127.0.0.1: open it, it posts the manifest to GitHub (GITHUB_URL: github.com or a GitHub
Enterprise Server), you click Create, GitHub redirects back here with a code, and the App's id,
key (a 0600 file), webhook secret and OAuth client are written into `.env`. The local server
listens on loopback only and accepts the one redirect that carries its random `state`.
"""

from __future__ import annotations

import html
import json
import os
import secrets
import threading
import urllib.parse
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import click

from app.errors import BadInput
from app.onboarding import envfile
from app.onboarding.manifest import GITHUB_COM, CreatedApp, GitHubHost, convert, load_manifest

#: Where the shipped manifest is when the current directory has none.
SHIPPED_MANIFEST = Path(__file__).resolve().parents[2] / "app.yml"
#: How long setup waits for the browser round trip before giving up.
DEFAULT_WAIT_S = 900.0


@dataclass(frozen=True)
class SetupRequest:
    """What `fixwurx setup` was asked for."""

    manifest: Path
    env_path: Path
    key_path: Path
    host: GitHubHost
    org: str | None = None
    webhook_url: str | None = None
    port: int = 0
    force: bool = False
    wait_s: float = DEFAULT_WAIT_S


@dataclass
class _Flow:
    request: SetupRequest
    state: str
    manifest: dict[str, object]
    created: CreatedApp | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


def run_setup(request: SetupRequest, on_ready: Callable[[str], None]) -> CreatedApp:
    """Serve the flow on 127.0.0.1 until GitHub's redirect came back; returns the new App."""
    envfile.check_writable(request.env_path, request.key_path, request.force)
    server = ThreadingHTTPServer(("127.0.0.1", request.port), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    manifest = load_manifest(request.manifest, f"{base}/callback", request.webhook_url)
    flow = _Flow(request, secrets.token_urlsafe(24), manifest)
    server.flow = flow  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        on_ready(f"{base}/")
        if not flow.done.wait(request.wait_s):
            raise BadInput(f"no answer from GitHub within {request.wait_s:.0f} s; run it again")
    finally:
        server.shutdown()
        server.server_close()
    if flow.error or flow.created is None:
        raise BadInput(flow.error or "the App was not created")
    return flow.created


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        flow: _Flow = self.server.flow  # type: ignore[attr-defined]
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/":
            self._send(200, _start_page(flow))
        elif url.path == "/callback":
            self._send(*_callback(flow, urllib.parse.parse_qs(url.query)))
        else:
            self._send(404, "<p>Not found.</p>")

    def _send(self, status: int, body: str) -> None:
        data = f"<!doctype html><meta charset=utf-8><title>FixWurx setup</title>{body}".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass  # the URL carries the one-time code


def _start_page(flow: _Flow) -> str:
    action = flow.request.host.new_app_url(flow.request.org, flow.state)
    manifest = html.escape(json.dumps(flow.manifest), quote=True)
    return (
        f'<form id="manifest" method="post" action="{html.escape(action, quote=True)}">'
        f'<input type="hidden" name="manifest" value="{manifest}">'
        "<p>This posts FixWurx's App manifest to "
        f"{html.escape(flow.request.host.web_url)}.</p>"
        '<button type="submit">Create the GitHub App</button></form>'
        "<script>document.getElementById('manifest').submit()</script>"
    )


def _callback(flow: _Flow, query: dict[str, list[str]]) -> tuple[int, str]:
    state, code = (query.get("state") or [""])[0], (query.get("code") or [""])[0]
    if flow.done.is_set():
        return 409, "<p>This setup is finished; run <code>fixwurx setup</code> again.</p>"
    if not secrets.compare_digest(state, flow.state) or not code:
        return 400, "<p>This redirect does not belong to this setup (state mismatch).</p>"
    try:
        created = convert(flow.request.host, code)
        envfile.write(
            created,
            flow.request.host,
            flow.request.env_path,
            flow.request.key_path,
            flow.request.force,
        )
    except (BadInput, OSError) as exc:
        flow.error = str(exc)
        flow.done.set()
        return 502, f"<p>Setup failed: {html.escape(str(exc))}</p>"
    flow.created = created
    flow.done.set()
    return 200, (
        f"<p>Created the GitHub App <strong>{html.escape(created.slug)}</strong> "
        f"(id {created.app_id}). Its settings are in {html.escape(str(flow.request.env_path))}; "
        "install the App on a repository, then start FixWurx.</p>"
    )


@click.command("setup")
@click.option("--manifest", type=click.Path(path_type=Path), help="Default: ./app.yml.")
@click.option("--env-file", "env_path", type=click.Path(path_type=Path), default=Path(".env"))
@click.option(
    "--key-file", "key_path", type=click.Path(path_type=Path), default=Path("fixwurx-app.pem")
)
@click.option("--org", help="Create the App under this organization (default: your account).")
@click.option("--webhook-url", help="Where GitHub sends webhooks (default: app.yml's).")
@click.option("--port", type=int, default=0, help="Local port of the setup page (default: any).")
@click.option("--force", is_flag=True, help="Overwrite an existing .env and key file.")
@click.option("--no-browser", is_flag=True, help="Print the page's address; do not open it.")
def setup(
    manifest: Path | None,
    env_path: Path,
    key_path: Path,
    org: str | None,
    webhook_url: str | None,
    port: int,
    force: bool,
    no_browser: bool,
) -> None:
    """Create the GitHub App from app.yml and write its settings into .env (GITHUB_URL for GHES)."""
    chosen = manifest or (Path("app.yml") if Path("app.yml").exists() else SHIPPED_MANIFEST)
    request = SetupRequest(
        manifest=chosen,
        env_path=env_path.absolute(),
        key_path=key_path.absolute(),
        host=GitHubHost(os.environ.get("GITHUB_URL") or GITHUB_COM),
        org=org,
        webhook_url=webhook_url,
        port=port,
        force=force,
    )

    def ready(url: str) -> None:
        click.echo(f"Open {url} in a browser on this machine to create the App.", err=True)
        if not no_browser:
            webbrowser.open(url)

    created = run_setup(request, ready)
    click.echo(f"created {created.slug or created.app_id}; settings written to {env_path}")
