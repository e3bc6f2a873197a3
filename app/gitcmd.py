"""The one git runner: every git call FixWurx makes, with the repository's hooks disabled.

A checkout's hooks are code from the repository: outside the sandbox they must never run, so
every git call goes through here with `core.hooksPath=/dev/null`. `app.github.git` adds the
network side (token in a header, a scrubbed environment) on top of this runner.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

#: Seconds a local git call may take; they touch only local files.
GIT_TIMEOUT_S = 120


def run_git(
    cwd: Path | None,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = GIT_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """Run `git args...` in `cwd`; the caller reads the return code."""
    return subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", *args],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
