"""Comment commands: one handler per command of the table in app/command_table.py.

The commenter's role is checked first, against the collaborator-permission endpoint; an
unauthorized user gets one polite reply and nothing else happens — no reaction, no run.
Handlers return a `Verdict`; the job function records it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from app import command_table
from app.flows import fixing, records, render
from app.flows.job import Job
from app.flows.rollback import decisions, revert
from app.github.permissions import check_command
from app.patches import ALLOW_GITHUB_PATHS_FLAG, ALLOW_GITHUB_PATHS_ROLE, asks_github_paths
from app.repo_config import role_allows
from app.runs import verdict
from app.runs.verdict import Verdict

Handler = Callable[[Job], Verdict]


def run_command(job: Job) -> Verdict:
    """Check permission, then carry out the command."""
    run = job.run
    command = run.command or command_table.FALLBACK
    actor = run.requested_by or ""
    decision = check_command(job.repo, job.config, actor, command)
    if not decision.allowed:
        # One refusal per user per conversation: repeating the command does not make FixWurx spam.
        job.reply_once(
            render.unauthorized_reply(actor, command, decision.role, decision.needed),
            marker=render.refusal_marker(actor),
        )
        records.audit(job.database_url, run, actor, "refused", command=command, role=decision.role)
        return verdict.refused(f"@{actor} ({decision.role}) may not {command}", tell_user=True)
    if asks_github_paths(run.command_args) and not role_allows(
        decision.role, ALLOW_GITHUB_PATHS_ROLE
    ):
        job.reply_once(
            f"@{actor}: `{ALLOW_GITHUB_PATHS_FLAG}` lets a fix edit `.github/` and `.gitmodules`, "
            f"so only a {ALLOW_GITHUB_PATHS_ROLE} or admin may ask for it "
            f"(you are {decision.role})."
        )
        records.audit(job.database_url, run, actor, "refused", command=command, role=decision.role)
        return verdict.refused(
            f"@{actor} ({decision.role}) may not allow .github/ edits", tell_user=True
        )
    records.audit(job.database_url, run, actor, f"command:{command}", args=run.command_args or "")
    return HANDLERS.get(command, _help)(job)


def _help(job: Job) -> Verdict:
    job.reply_once(render.help_text(job.config))
    return verdict.done("help sent")


def _status(job: Job) -> Verdict:
    job.reply_once(render.run_status_reply(records.latest_other_run(job.database_url, job.run)))
    return verdict.done("status sent")


def _stop(job: Job) -> Verdict:
    stopped = records.stop_runs(job.database_url, job.run, job.run.requested_by or "")
    job.signal_stop(stopped)
    if stopped:
        text = "Stopped FixWurx run(s) " + ", ".join(f"#{i}" for i in stopped) + "."
    else:
        text = "No FixWurx run is in progress here."
    job.reply_once(text)
    return verdict.done(text)


def _explain(job: Job) -> Verdict:
    latest = records.latest_other_run(job.database_url, job.run)
    bundle = _pull_bundle(job) or records.latest_bundle(job.database_url, job.run)
    job.reply_once(render.explain_reply(bundle, latest.get("reason") if latest else None))
    return verdict.done("explanation sent")


def _pull_bundle(job: Job) -> dict[str, Any] | None:
    """On a pull request whose body names a bundle (FixWurx's own): that bundle."""
    if job.run.issue_number is not None or job.run.pr_number is None:
        return None
    declared = render.bundle_hash_in(job.repo.pull(job.run.pr_number).body or "")
    return (
        records.bundle_by_hash(job.database_url, job.run.repository_id, declared)
        if declared
        else None
    )


def _fixing(retrying: bool) -> Handler:
    def handle(job: Job) -> Verdict:
        revise = job.run.command == "revise"
        instructions = (job.run.command_args or "") if revise else ""
        if job.run.issue_number is not None:
            return fixing.fix_issue(
                job, retrying=retrying, instructions=instructions, revising=revise
            )
        return _fix_pull_request(job, retrying, instructions)

    return handle


def _fix_pull_request(job: Job, retrying: bool, instructions: str) -> Verdict:
    """On FixWurx's own PR: redo its issue. On another PR: fix that PR's branch."""
    assert job.run.pr_number is not None
    pull = job.repo.pull(job.run.pr_number)
    own = fixing.ISSUE_BRANCH_RE.match(pull.head)
    if own:
        return fixing.fix_issue(
            fixing.retarget(job, int(own.group(1))),
            retrying=True,
            instructions=instructions,
            revising=job.run.command == "revise",
        )
    job.run = replace(job.run, branch=pull.head, head_sha=pull.head_sha or job.run.head_sha)
    return fixing.fix_ci(job, requested=True, instructions=instructions)


def _revert(job: Job) -> Verdict:
    """Open a PR reverting the merged FixWurx fix of this issue, or this merged pull request:
    the same path as an automatic rollback (app/flows/rollback/revert.py), without evidence."""
    fix = _merged_fix_here(job)
    if fix is None:
        job.reply_once("There is no merged FixWurx fix here to revert.")
        return verdict.done("nothing to revert")
    if fix.kind != "fix":
        job.reply_once(f"#{fix.number} is a revert; FixWurx never reverts a revert.")
        return verdict.refused("never revert a revert", tell_user=True)
    reverted = revert.open_revert(job, fix, {}, asked_by=job.run.requested_by)
    job.reply_once(f"Opened #{reverted.number} to revert #{fix.number}.")
    return verdict.done(f"revert pull request #{reverted.number}")


def _merged_fix_here(job: Job) -> decisions.MergedFix | None:
    """On a pull request's thread: that pull request, when FixWurx's and merged. On an issue's
    thread: the latest merged FixWurx fix of the issue."""
    run = job.run
    number = run.pr_number
    if number is None and run.issue_number is not None:
        found = records.merged_fix_for_issue(job.database_url, run.repository_id, run.issue_number)
        number = found[0] if found else None
    return decisions.merged_pull(job.database_url, run.repository_id, number) if number else None


#: One handler per command of app/command_table.py (checked below, at import).
HANDLERS: dict[str, Handler] = {
    "help": _help,
    "status": _status,
    "stop": _stop,
    "explain": _explain,
    "fix": _fixing(retrying=False),
    "retry": _fixing(retrying=True),
    "revise": _fixing(retrying=True),
    "revert": _revert,
}

_missing = set(command_table.NAMES) ^ set(HANDLERS)
if _missing:
    raise ImportError(
        f"comment commands without a handler, or handlers without a command: {_missing}"
    )
