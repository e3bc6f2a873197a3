"""Disposable work copies. The user's tree is never touched unless they ask for `--apply`.

A copy of a git checkout keeps its history, so the bundle's base commit is the checkout's HEAD.
Uncommitted changes, or a folder that is not a git repository, are snapshotted into a commit
inside the copy first, so the base commit always names exactly the tree the tests ran on.
The copied .git keeps no credentials (see gitcredentials.py); a `.git` that is a link or a
`gitdir:` file (a linked worktree, a submodule) points outside the copy and is not used: such a
folder is snapshotted like one that is not a repository. Links that point outside the checkout
are not copied (they are removed before the snapshot, which records their absence): FixWurx's
own reads and writes go through `app.workfiles`, and a copy must not offer a way out either.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.errors import BadInput
from app.gitcmd import run_git
from app.gitcredentials import scrub_git_dir
from app.workfiles import NOT_REPOSITORY_CODE, drop_links_out

log = logging.getLogger(__name__)

#: Left out of copies: environments and caches, never part of a fix, often huge (the copy keeps
#: its version control: snapshots and the base commit need it).
SKIP_DIRS = tuple(sorted(NOT_REPOSITORY_CODE - {".git", ".hg"}))
#: Identity of snapshot commits made inside the disposable copy.
SNAPSHOT_AUTHOR = ("FixWurx", "fixwurx@localhost")


@dataclass
class Workspace:
    """A disposable copy of `source` at `root`, with the commit it represents."""

    source: Path
    root: Path
    base_commit: str
    snapshotted: bool
    _tmp: tempfile.TemporaryDirectory[str]

    @classmethod
    def prepare(cls, source: Path) -> Workspace:
        """Copy `source` away and pin its content to a commit."""
        if not source.exists():
            raise BadInput(f"{source} does not exist")
        if not source.is_dir():
            raise BadInput(f"{source} is not a directory")
        tmp = tempfile.TemporaryDirectory(prefix="fixwurx-run-")
        root = Path(tmp.name) / source.resolve().name
        shutil.copytree(source, root, symlinks=True, ignore=shutil.ignore_patterns(*SKIP_DIRS))
        dot_git = root / ".git"
        if dot_git.is_symlink() or dot_git.is_file():
            # A link or a `gitdir:` file names a git directory outside the copy: not ours to use.
            dot_git.unlink()
        scrub_git_dir(dot_git)  # the tests must not find the checkout's tokens in .git
        dropped = drop_links_out(root)  # before the snapshot: the base commit is the tree tested
        is_repo = dot_git.is_dir() and git(root, "rev-parse", "--verify", "HEAD").returncode == 0
        if not is_repo:
            shutil.rmtree(root / ".git", ignore_errors=True)
            git(root, "init", "-q")
        dirty = bool(git(root, "status", "--porcelain").stdout.strip()) or not is_repo
        if dropped:
            log.warning(
                "work copy: dropped %d link(s) pointing outside the checkout: %s",
                len(dropped),
                ", ".join(str(p) for p in dropped[:5]),
            )
        if dirty:
            _snapshot(
                root, "snapshot of uncommitted changes" if is_repo else "snapshot of the folder"
            )
        head = git(root, "rev-parse", "HEAD").stdout.strip()
        return cls(source, root, head, dirty, tmp)

    def cleanup(self) -> None:
        """Remove the copy."""
        self._tmp.cleanup()


def _snapshot(root: Path, message: str) -> None:
    git(root, "add", "-A")
    name, email = SNAPSHOT_AUTHOR
    result = git(
        root,
        "-c",
        f"user.name={name}",
        "-c",
        f"user.email={email}",
        "commit",
        "-q",
        "--allow-empty",
        "--no-verify",
        "-m",
        f"fixwurx: {message}",
    )
    if result.returncode != 0:
        raise BadInput(f"could not snapshot the work copy: {result.stderr.strip()}")


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in `root` with repository hooks disabled (a checkout's hooks are its code)."""
    return run_git(root, *args)
