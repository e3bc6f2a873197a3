"""Git operations the fake GitHub performs on its own bare repositories: the merge button and
the revert button.

Both really change history (a merge commit whose first parent is the base branch's tip; a
`git revert -m 1` of it), so tests of rollback see the commits GitHub would make and the
simulator's CI runs on them. They work in a throwaway clone and push back into the bare
repository, with a fixed identity and no user or system git configuration.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

BASE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "PATH": "/usr/bin:/bin",
    "HOME": "/nonexistent",
}


def merge(bare: Path, work: Path, base: str, head: str, message: str, by: str) -> str:
    """Merge branch `head` into `base` with a merge commit (`--no-ff`) made by `by`; returns
    the merge commit's sha."""
    env = _env(by)
    _run(["clone", "--quiet", "--branch", base, str(bare), str(work)], bare.parent, env)
    try:
        _run(["merge", "--no-ff", "--quiet", "-m", message, f"origin/{head}"], work, env)
        _run(["push", "--quiet", "origin", f"HEAD:refs/heads/{base}"], work, env)
        return _run(["rev-parse", "HEAD"], work, env).strip()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def revert(bare: Path, work: Path, base: str, commit: str, branch: str, by: str) -> str:
    """Revert `commit` on top of `base` (with `-m 1` when it is a merge: back to the first
    parent) with git's own message, push the result as the new branch `branch`; returns the
    revert commit's sha."""
    env = _env(by)
    _run(["clone", "--quiet", "--branch", base, str(bare), str(work)], bare.parent, env)
    try:
        parents = _run(["rev-list", "--parents", "-n", "1", commit], work, env).split()[1:]
        mainline = ["-m", "1"] if len(parents) > 1 else []
        _run(["revert", "--no-edit", *mainline, commit], work, env)
        _run(["push", "--quiet", "origin", f"HEAD:refs/heads/{branch}"], work, env)
        return _run(["rev-parse", "HEAD"], work, env).strip()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _env(by: str) -> dict[str, str]:
    email = f"{by}@users.noreply.example.com"
    return {
        **BASE_ENV,
        "GIT_AUTHOR_NAME": by,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": "GitHub",
        "GIT_COMMITTER_EMAIL": "noreply@github.example.com",
    }


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"git {args} failed: {done.stderr.decode(errors='replace')}")
    return done.stdout.decode(errors="replace")
