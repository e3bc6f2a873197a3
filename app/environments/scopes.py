"""Who may share environments and a uv cache: one repository, never two.

Install steps run a repository's own code (setup commands, setup.py) with its venv and its uv
cache writable. uv copies cached archives into later venvs without checking them again, so a
`.pth` planted in one repository's cache would run in every later build that reads it. Each
repository therefore gets its own scope: the App passes the repository's id; the CLI derives it
here from the checkout, its `origin` remote URL (so two clones of one project share their
downloads) and else its real path. Nothing falls back to a shared scope.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from app.gitcmd import run_git


def checkout_scope(path: Path) -> str:
    """`remote:<origin URL without credentials>`, else `path:<real path>`, for a local checkout."""
    url = _origin_url(path)
    if url:
        return f"remote:{url}"
    return f"path:{os.path.realpath(path)}"


def path_scope(root: Path) -> str:
    """The scope of a request that names none: the directory itself, shared with nothing else."""
    return f"path:{os.path.realpath(root)}"


def _origin_url(path: Path) -> str:
    """The origin URL read from `.git/config` alone (no includes, no command), or ""."""
    config = Path(path) / ".git" / "config"
    if (Path(path) / ".git").is_symlink() or config.is_symlink() or not config.is_file():
        return ""
    found = run_git(None, "config", "--file", str(config), "--get", "remote.origin.url")
    url = found.stdout.strip() if found.returncode == 0 else ""
    return _without_credentials(url)


def _without_credentials(url: str) -> str:
    """`url` without a user:password part (it would only identify, and must not be kept)."""
    if "://" not in url:
        return url  # scp-like git@host:owner/name carries no secret
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))
