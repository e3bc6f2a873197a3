"""Open the revert of a merged fix: one path for the automatic rollback and `/fixwurx revert`.

GraphQL `revertPullRequest` first (what GitHub's Revert button does: GitHub makes the branch
and the commit); when that is refused or unavailable, `git revert -m 1` of the merge, pushed to
`fixwurx/revert-<N>` and opened over REST. Then, in `auto` mode, auto-merge is enabled so branch
protection decides (FixWurx never merges by itself); the fix's issue is reopened with a comment;
and the audit log gets one row. An open revert of the same fix is found and reused, so a re-run
job never opens a second one.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import GitHubError
from app.flows import fixing, records
from app.flows.job import Job
from app.flows.rollback import history, render
from app.flows.rollback.decisions import MergedFix
from app.github import git, graphql
from app.github.client import PullInfo
from app.github.constants import BRANCH_PREFIX

log = logging.getLogger(__name__)

#: FixWurx's branch for the fallback revert of pull request N.
REVERT_BRANCH = BRANCH_PREFIX + "revert-{number}"


@dataclass(frozen=True)
class Reverted:
    """The revert pull request, and how it was opened."""

    number: int
    how: str  # graphql | git | existing


def checks_url(job: Job, sha: str) -> str:
    """The web page of the checks of commit `sha`."""
    return f"{job.repo.html_url}/commit/{sha}/checks"


def open_revert(
    job: Job,
    fix: MergedFix,
    evidence: dict[str, Any],
    *,
    auto: bool = False,
    asked_by: str | None = None,
) -> Reverted:
    """Open (or find) the revert pull request of `fix`, then reopen its issue and audit it."""
    merged = job.repo.pull(fix.number)
    title = render.revert_title(fix.number, merged.title)
    red = str(evidence.get("red_sha") or fix.merge_sha)
    body = render.revert_body(
        fix.number, fix.merge_sha, evidence, checks_url(job, red), fix.issue_number, asked_by
    )
    existing = _open_revert_of(job, fix.number, title)
    if existing is not None:
        return Reverted(existing.number, "existing")
    reverted = _by_graphql(job, merged, title, body) or _by_git(job, fix, title, body)
    records.record_pull(
        job.database_url,
        job.run,
        reverted.number,
        _branch_of(job, reverted),
        job.repo.default_branch,
        None,
        "revert",
    )
    if auto:
        _enable_auto_merge(job, reverted.number)
    if fix.issue_number is not None:
        job.repo.reopen_issue(fix.issue_number)
        job.repo.comment(fix.issue_number, render.issue_comment(fix.number, reverted.number))
    records.audit(
        job.database_url,
        job.run,
        asked_by or "fixwurx",
        "rollback",
        fix=fix.number,
        revert=reverted.number,
        merge_sha=fix.merge_sha,
        how=reverted.how,
        blamed=bool(evidence.get("blamed")),
        reason=str(evidence.get("reason", "")),
    )
    return reverted


def _open_revert_of(job: Job, number: int, title: str) -> PullInfo | None:
    branch = REVERT_BRANCH.format(number=number)
    for pull in job.repo.open_pulls(None):
        if pull.head == branch or pull.title == title:
            return pull
    return None


def _by_graphql(job: Job, merged: PullInfo, title: str, body: str) -> Reverted | None:
    if not merged.node_id:
        return None
    try:
        opened = graphql.revert_pull_request(job.client, merged.node_id, title, body)
    except GitHubError as exc:
        if exc.retryable:
            raise
        log.warning("revertPullRequest on #%s refused (%s); reverting with git", merged.number, exc)
        return None
    return Reverted(opened.number, "graphql")


def _by_git(job: Job, fix: MergedFix, title: str, body: str) -> Reverted:
    """`git revert` of the merge (`-m 1` for a merge commit), pushed to fixwurx/revert-<N>."""
    branch = REVERT_BRANCH.format(number=fix.number)
    base = job.repo.default_branch
    with tempfile.TemporaryDirectory(prefix="fixwurx-revert-") as tmp:
        checkout = git.clone(job.repo.clone_url, job.token(), Path(tmp) / "repo", branch=base)
        mainline = ["-m", "1"] if history.is_merge(checkout, fix.merge_sha) else []
        name, email = fixing.bot_identity(job)
        identity = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
        git.checked_git([*identity, "revert", "--no-edit", *mainline, fix.merge_sha], checkout)
        git.push(checkout, job.repo.clone_url, job.token(), branch, force=True)
    existing = job.repo.open_pulls(branch)
    pull = existing[0] if existing else job.repo.create_pull(title, body, branch, base, False)
    return Reverted(pull.number, "git")


def _branch_of(job: Job, reverted: Reverted) -> str:
    try:
        return job.repo.pull(reverted.number).head
    except GitHubError:
        return ""


def _enable_auto_merge(job: Job, number: int) -> None:
    """Auto-merge on the revert; a repository that does not allow it keeps the open PR."""
    pull = job.repo.pull(number)
    try:
        graphql.enable_auto_merge(job.client, pull.node_id)
    except GitHubError as exc:
        if exc.retryable:
            raise
        log.warning("auto-merge could not be enabled on #%s: %s", number, exc)
