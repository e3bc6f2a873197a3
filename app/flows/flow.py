"""The GitHub job: what a worker does for one run (fix, CI failure, merge, or a command).

`workers/jobs.py::process_run(run_id)` claims the run and calls `execute_run`; everything that
talks to GitHub for that run happens from here, so the worker stays a thin shell. The flow
returns a `Verdict` and writes no run status: `process_run` records the verdict through
`app.runs`. Errors propagate to the worker, which retries the retryable ones and fails the run
with the reason otherwise.
"""

from __future__ import annotations

import logging

from app.config import Settings
from app.flows import comment_commands, fixing, records
from app.flows.ci import flow as ci_flow
from app.flows.job import Job, RunStopped, build_job
from app.flows.rollback import outcomes, watch
from app.runs import verdict
from app.runs.verdict import Verdict

log = logging.getLogger(__name__)


def execute_run(settings: Settings, run_id: int) -> Verdict:
    """Carry out run `run_id` against GitHub: guards, clone, repair chain, PR or comment."""
    job = build_job(settings, run_id)
    run = job.run
    log.info(
        "run %s: %s (%s) on %s issue=%s pr=%s",
        run_id,
        run.kind,
        run.command or run.trigger,
        run.full_name,
        run.issue_number,
        run.pr_number,
    )
    try:
        return _dispatch(job)
    except RunStopped:
        job.finish_status(f"stopped by a `/fixwurx stop` ({job.run.requested_by or 'a user'})")
        log.info("run %s stopped on request", run_id)
        return verdict.stopped("stopped by a `/fixwurx stop`")


def _dispatch(job: Job) -> Verdict:
    kind = job.run.kind
    if kind == "issue":
        return fixing.fix_issue(job)
    if kind == "ci":
        # A red default branch may be a merged fix's fault: attribute before any forward repair.
        return watch.consider(job) or fixing.fix_ci(job)
    if kind == "command":
        return comment_commands.run_command(job)
    if kind == "ci_result":
        return ci_flow.handle(job)
    if kind == "merge":
        return _record_merge(job)
    if kind == "pr_closed":
        return _record_closed(job)
    if kind == "reverted":
        return _record_reverts(job)
    if kind == "config":  # build_job read the config and stored its trigger label
        return verdict.done(f"config read: trigger label {job.config.trigger_label!r}")
    return verdict.done(f"run kind {kind!r} has no GitHub flow")


def _record_merge(job: Job) -> Verdict:
    """A merged pull request: remember the merge commit if it was one of ours (for `revert`)."""
    run = job.run
    ours = run.pr_number is not None and records.mark_merged(
        job.database_url, run.repository_id, run.pr_number, run.head_sha
    )
    if ours and run.pr_number is not None:  # a revert pull request merged: the decision held
        outcomes.revert_ended(job.database_url, run.repository_id, run.pr_number, merged=True)
    return verdict.done("merge recorded" if ours else "not a FixWurx PR")


def _record_closed(job: Job) -> Verdict:
    """FixWurx's pull request closed unmerged: a revert's rollback decision was rejected."""
    run = job.run
    if run.pr_number is None:
        return verdict.done("no pull request named")
    decided = outcomes.revert_ended(
        job.database_url, run.repository_id, run.pr_number, merged=False
    )
    return verdict.done(
        f"revert #{run.pr_number} closed unmerged" if decided else "closed; no rollback decision"
    )


def _record_reverts(job: Job) -> Verdict:
    """A default-branch push reverted commits: note which merged fixes they were."""
    run = job.run
    pairs = outcomes.parse_pairs(run.command_args)
    fixes = outcomes.fixes_reverted(job.database_url, run.repository_id, pairs)
    if not fixes:
        return verdict.done("the reverted commits are no FixWurx fix")
    return verdict.done("reverted on the default branch: " + ", ".join(f"#{n}" for n in fixes))
