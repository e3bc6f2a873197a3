"""The GitHub job: what a worker does for one run (fix, CI failure, merge, or a command).

`workers/jobs.py::process_run(run_id)` claims the run and calls `execute_run`; everything that
talks to GitHub for that run happens from here, so the worker stays a thin shell. The flow
records its own verdict with `app.runs.finish`; errors propagate to the worker, which retries the
retryable ones and fails the run with the reason otherwise.
"""

from __future__ import annotations

import logging

from app import runs
from app.config import Settings
from app.github import comment_commands, fixing, records
from app.github.job import Job, RunStopped, build_job

log = logging.getLogger(__name__)


def execute_run(settings: Settings, run_id: int) -> None:
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
        _dispatch(job)
    except RunStopped:
        job.finish_status(f"stopped by a `/fixwurx stop` ({job.run.requested_by or 'a user'})")
        log.info("run %s stopped on request", run_id)


def _dispatch(job: Job) -> None:
    kind = job.run.kind
    if kind == "issue":
        fixing.fix_issue(job)
    elif kind == "ci":
        fixing.fix_ci(job)
    elif kind == "command":
        comment_commands.run_command(job)
    elif kind == "merge":
        _record_merge(job)
    else:
        runs.finish(job.url, job.run.id, "done", f"run kind {kind!r} has no GitHub flow")


def _record_merge(job: Job) -> None:
    """A merged pull request: remember the merge commit if it was one of ours (for `revert`)."""
    run = job.run
    ours = run.pr_number is not None and records.mark_merged(
        job.url, run.repository_id, run.pr_number, run.head_sha
    )
    runs.finish(job.url, run.id, "done", "merge recorded" if ours else "not a FixWurx PR")
