"""The one git runner: every git call FixWurx makes, inert whatever the repository configured.

A checkout's git configuration is the repository's (and, in a work copy, its tests') to write:
hooks, `core.fsmonitor`, filter and diff drivers, credential helpers, editors, pagers and
transports are all commands git would run on the host. Every call here therefore:

- reads no system or global config (`GIT_CONFIG_NOSYSTEM`, `GIT_CONFIG_GLOBAL=/dev/null`), so
  only the repository's own config and our `-c` values count;
- turns every command-executing knob off with `-c` (which beats any config file): hooks,
  fsmonitor, editors, pager, askpass, credential helpers, `diff.external`, `ext::` transports,
  and, after reading the repository's config (includes and `commondir` followed, by git itself,
  without running anything), each filter, diff and merge driver and remote program it names;
- passes `--no-ext-diff --no-textconv` to the commands that print diffs.

`app.github.git` adds the network side (token in a header, a scrubbed environment) on top of this
runner, and `app.workspace` refuses a `.git` that reaches outside the copy (`commondir`,
`objects/info/alternates`, a `gitdir:` file).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

#: Seconds a local git call may take; they touch only local files.
GIT_TIMEOUT_S = 120
#: Forced on every call: each value names no command, or one that does nothing.
INERT_CONFIG = (
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "core.editor=false",
    "sequence.editor=false",
    "core.pager=cat",
    "core.askPass=",
    "credential.helper=",
    "core.sshCommand=",
    "core.gitProxy=",
    "diff.external=",
    "gpg.program=",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "protocol.ext.allow=never",
    "uploadpack.packObjectsHook=",
)
#: Keys of the repository's config that run a command: each found is overridden with "".
_EXECUTING = re.compile(
    r"^(filter\..+\.(clean|smudge|process)|diff\..+\.(textconv|command)|merge\..+\.driver"
    r"|remote\..+\.(uploadpack|receivepack|vcs)|credential\..+\.helper|pager\..+"
    r"|gpg\..+\.program|core\.(fsmonitor|sshcommand|askpass|editor|pager|gitproxy))$",
    re.IGNORECASE,
)
#: Subcommands that print diffs: never through an external program or a textconv driver.
_DIFFING = frozenset({"diff", "log", "show"})
#: Environment that would make git run something or read config we did not choose.
_DROPPED_ENV = (
    "GIT_EXTERNAL_DIFF",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_PAGER",
    "GIT_PROXY_COMMAND",
    "GIT_CONFIG",
    "GIT_CONFIG_SYSTEM",
)


def inert_env(env: Mapping[str, str] | None) -> dict[str, str]:
    """`env` (or ours) without command-naming variables, and with no system/global config."""
    base = dict(env) if env is not None else dict(os.environ)
    for name in _DROPPED_ENV:
        base.pop(name, None)
    base.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null", GIT_TERMINAL_PROMPT="0")
    return base


def inert_args(cwd: Path | None, env: Mapping[str, str]) -> list[str]:
    """The `-c` options that switch off every command the repository's config names."""
    args: list[str] = []
    for item in INERT_CONFIG:
        args += ["-c", item]
    for name in _configured_commands(cwd, env):
        args += ["-c", f"{name}="]
    return args


def _configured_commands(cwd: Path | None, env: Mapping[str, str]) -> list[str]:
    """The command-running keys of the repository's config, as git itself reads them.

    `git config --list` follows includes and `commondir` exactly as the real call will, and runs
    nothing (no fsmonitor, no hook, no driver) while listing.
    """
    if cwd is None:
        return []
    listed = subprocess.run(
        ["git", "config", "--includes", "--null", "--name-only", "--list"],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT_S,
        check=False,
    )
    names = listed.stdout.split("\0") if listed.returncode == 0 else []
    return sorted({n for n in names if _EXECUTING.match(n)})


def _with_diff_guards(args: Sequence[str]) -> list[str]:
    """`--no-ext-diff --no-textconv` after a diff-printing subcommand."""
    out = list(args)
    index = 0
    while index < len(out) and out[index] == "-c":  # per-call -c options before the command
        index += 2
    if index < len(out) and out[index] in _DIFFING:
        out[index + 1 : index + 1] = ["--no-ext-diff", "--no-textconv"]
    return out


def run_git(
    cwd: Path | None,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = GIT_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """Run `git args...` in `cwd`, inert (see the module docstring); the caller reads the
    return code."""
    clean = inert_env(env)
    return subprocess.run(
        ["git", *inert_args(cwd, clean), *_with_diff_guards(args)],
        cwd=cwd,
        env=clean,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
