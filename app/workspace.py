"""Disposable work copies. The user's tree is never touched unless they ask for `--apply`.

A copy of a git checkout keeps its history, so the bundle's base commit is the checkout's HEAD.
Uncommitted changes, or a folder that is not a git repository, are snapshotted into a commit
inside the copy first, so the base commit always names exactly the tree the tests ran on.
The copied .git keeps no credentials (see gitcredentials.py); a `.git` that is a link or a
`gitdir:` file (a linked worktree, a submodule) points outside the copy and is not used: such a
folder is snapshotted like one that is not a repository. A `.git` directory that sends git
elsewhere (`commondir`, a `gitdir` file, `objects/info/alternates`) is refused with BadInput:
git would read config (and run its `core.fsmonitor`) or objects from wherever they point.
Links that point outside the checkout are not copied (the snapshot records their absence):
FixWurx's own reads and writes go through `app.workfiles`, and a copy must not offer a way out.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app import workfiles
from app.errors import BadInput
from app.gitcmd import refuse_redirecting_git_dir, run_git
from app.gitcredentials import scrub_git_dir
from app.workfiles import NOT_REPOSITORY_CODE, drop_links_out

log = logging.getLogger(__name__)

#: Left out of copies: environments and caches, never part of a fix, often huge (the copy keeps
#: its version control: snapshots and the base commit need it).
SKIP_DIRS = tuple(sorted(NOT_REPOSITORY_CODE - {".git", ".hg"}))
#: Identity of snapshot commits made inside the disposable copy.
SNAPSHOT_AUTHOR = ("FixWurx", "fixwurx@localhost")
#: Their date: fixed, so the same tree (on the same parent) is always the same commit, and the
#: same fix on it the same bundle id (the base commit is part of what the id covers).
SNAPSHOT_DATE = "2000-01-01T00:00:00+0000"


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
        refuse_redirecting_git_dir(source)
        tmp = tempfile.TemporaryDirectory(prefix="fixwurx-run-")
        root = Path(os.path.realpath(tmp.name)) / source.resolve().name
        links_out = workfiles.copy_tree(source.resolve(), root, ignore=_skipped)
        dot_git = root / ".git"
        if workfiles.is_link(root, ".git") or workfiles.is_file(root, ".git"):
            # A link or a `gitdir:` file names a git directory outside the copy: not ours to use.
            workfiles.remove(root, ".git")
        refuse_redirecting_git_dir(root)  # again on the copy: the checkout may have changed
        scrub_git_dir(dot_git)  # the tests must not find the checkout's tokens in .git
        # Links out were not copied; none can appear since, but the sweep costs little.
        dropped = sorted({*links_out, *drop_links_out(root)})
        is_repo = dot_git.is_dir() and git(root, "rev-parse", "--verify", "HEAD").returncode == 0
        if not is_repo:
            workfiles.rmtree(root / ".git")
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


def _skipped(rel: PurePosixPath) -> bool:
    return rel.name in SKIP_DIRS


def _snapshot(root: Path, message: str) -> None:
    git(root, "add", "-A")
    name, email = SNAPSHOT_AUTHOR
    dated = {**os.environ, "GIT_AUTHOR_DATE": SNAPSHOT_DATE, "GIT_COMMITTER_DATE": SNAPSHOT_DATE}
    result = run_git(
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
        env=dated,
    )
    if result.returncode != 0:
        raise BadInput(f"could not snapshot the work copy: {result.stderr.strip()}")


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git in `root` with repository hooks disabled (a checkout's hooks are its code)."""
    return run_git(root, *args)
