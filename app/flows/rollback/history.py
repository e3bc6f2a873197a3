"""The default branch's first-parent history: what "the commits since the merge" means.

A merge commit's first parent is the branch as it was before the merge (the fix's base); the
first-parent chain from there to a failing commit is the list of states the branch went
through, which is what CI tested and what bisection probes. Side branches merged later are
entered through their merge commit, never commit by commit.
"""

from __future__ import annotations

from pathlib import Path

from app.errors import BadInput
from app.gitcmd import run_git


def _git(checkout: Path, *args: str) -> str:
    done = run_git(checkout, *args)
    if done.returncode != 0:
        raise BadInput(f"git {args[0]} failed in the rollback checkout: {done.stderr.strip()}")
    return done.stdout


def first_parent(checkout: Path, sha: str) -> str | None:
    """The first parent of `sha` (None for a root commit)."""
    parents = _git(checkout, "rev-list", "--parents", "-n", "1", sha).split()[1:]
    return parents[0] if parents else None


def is_merge(checkout: Path, sha: str) -> bool:
    """Whether `sha` has more than one parent."""
    return len(_git(checkout, "rev-list", "--parents", "-n", "1", sha).split()) > 2


def chain(checkout: Path, base: str, tip: str) -> list[str]:
    """First-parent commits after `base` up to and including `tip`, oldest first."""
    listed = _git(checkout, "rev-list", "--first-parent", "--reverse", f"{base}..{tip}")
    return listed.split()


def commits_since(checkout: Path, merge_sha: str, failing_sha: str) -> int | None:
    """How many first-parent commits landed after the merge up to `failing_sha`: 0 when the
    failing commit is the merge itself, None when it is not on the merge's first-parent line."""
    base = first_parent(checkout, merge_sha)
    if base is None:
        return None
    commits = chain(checkout, base, failing_sha)
    if merge_sha not in commits:
        return None
    return len(commits) - 1 - commits.index(merge_sha)


def has(checkout: Path, sha: str) -> bool:
    """Whether the clone holds commit `sha`."""
    return run_git(checkout, "cat-file", "-e", f"{sha}^{{commit}}").returncode == 0


def reaches(checkout: Path, merge_sha: str, failing_sha: str) -> bool:
    """Whether `merge_sha` is in `failing_sha`'s history at all (first-parent line or not)."""
    done = run_git(checkout, "merge-base", "--is-ancestor", merge_sha, failing_sha)
    return done.returncode == 0


def off_first_parent(checkout: Path, merge_sha: str, failing_sha: str) -> bool:
    """Whether the merge reached the failing commit only through a side branch (a fix merged
    into a release branch that the default branch merged later): no first-parent window to
    bisect, so FixWurx cannot judge it."""
    return commits_since(checkout, merge_sha, failing_sha) is None and reaches(
        checkout, merge_sha, failing_sha
    )
