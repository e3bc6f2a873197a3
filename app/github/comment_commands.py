"""Comment commands: `/fixwurx help|status|stop|retry|revise|explain|fix|revert`.

The commenter's role is checked first, against the collaborator-permission endpoint; an
unauthorized user gets one polite reply and nothing else happens — no reaction, no run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from app import runs
from app.github import fixing, git, records, render
from app.github.constants import BRANCH_PREFIX
from app.github.job import Job
from app.github.permissions import check_command


def run_command(job: Job) -> None:
    """Check permission, then carry out the command."""
    run = job.run
    command = run.command or "help"
    actor = run.requested_by or ""
    decision = check_command(job.repo, job.config, actor, command)
    if not decision.allowed:
        # One refusal per user per conversation: repeating the command does not make FixWurx spam.
        job.reply_once(
            render.unauthorized_reply(actor, command, decision.role, decision.needed),
            marker=render.refusal_marker(actor),
        )
        records.audit(job.url, run, actor, "refused", command=command, role=decision.role)
        runs.finish(job.url, run.id, "done", f"@{actor} ({decision.role}) may not {command}")
        return
    records.audit(job.url, run, actor, f"command:{command}", args=run.command_args or "")
    HANDLERS.get(command, _help)(job)


def _help(job: Job) -> None:
    job.reply_once(render.help_text(job.config))
    runs.finish(job.url, job.run.id, "done", "help sent")


def _status(job: Job) -> None:
    job.reply_once(render.run_status_reply(records.latest_other_run(job.url, job.run)))
    runs.finish(job.url, job.run.id, "done", "status sent")


def _stop(job: Job) -> None:
    stopped = records.stop_runs(job.url, job.run, job.run.requested_by or "")
    if stopped:
        text = "Stopped FixWurx run(s) " + ", ".join(f"#{i}" for i in stopped) + "."
    else:
        text = "No FixWurx run is in progress here."
    job.reply_once(text)
    runs.finish(job.url, job.run.id, "done", text)


def _explain(job: Job) -> None:
    latest = records.latest_other_run(job.url, job.run)
    bundle = records.latest_bundle(job.url, job.run)
    job.reply_once(render.explain_reply(bundle, latest.get("reason") if latest else None))
    runs.finish(job.url, job.run.id, "done", "explanation sent")


def _fixing(retrying: bool) -> Callable[[Job], None]:
    def handle(job: Job) -> None:
        revise = job.run.command == "revise"
        instructions = (job.run.command_args or "") if revise else ""
        if job.run.issue_number is not None:
            fixing.fix_issue(job, retrying=retrying, instructions=instructions)
            return
        _fix_pull_request(job, retrying, instructions)

    return handle


def _fix_pull_request(job: Job, retrying: bool, instructions: str) -> None:
    """On FixWurx's own PR: redo its issue. On another PR: fix that PR's branch."""
    assert job.run.pr_number is not None
    pull = job.repo.pull(job.run.pr_number)
    own = fixing.ISSUE_BRANCH_RE.match(pull.head)
    if own:
        fixing.fix_issue(
            fixing.retarget(job, int(own.group(1))), retrying=True, instructions=instructions
        )
        return
    job.run = replace(job.run, branch=pull.head, head_sha=pull.head_sha or job.run.head_sha)
    fixing.fix_ci(job, requested=True, instructions=instructions)


def _revert(job: Job) -> None:
    """Open a PR reverting the merged FixWurx fix of this issue."""
    number = job.run.issue_number
    merged = (
        records.merged_fix_for_issue(job.url, job.run.repository_id, number) if number else None
    )
    if merged is None:
        job.reply_once("There is no merged FixWurx fix for this issue to revert.")
        runs.finish(job.url, job.run.id, "done", "nothing to revert")
        return
    pr_number, merge_sha = merged
    branch = f"{BRANCH_PREFIX}revert-{pr_number}"
    base = job.repo.default_branch
    with tempfile.TemporaryDirectory(prefix="fixwurx-revert-") as tmp:
        checkout = git.clone(job.repo.clone_url, job.token(), Path(tmp) / "repo", branch=base)
        parents = git.checked_git(["rev-list", "--parents", "-n", "1", merge_sha], checkout).split()
        mainline = ["-m", "1"] if len(parents) > 2 else []
        name, email = fixing.bot_identity(job)
        identity = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
        git.checked_git([*identity, "revert", "--no-edit", *mainline, merge_sha], checkout)
        git.push(checkout, job.repo.clone_url, job.token(), branch, force=True)
    title = f"Revert FixWurx fix #{pr_number}"
    body = f"Reverts #{pr_number} (merge `{merge_sha}`), as @{job.run.requested_by} asked."
    existing = job.repo.open_pulls(branch)
    pull = existing[0] if existing else job.repo.create_pull(title, body, branch, base, False)
    records.record_pull(job.url, job.run, pull.number, branch, base, None, "revert")
    job.reply_once(f"Opened #{pull.number} to revert #{pr_number}.")
    runs.finish(job.url, job.run.id, "done", f"revert pull request #{pull.number}")


HANDLERS: dict[str, Callable[[Job], None]] = {
    "help": _help,
    "status": _status,
    "stop": _stop,
    "explain": _explain,
    "fix": _fixing(retrying=False),
    "retry": _fixing(retrying=True),
    "revise": _fixing(retrying=True),
    "revert": _revert,
}
