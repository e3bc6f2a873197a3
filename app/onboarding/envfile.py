"""Write what the manifest flow returned: the key file (0600) and `.env` (0600).

`.env` is the operator's; an existing one is never overwritten unless they say `--force`.
Values are written bare (`KEY=value`): every one is an id, a hex secret or a path without
spaces, so the file reads the same to `docker compose --env-file`, systemd's EnvironmentFile
and `set -a; . ./.env`.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from app.errors import BadInput
from app.onboarding.manifest import CreatedApp, GitHubHost


def env_lines(app: CreatedApp, host: GitHubHost, key_path: Path) -> list[str]:
    """The settings FixWurx reads, for the new App."""
    lines = [
        f"APP_ID={app.app_id}",
        f"PRIVATE_KEY_PATH={key_path}",
        f"WEBHOOK_SECRET={app.webhook_secret}",
        f"GITHUB_CLIENT_ID={app.client_id}",
        f"GITHUB_CLIENT_SECRET={app.client_secret}",
        f"SECRET_KEY={secrets.token_hex(32)}",
    ]
    if app.owner:
        lines.append(f"DASHBOARD_USERS={app.owner}")
    if host.api_url != "https://api.github.com":
        lines.append(f"GITHUB_API_URL={host.api_url}")
    return lines


def check_writable(env_path: Path, key_path: Path, force: bool) -> None:
    """Refuse before the flow starts, not after GitHub has created the App."""
    for path in (env_path, key_path):
        if path.exists() and not force:
            raise BadInput(f"{path} exists; move it away or run `fixwurx setup --force`")
        if not path.parent.is_dir():
            raise BadInput(f"{path.parent} is not a directory; create it or choose another path")


def write(app: CreatedApp, host: GitHubHost, env_path: Path, key_path: Path, force: bool) -> None:
    check_writable(env_path, key_path, force)
    _write_private(key_path, app.pem if app.pem.endswith("\n") else app.pem + "\n", force)
    body = "# Written by `fixwurx setup` for the GitHub App " + (app.slug or str(app.app_id))
    _write_private(env_path, body + "\n" + "\n".join(env_lines(app, host, key_path)) + "\n", force)


def _write_private(path: Path, text: str, force: bool) -> None:
    """Created 0600 from the start (no window where the key is world-readable)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    fd = os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
