"""git clone, fetch and push with the installation token — in an HTTP header only.

The token travels as `http.<origin>/.extraHeader` set through GIT_CONFIG_COUNT/KEY/VALUE
environment variables: it is never in a URL (which git would store in .git/config and print in
errors), never in argv (visible in `ps`), never written to disk, and the repair chain's copies of
the checkout (the sandbox) see none of it. Error text is scrubbed before it is raised.
"""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from app import gitcmd
from app.errors import GitHubError
from app.github import constants
from app.observability import scrub_text

#: The variables git itself needs; everything else in our environment stays out of git's.
_PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "SSL_CERT_DIR")


def auth_env(url: str, token: str) -> dict[str, str]:
    """Environment that makes git send `token` to `url`'s origin (and nowhere else)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}/"
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"http.{origin}.extraHeader",
        "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}",
    }


def _base_env() -> dict[str, str]:
    env = {k: os.environ[k] for k in _PASSED_ENV if k in os.environ}
    # Never prompt (a worker has no terminal) and never read the operator's ~/.gitconfig or
    # credential helpers, which could add credentials we did not choose.
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL="/dev/null",
        GIT_ASKPASS="/bin/false",
    )
    return env


def checked_git(
    args: list[str],
    cwd: Path | None,
    *,
    url: str | None = None,
    token: str | None = None,
    stdin: str | None = None,
    timeout: float = constants.NETWORK_GIT_TIMEOUT_S,
) -> str:
    """Run git through `app.gitcmd`; raise `GitHubError` on failure. With `url` and `token` it
    authenticates by header. Returns stdout."""
    env = _base_env()
    if url and token:
        env.update(auth_env(url, token))
    try:
        done = gitcmd.run_git(cwd, *args, env=env, stdin=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise GitHubError(f"git {args[0]} timed out after {timeout:.0f}s", retryable=True) from None
    if done.returncode != 0:
        secrets = [token] if token else []
        detail = scrub_text(
            done.stderr.strip() or done.stdout.strip(), secrets, limit=2000, keep="tail"
        )
        raise GitHubError(f"git {args[0]} failed ({done.returncode}): {detail}")
    return done.stdout


def clone(url: str, token: str, dest: Path, branch: str | None = None) -> Path:
    """Clone `url` into `dest` (full history: a base commit may be anywhere on the branch)."""
    args = ["clone", "--no-tags", "--quiet"]
    if branch:
        # Only that branch's history: a commit that is not on it (a fork's) cannot be checked out.
        args += ["--branch", branch, "--single-branch"]
    checked_git([*args, "--", url, str(dest)], None, url=url, token=token)
    return dest


def checkout(repo: Path, commit: str, branch: str) -> None:
    """Create and switch to `branch` at `commit`."""
    checked_git(["checkout", "--quiet", "-B", branch, commit], repo)


def has_commit(repo: Path, commit: str) -> bool:
    """Whether `commit` exists in the clone (it does not when it lives only in a fork)."""
    try:
        checked_git(["cat-file", "-e", f"{commit}^{{commit}}"], repo)
    except GitHubError:
        return False
    return True


def head(repo: Path) -> str:
    """The commit HEAD points at."""
    return checked_git(["rev-parse", "HEAD"], repo).strip()


def diff_against(repo: Path, base: str) -> str:
    """The working tree's changes relative to `base`, as `git diff` prints them."""
    return checked_git(["diff", "--no-color", "--no-ext-diff", base], repo)


def commit_all(repo: Path, message: str, name: str, email: str) -> str:
    """Commit every change as `name <email>` (author and committer); returns the commit sha."""
    checked_git(["add", "--all"], repo)
    identity = [
        "-c",
        f"user.name={name}",
        "-c",
        f"user.email={email}",
        "-c",
        "commit.gpgsign=false",
    ]
    checked_git([*identity, "commit", "--quiet", "--no-verify", "-m", message], repo)
    return head(repo)


def push(repo: Path, url: str, token: str, branch: str, *, force: bool = False) -> None:
    """Push HEAD to `branch` at `url`. `force` only ever targets FixWurx's own branches."""
    if force and not branch.startswith(constants.BRANCH_PREFIX):
        raise GitHubError(f"refusing to force-push {branch!r}: only {constants.BRANCH_PREFIX}*")
    spec = f"{'+' if force else ''}HEAD:refs/heads/{branch}"
    checked_git(["push", "--quiet", "--", url, spec], repo, url=url, token=token)
