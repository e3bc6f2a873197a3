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
runner. A `.git` directory that sends git to another directory (`commondir`, `gitdir`,
`objects/info/alternates`: a test in the copy could have written them) is refused before any
call (`refuse_redirecting_git_dir`), with an error that names the file; `app.workspace` also
checks the user's checkout before copying it.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from app import workfiles
from app.errors import BadInput

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


#: Files inside a .git directory that make git read another directory's config or objects.
REDIRECTING = ("commondir", "gitdir", "objects/info/alternates", "objects/info/http-alternates")


def refuse_redirecting_git_dir(checkout: Path) -> None:
    """BadInput when `checkout/.git` is a directory that sends git to another directory.

    A worktree-style `commondir` (or a `gitdir` file) makes git read that directory's config,
    so a checkout could point it at a folder of its own whose config sets `core.fsmonitor`, past
    the credential scrub; alternates make it read objects from anywhere on the host.
    """
    try:
        with workfiles.opened(checkout) as fd:
            if not stat.S_ISDIR(os.lstat(".git", dir_fd=fd).st_mode):
                return  # absent, a link or a `gitdir:` file: app.workspace drops those
    except OSError:
        return
    found = [
        name
        for name in REDIRECTING
        if workfiles.exists(checkout, f".git/{name}") or workfiles.is_link(checkout, f".git/{name}")
    ]
    if found:
        raise BadInput(
            f"{checkout}/.git has {', '.join(found)}: git would read another "
            "directory's config or objects through it, so FixWurx refuses this checkout. Run "
            "FixWurx on the main worktree or a plain clone (for alternates: `git repack -a -d`, "
            "then remove .git/objects/info/alternates)"
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
    return code. BadInput when `cwd/.git` redirects git elsewhere."""
    if cwd is not None:
        refuse_redirecting_git_dir(Path(cwd))
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
