"""The fix flows: a labelled issue (or `/fixwurx fix`) and a failed CI run.

Both clone with the installation token in a header, run the repair chain on the checkout (the
chain works on its own disposable copy, through the sandbox), and publish a verified bundle as a
draft pull request — after checking the bundle's hash and that the committed change is exactly
the bundle's diff. Guards come first, so a refused run costs one comment at most.

Every flow returns a `Verdict` (app.runs.verdict) and records nothing itself: the job function
(`workers.jobs.process_run`) records it. A `/fixwurx stop` is noticed at every stage's start and
every candidate (a Redis signal), after every stage (the persisted state's conditional write),
and again just before the push (the bundle's write) and before the pull request is opened (the
`publish` stage's write). The guards read the job's snapshot: no session of their own.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from unidiff import PatchSet

from app import command_table
from app.chain.lineage import RunRecorder
from app.chain.planner import RepairOptions, RepairOutcome, repair
from app.chain.state import RunState
from app.config import Settings
from app.environments import EnvironmentRequest
from app.environments.model import default_cache_dir
from app.errors import BundleMismatch, FixwurxError, GitHubError
from app.flows import records, render
from app.flows.ci import start as ci_start
from app.flows.job import Job, RunStopped, report_config_error
from app.github import git
from app.github.client import IssueInfo, PullInfo
from app.github.constants import BRANCH_PREFIX
from app.patches import (
    ALLOW_GITHUB_PATHS_ROLE,
    PatchBundle,
    apply_diff,
    asks_github_paths,
    verify_bundle,
)
from app.repo_config import RepoConfig, role_allows
from app.runs import verdict
from app.runs.verdict import Refused, Verdict
from app.testing.junit_ids import is_node_id, node_ids
from app.testing.repro_match import Attempt

#: FixWurx's branch for the fix of issue N.
ISSUE_BRANCH = BRANCH_PREFIX + "issue-{number}"
ISSUE_BRANCH_RE = re.compile(re.escape(BRANCH_PREFIX) + r"issue-(\d+)$")


# --- issue fixes -----------------------------------------------------------------------------


def fix_issue(
    job: Job, *, retrying: bool = False, instructions: str = "", revising: bool = False
) -> Verdict:
    """The fix job for an issue: guards, 👀, status comment, clone, chain, PR or failure.

    `revising` (`/fixwurx revise`): a follow-up on the fix already proposed, not a new attempt,
    so the cooldown does not apply and the chain starts from the open pull request's head (its
    committed patch) when there is one, with the user's text as instructions.
    """
    if job.config_state.error:
        report_config_error(job)
        return verdict.refused("the repo config is invalid; nothing was done")
    issue = job.repo.issue(job.number)
    refusal = _issue_guard(job, issue, retrying, cooldown=not revising)
    if refusal is not None:
        if not issue.locked and refusal.tell_user:
            job.reply_once(render.guard_comment(refusal.reason))
        return refusal
    job.repo.react(job.number, "eyes")
    text = f"{issue.title}\n\n{issue.body}"
    if instructions:
        text += f"\n\nInstructions from @{job.run.requested_by}:\n{instructions}"
    branch = ISSUE_BRANCH.format(number=job.number)
    start = job.repo.default_branch
    if revising and _open_pull(job, branch) is not None:
        start = branch
    return _repair_and_publish(
        job,
        clone_branch=start,
        commit=None,
        issue_text=text,
        branch=branch,
        base_branch=job.repo.default_branch,
        title=render.pr_title(job.number, issue.title),
        fixes=job.number,
    )


def _issue_guard(
    job: Job, issue: IssueInfo, retrying: bool, *, cooldown: bool = True
) -> Refused | None:
    """Why this run must not start (None when it may), and whether to tell the user."""
    config = job.config
    if issue.is_pull_request:
        return verdict.refused("this is a pull request; label an issue instead", tell_user=True)
    if job.run.kind == "issue" and config.trigger_label.casefold() not in {
        label.casefold() for label in issue.labels
    }:
        return verdict.refused(
            f"the issue does not carry the configured label {config.trigger_label!r}"
        )
    if issue.state != "open":
        return verdict.refused("the issue is closed", tell_user=True)
    if issue.locked:
        return verdict.refused("the issue is locked")
    branch = ISSUE_BRANCH.format(number=job.number)
    existing = _open_pull(job, branch)
    facts = job.facts()
    # A resumed run whose worker died after opening the PR finds its own PR: not a refusal.
    ours = existing is not None and existing == facts.opened_by_run
    if existing is not None and not retrying and not ours:
        return verdict.refused(
            f"a FixWurx pull request is already open for this issue: #{existing}", tell_user=True
        )
    if facts.tried >= config.max_attempts:
        return verdict.refused(
            f"all {config.max_attempts} attempts on this issue are used up "
            "(`max_attempts` in `.github/fixwurx.yml`)",
            tell_user=True,
        )
    last = facts.last_tried_at
    if cooldown and last is not None and config.cooldown_minutes:
        ready = last + dt.timedelta(minutes=config.cooldown_minutes)
        if ready > dt.datetime.now(dt.UTC):
            return verdict.refused(
                f"cooling down after the last attempt; try again after {ready:%H:%M} UTC",
                tell_user=True,
            )
    return None


def _open_pull(job: Job, branch: str) -> int | None:
    """An open FixWurx PR from `branch`, from our records or from GitHub itself."""
    recorded = job.facts().open_pulls.get(branch)
    if recorded is not None:
        return recorded
    live = job.repo.open_pulls(branch)
    return live[0].number if live else None


# --- CI failures -----------------------------------------------------------------------------


def fix_ci(job: Job, *, requested: bool = False, instructions: str = "") -> Verdict:
    """The CI-failure job: same-repo branches only, capped per commit, never our own branches."""
    run = job.run
    refusal = _ci_guard(job, requested)
    if refusal is not None:
        return refusal
    assert run.branch is not None and run.head_sha is not None  # checked by the guard
    if run.pr_number is not None:
        job.repo.react(run.pr_number, "eyes")
    text = f"CI failed on branch {run.branch} at commit {run.head_sha}."
    if instructions:
        text += f"\n\nInstructions from @{run.requested_by}:\n{instructions}"
    return _repair_and_publish(
        job,
        clone_branch=run.branch,
        commit=run.head_sha,
        issue_text=text,
        branch=f"{BRANCH_PREFIX}ci-{run.head_sha[:12]}",
        base_branch=run.branch,
        title=f"Fix CI on {run.branch} ({run.head_sha[:7]})",
        fixes=None,
    )


def _ci_guard(job: Job, requested: bool) -> Refused | None:
    """Why this CI run must not start (None when it may); CI refusals are never commented."""
    run, config = job.run, job.config
    if job.config_state.error:
        if run.pr_number is not None:
            report_config_error(job)
        return verdict.refused("the repo config is invalid; nothing was done")
    if not requested and not config.auto_fix_ci:
        return verdict.refused(
            "auto-fix of CI failures is off (`auto_fix_ci` in `.github/fixwurx.yml`)"
        )
    if not run.branch or not run.head_sha:
        return verdict.refused("the check names no branch or commit")
    if run.branch.startswith(BRANCH_PREFIX):
        return verdict.refused(f"{run.branch} is FixWurx's own branch; fixing it could loop")
    if job.facts().ci_attempts >= config.ci_attempts_per_commit:
        return verdict.refused(
            f"commit {run.head_sha[:12]} already had {config.ci_attempts_per_commit} attempt(s)"
        )
    if run.pr_number is not None:
        pull = job.repo.pull(run.pr_number)
        if pull.head_repo != job.repo.full_name:
            return verdict.refused(
                f"pull request #{run.pr_number} comes from a fork ({pull.head_repo})"
            )
    return None


# --- a revision round after the repository's CI failed on a fix ---------------------------


def revise_after_ci(
    job: Job,
    pr_number: int | None,
    base_sha: str,
    instructions: str,
    lineage: ci_start.Lineage,
    ci_failing: tuple[str, ...] = (),
) -> Verdict:
    """Repair again at the same base with CI's failures as feedback; push to the same branch.

    The new verified commit replaces the old one on the fix branch (force push, as any re-run),
    with a new bundle; the CI watch of the new commit names the old bundle as its parent, so
    the lineage shows both. A configured `test_command` is widened with the tests CI failed,
    so the sandbox runs what CI ran (a module only CI runs, for example).
    """
    if pr_number is None:
        return verdict.done("the fix has no pull request to revise")
    job.config_state = replace(
        job.config_state, config=_with_tests(job.config_state.config, ci_failing)
    )
    pull = job.repo.pull(pr_number)
    own = ISSUE_BRANCH_RE.match(pull.head)
    if own:
        issue = job.repo.issue(int(own.group(1)))
        job = retarget(job, issue.number)
        text, title, fixes = (
            f"{issue.title}\n\n{issue.body}",
            render.pr_title(issue.number, issue.title),
            issue.number,
        )
    else:
        text, title, fixes = f"CI failed on branch {pull.base}.", f"Fix CI on {pull.base}", None
    return _repair_and_publish(
        job,
        clone_branch=pull.base,
        commit=base_sha,
        issue_text=f"{text}\n\n{instructions}",
        branch=pull.head,
        base_branch=pull.base,
        title=title,
        fixes=fixes,
        lineage=lineage,
    )


def _with_tests(config: RepoConfig, tests: tuple[str, ...]) -> RepoConfig:
    """The config with `tests` added to its test command (none configured: pytest finds all).

    Only pytest node ids are added (a JUnit id in xunit2's dotted form is mapped first): a
    name that is not a path would make pytest exit 4 and fail a good fix."""
    runnable = [t for t in node_ids(list(tests)) if is_node_id(t)]
    if not config.test_command or not runnable:
        return config
    command = " ".join([config.test_command, *(shlex.quote(t) for t in runnable[:20])])
    return replace(config, test_command=command)


# --- the shared part: clone, repair, publish -------------------------------------------------


def _repair_and_publish(
    job: Job,
    *,
    clone_branch: str,
    commit: str | None,
    issue_text: str,
    branch: str,
    base_branch: str,
    title: str,
    fixes: int | None,
    lineage: ci_start.Lineage | None = None,
) -> Verdict:
    if job.run.status == "stopped":  # as the snapshot read it, a moment ago
        raise RunStopped(f"run {job.run.id} was stopped")
    # The status comment's id and the stage are written with the chain's states, not on their own.
    job.chain_writes = True
    try:
        return _clone_repair_publish(
            job, clone_branch, commit, issue_text, branch, base_branch, title, fixes, lineage
        )
    finally:
        job.chain_writes = False
        job.save_comment_id()  # only when no boundary write carried it (a refusal, an error)


def _clone_repair_publish(
    job: Job,
    clone_branch: str,
    commit: str | None,
    issue_text: str,
    branch: str,
    base_branch: str,
    title: str,
    fixes: int | None,
    lineage: ci_start.Lineage | None,
) -> Verdict:
    job.stage("clone", "running", f"cloning {clone_branch}", force=True)
    with tempfile.TemporaryDirectory(prefix="fixwurx-clone-") as tmp:
        checkout = Path(tmp) / "repo"
        try:
            git.clone(job.repo.clone_url, job.token(), checkout, branch=clone_branch)
        except GitHubError as exc:
            job.stage("clone", "failed", str(exc), force=True)
            raise
        if commit is not None:
            if not git.has_commit(checkout, commit):
                why = f"commit {commit[:12]} is not on {clone_branch} in this repository (a fork?)"
                return verdict.refused(why)
            git.checkout(checkout, commit, "fixwurx-base")
        base = git.head(checkout)
        job.stage("clone", "done", f"at {base[:12]}")
        job.check_signal()
        try:
            outcome = _repair(job, checkout, issue_text)
        except FixwurxError as exc:
            if exc.retryable or isinstance(exc, RunStopped):
                raise
            return _report_error(job, str(exc))  # e.g. no tests found: tell the user
        if outcome.status == "fixed" and outcome.bundle is not None:
            target = Target(branch, base_branch, title, fixes, lineage or ci_start.Lineage())
            return _publish(job, checkout, base, outcome.bundle, target)
    return _report_failure(job, outcome)


def _repair(job: Job, checkout: Path, issue_text: str) -> RepairOutcome:
    config = job.config

    recorder = RunRecorder(job.database_url, job.run.id, status_comment_id=job.take_comment_id())

    def progress(stage: str, message: str) -> None:
        job.check_signal()  # a stage's start or a candidate: one Redis EXISTS, no database
        job.stage(stage, "running", message)

    def on_state(state: RunState) -> None:
        for done in state.done:
            if job.progress.get(done, ("", ""))[0] != "done":
                job.stage(done, "done", job.progress.get(done, ("", ""))[1])
        # The recorder has just persisted the state through app.runs, conditional on the run
        # still running: its answer is the stop check at this boundary.
        if not recorder.running:
            job.not_running()

    options = RepairOptions(
        repo_test_command=config.test_command,
        issue_text=issue_text,
        timeout=config.timeout_seconds,
        ignore_paths=config.ignore_paths,
        progress=progress,
        on_state=on_state,
        recorder=recorder,
        settings=_run_settings(job),
        repository=job.run.full_name,
        repository_id=job.run.repository_id,
        installation_id=job.run.installation_id,
        repo_models=dict(config.models) or None,
        resume=_saved_state(job),
        environment=environment_request(job),
        allow_github_paths=github_paths_allowed(job),
        agent=config.agent or command_table.asks_agent(job.run.command, job.run.command_args),
    )
    try:
        return repair(checkout, options)
    finally:
        job.unsaved_comment_id = recorder.status_comment_id  # still unsaved: no state written


def github_paths_allowed(job: Job) -> bool:
    """Whether this run may edit `.github/` and `.gitmodules`: only a repair command that asks
    for it (`--allow-github-paths`) given by a maintainer or admin, asked of GitHub again here."""
    run = job.run
    if run.command not in ("fix", "retry", "revise") or not asks_github_paths(run.command_args):
        return False
    role = job.repo.permission(run.requested_by or "")
    return role_allows(role, ALLOW_GITHUB_PATHS_ROLE)


def _saved_state(job: Job) -> RunState | None:
    """The chain state a dead worker left for this run, when the sweeper resumed it."""
    snapshot = job.snapshot
    if snapshot is None or snapshot.resumes == 0:
        return None
    return RunState.from_json(snapshot.saved_state) if snapshot.saved_state else None


def environment_request(job: Job) -> EnvironmentRequest:
    """The repo config's setup:/python:, in this worker's cache, scoped to the repository.

    The scope keeps one repository's install steps from building or poisoning another's
    environment (see EnvironmentRequest.scope).
    """
    configured = _run_settings(job).environment_cache_dir
    return EnvironmentRequest(
        setup=job.config.setup,
        python=job.config.python,
        scope=f"repository:{job.run.repository_id}",
        cache_dir=Path(configured) if configured else default_cache_dir(),
    )


def _run_settings(job: Job) -> Settings:
    """The deployment's settings with the repo config's run budgets, where it sets them."""
    config = job.config
    budgets: dict[str, Any] = {}
    if config.budget_run_usd is not None:
        budgets["budget_run_usd"] = config.budget_run_usd
    if config.budget_run_tokens is not None:
        budgets["budget_run_tokens"] = config.budget_run_tokens
    return job.settings.replace(**budgets)


@dataclass(frozen=True)
class Target:
    """Where a verified fix goes: its branch, the PR's base, title, issue, and CI lineage."""

    branch: str
    base_branch: str
    title: str
    fixes: int | None
    lineage: ci_start.Lineage


def _publish(job: Job, checkout: Path, base: str, bundle: PatchBundle, target: Target) -> Verdict:
    branch, base_branch, title, fixes = (
        target.branch,
        target.base_branch,
        target.title,
        target.fixes,
    )
    data = bundle.to_json()
    _commit_bundle(job, checkout, base, data, title)
    head = git.head(checkout)
    job.stage("publish", "running", f"pushing {branch}")
    # The last look before anything leaves the machine: the status, read with the bundle's write.
    if records.save_bundle(job.database_url, job.run.id, data) == "stopped":
        raise RunStopped(f"run {job.run.id} was stopped")
    try:
        git.push(checkout, job.repo.clone_url, job.token(), branch, force=True)
    except GitHubError as exc:
        if not _refused(str(exc)):
            raise GitHubError(str(exc), retryable=True) from None  # network or server trouble
        return _push_refused(job, data, str(exc))
    job.check_signal()  # a stop during the push: the branch is there, but no PR
    watch = ci_start.start_watch(
        job, head_sha=head, bundle=data, branch=branch, lineage=target.lineage
    )
    pull = _open_or_create_pull(job, branch, base_branch, title, data, fixes)
    records.record_pull(
        job.database_url,
        job.run,
        pull.number,
        branch,
        base_branch,
        bundle.hash,
        "fix",
        watch={**watch, "pr_number": pull.number},
        audit=records.AuditEntry(_actor(job), "pull_request", {"number": pull.number}),
    )
    job.stage("publish", "done", f"pull request #{pull.number}")
    job.finish_status(f"opened pull request #{pull.number} with a verified fix")
    return verdict.fixed(f"pull request #{pull.number}, bundle {bundle.hash}")


def _commit_bundle(
    job: Job, checkout: Path, base: str, data: dict[str, object], title: str
) -> None:
    """Apply the bundle at `base` and commit it as the App's bot, after checking it twice."""
    allowed = github_paths_allowed(job)
    report = verify_bundle(data, checkout, allow_github_paths=allowed)
    if not report.ok:
        raise BundleMismatch("the bundle failed verification: " + "; ".join(report.problems))
    git.checkout(checkout, base, "fixwurx-publish")
    apply_diff(str(data["diff"]), checkout, allow_github_paths=allowed)
    git.checked_git(["add", "--all"], checkout)
    staged = git.checked_git(["diff", "--cached", "--no-color", "--no-ext-diff", base], checkout)
    if changed_lines(staged) != changed_lines(str(data["diff"])):
        raise BundleMismatch(f"the change about to be pushed is not bundle {data['hash']}'s diff")
    name, email = bot_identity(job)
    message = f"{title}\n\nPatch bundle: {data['hash']}\nFixWurx run: {job.run.id}\n"
    git.commit_all(checkout, message, name, email)


def changed_lines(diff: str) -> list[tuple[str, str, str]]:
    """(file, +/-, text) for every changed line: what a diff does, whatever its formatting."""
    found = []
    for patched in PatchSet(diff):
        for hunk in patched:
            for line in hunk:
                if line.is_added or line.is_removed:
                    found.append((patched.path, line.line_type, line.value))
    return found


def bot_identity(job: Job) -> tuple[str, str]:
    """`<slug>[bot]` and its noreply e-mail, so commits show as authored by the App."""
    login = f"{job.settings.app_slug}[bot]"
    host = urlsplit(job.settings.github_api_url).hostname or "github.com"
    domain = "github.com" if host == "api.github.com" else host
    return login, f"{job.client.user_id(login)}+{login}@users.noreply.{domain}"


def _open_or_create_pull(
    job: Job, branch: str, base: str, title: str, data: dict[str, object], fixes: int | None
) -> PullInfo:
    body = render.pr_body(data, fixes)
    # A re-run job (or a retry) finds the PR it opened before: the push above updated its
    # branch, so its body must now name the new bundle.
    pull = _find_pull(job, branch, base)
    if pull is not None:
        if render.bundle_hash_in(pull.body) != data["hash"]:
            job.repo.edit_pull(pull.number, title, body)
        return pull
    try:
        return job.repo.create_pull(title, body, branch, base, job.config.draft)
    except GitHubError:
        # Another worker opened it between our look and our create (GitHub answers 422).
        pull = _find_pull(job, branch, base)
        if pull is None:
            raise
        return pull


def _find_pull(job: Job, branch: str, base: str) -> PullInfo | None:
    """The open pull request from `branch` into `base`, if there is one."""
    return next((p for p in job.repo.open_pulls(branch) if p.base == base), None)


#: What git prints when the server will not take the push (permissions, branch protection).
PUSH_REFUSED = ("403", "denied", "rejected", "protected", "not allowed")


def _refused(message: str) -> bool:
    lowered = message.lower()
    return any(word in lowered for word in PUSH_REFUSED)


def _push_refused(job: Job, data: dict[str, object], why: str) -> Verdict:
    job.stage("publish", "failed", "push refused", force=True)
    target = job.run.pr_number or job.run.issue_number
    if target is not None:
        job.reply_once(render.bundle_comment(data, why))
    job.finish_status("found a verified fix, but could not push it; the patch is in a comment")
    return verdict.fixed(f"push refused; bundle {data['hash']} commented")


def _report_error(job: Job, reason: str) -> Verdict:
    if job.run.issue_number or job.run.pr_number:
        job.finish_status("could not run the repair")
        job.reply_once(render.failure_comment(reason, [], []))
    return verdict.failed(reason)


def _report_failure(job: Job, outcome: RepairOutcome) -> Verdict:
    tried = [f"{c.source}: {c.description} — {c.reason}" for c in outcome.state.candidates[:8]]
    if not outcome.state.candidates and outcome.state.reproduction_attempts:
        # No fix was tried because nothing reproduced: the tries are the reproduction tests.
        tried = [Attempt.from_json(a).line() for a in outcome.state.reproduction_attempts]
    elif not outcome.state.candidates:
        tried = [f"stages run: {', '.join(outcome.state.done) or 'none'}"]
    if job.run.issue_number or job.run.pr_number:
        job.finish_status("no verified fix found")
        partial = outcome.state.partial
        job.reply_once(render.failure_comment(outcome.reason, tried, outcome.locations, partial))
    if outcome.status == "not_fixed":
        return verdict.not_fixed(outcome.reason)
    return verdict.failed(outcome.reason)


def _actor(job: Job) -> str:
    return job.run.requested_by or "github"


def retarget(job: Job, issue_number: int) -> Job:
    """The same job, answering on issue `issue_number` (a command on FixWurx's own PR)."""
    job.run = replace(job.run, issue_number=issue_number, pr_number=None, status_comment_id=None)
    return job
