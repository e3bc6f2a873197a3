"""The sweeper: recover runs left running by dead workers and queued runs that never got a job.

It guarantees no run is left "running" by a killed worker, and no committed run is left without a
job when Redis was down at enqueue time. It talks to the queue through two callables, so `app`
never imports `workers`.

It acts only on runs that have a queue job. A CLI run (`fixwurx fix`, kind `cli`) runs in the
CLI's own process and never has one: to the sweeper it would look abandoned from its first
second. The CLI's process finishes its own run; `end_abandoned_cli_runs` fails one whose process
is gone (killed before it could record an end), and only the CLI calls it, on its own host.

It also owns the CI timer of FixWurx's fix commits (issue 13): a CI watch still waiting after
its deadline gets one `ci_result` run with the trigger `ci.timeout`, which ends the check neutral.
The deadline is a column, so the timer survives any number of worker restarts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update

from app.db import session_scope
from app.models import CLI_KIND, AuditLog, CiWatch, Run, aware, utcnow
from app.runs.lifecycle import (
    ENQUEUE_GRACE_S,
    LIVE_JOB_STATES,
    STALE_AFTER_S,
)

log = logging.getLogger(__name__)

#: How many times a run whose worker died is resumed before it is failed for good: a run that
#: kills its worker twice (OOM, a hung test suite) will most likely do it again.
MAX_RESUMES = 2
#: The audit rows' actor and action prefix for what the sweeper did (one row per run and
#: action): the dashboard counts these, so its "sweeper actions" hold across processes and
#: restarts, which Prometheus counters in a worker's memory-mapped files do not.
SWEEPER_ACTOR = "sweeper"
SWEEPER_ACTIONS = ("resumed", "failed", "enqueued", "ci_timeouts")


@dataclass
class SweepReport:
    """What one sweep did, by run id."""

    resumed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    enqueued: list[int] = field(default_factory=list)
    #: Runs started because a fix commit's CI did not answer before its deadline.
    ci_timeouts: list[int] = field(default_factory=list)


#: Returns the RQ state of the job for a run ("queued", "started", "failed", ...) or None.
JobState = Callable[[int], str | None]
#: Enqueues the job for a run (idempotent: a deterministic job id).
Enqueue = Callable[[Run], Any]


def sweep(
    database_url: str,
    job_state: JobState,
    enqueue: Enqueue,
    now: dt.datetime | None = None,
) -> SweepReport:
    """Recover runs left running by dead workers and queued runs that never got a job."""
    now = now or utcnow()
    report = SweepReport()
    for run_id in _stuck_running(database_url, job_state, now):
        _recover(database_url, run_id, enqueue, report)
    for run_id in _unenqueued(database_url, job_state, now):
        if _enqueue_run(database_url, run_id, enqueue):
            report.enqueued.append(run_id)
    for run_id in expire_ci_watches(database_url, now):
        report.ci_timeouts.append(run_id)
        _enqueue_run(database_url, run_id, enqueue)  # if Redis is down, the next sweep enqueues
    _audit(database_url, report)
    return report


def _audit(database_url: str, report: SweepReport) -> None:
    """One audit row per run the sweep acted on (none for a sweep that did nothing)."""
    rows = [
        AuditLog(actor=SWEEPER_ACTOR, action=f"{SWEEPER_ACTOR}.{action}", run_id=run_id)
        for action in SWEEPER_ACTIONS
        for run_id in getattr(report, action)
    ]
    if not rows:
        return
    try:
        with session_scope(database_url) as session:
            session.add_all(rows)
    except Exception:
        # The runs' own updates are committed; losing their audit rows must not fail the sweep.
        log.exception("could not record the sweep's actions in the audit log")


#: The trigger of the run the sweeper starts for a fix commit whose CI did not answer in time.
CI_TIMEOUT_TRIGGER = "ci.timeout"


def expire_ci_watches(database_url: str, now: dt.datetime) -> list[int]:
    """Mark waiting CI watches past their deadline expired, each with one `ci_result` run.

    The watch's UPDATE (waiting -> expired) and the run's INSERT share one transaction, so a
    second sweeper finds the watch expired and starts nothing; the run then goes through the
    ordinary queued path (enqueued now, or by a later sweep when Redis is down).
    """
    with session_scope(database_url) as session:
        due = list(
            session.scalars(
                select(CiWatch).where(CiWatch.state == "waiting", CiWatch.deadline < now)
            )
        )
    started = []
    for watch in due:
        with session_scope(database_url) as session:
            moved = session.execute(
                update(CiWatch)
                .where(CiWatch.id == watch.id, CiWatch.state == "waiting")
                .values(state="expired")
            )
            if not _one_row(moved):
                continue
            run = Run(
                repository_id=watch.repository_id,
                kind="ci_result",
                trigger=CI_TIMEOUT_TRIGGER,
                pr_number=watch.pr_number,
                head_sha=watch.head_sha,
                branch=watch.branch,
                status="queued",
            )
            session.add(run)
            session.flush()
            started.append(run.id)
    return started


def _stuck_running(database_url: str, job_state: JobState, now: dt.datetime) -> list[int]:
    stale_before = now - dt.timedelta(seconds=STALE_AFTER_S)
    with session_scope(database_url) as session:
        rows = session.execute(
            select(Run.id, Run.heartbeat_at).where(Run.status == "running", _has_queue_job())
        )
        candidates = list(rows)
    return [
        run_id
        for run_id, beat in candidates
        if beat is None or aware(beat) < stale_before or job_state(run_id) != "started"
    ]


def _unenqueued(database_url: str, job_state: JobState, now: dt.datetime) -> list[int]:
    created_before = now - dt.timedelta(seconds=ENQUEUE_GRACE_S)
    with session_scope(database_url) as session:
        rows = session.execute(
            select(Run.id, Run.created_at).where(Run.status == "queued", _has_queue_job())
        )
        candidates = list(rows)
    return [
        run_id
        for run_id, created in candidates
        if aware(created) < created_before and job_state(run_id) not in LIVE_JOB_STATES
    ]


def _has_queue_job() -> Any:
    """The runs a queue job runs: every kind but the CLI's, which its own process runs."""
    return Run.kind != CLI_KIND


def _recover(database_url: str, run_id: int, enqueue: Enqueue, report: SweepReport) -> None:
    """Resume a running run whose worker died, or fail it once it has used up its resumes.

    Both are conditional UPDATEs on `status = 'running'` (and the resume count), so a run that a
    stop or a verdict ended meanwhile is left alone, and two sweepers cannot both resume it.
    The count lives in `Run.resumes`, which the chain never writes.
    """
    with session_scope(database_url) as session:
        resumed = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running", Run.resumes < MAX_RESUMES)
            .values(
                status="queued",
                resumes=Run.resumes + 1,
                reason="resumed after its worker stopped responding",
                heartbeat_at=None,
            )
        )
        if not _one_row(resumed):
            gave_up = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == "running", Run.resumes >= MAX_RESUMES)
                .values(
                    status="failed",
                    finished_at=utcnow(),
                    reason=(
                        f"the worker running this stopped {MAX_RESUMES + 1} times (killed, out "
                        "of memory or timed out); giving up"
                    ),
                )
            )
            if _one_row(gave_up):
                report.failed.append(run_id)
            return
    if _enqueue_run(database_url, run_id, enqueue):
        report.resumed.append(run_id)


def _enqueue_run(database_url: str, run_id: int, enqueue: Enqueue) -> bool:
    with session_scope(database_url) as session:
        run = session.get(Run, run_id)
        if run is None or run.status != "queued":
            return False
    try:
        enqueue(run)
    except Exception:
        # Redis may still be down; the next sweep tries again, the run stays queued.
        log.warning("could not enqueue run %s; will retry on the next sweep", run_id)
        return False
    return True


def _one_row(result: Any) -> bool:
    """Whether a conditional UPDATE changed the run (its condition held)."""
    return bool(result.rowcount == 1)


#: Whether a process id is alive on this host (os.kill(pid, 0) by default; tests pass their own).
IsAlive = Callable[[int], bool]


def end_abandoned_cli_runs(database_url: str, host: str, is_alive: IsAlive) -> list[int]:
    """Fail the running CLI runs of `host` whose `fixwurx fix` process is gone; their ids.

    A CLI process killed outright (SIGKILL, a closed terminal, an OOM kill) records no end;
    its run would read "running" forever. Each UPDATE is conditional on the run still running
    under the same owner, so a run whose process finished meanwhile keeps its verdict.
    """
    with session_scope(database_url) as session:
        rows = list(
            session.execute(
                select(Run.id, Run.owner).where(
                    Run.kind == CLI_KIND, Run.status == "running", Run.owner.like(f"{host}:%")
                )
            )
        )
    ended = []
    for run_id, owner in rows:
        pid = _owner_pid(owner)
        if pid is None or is_alive(pid):
            continue
        with session_scope(database_url) as session:
            moved = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == "running", Run.owner == owner)
                .values(
                    status="failed",
                    finished_at=utcnow(),
                    reason=f"the fixwurx fix process {owner} ended without recording an end "
                    "(killed?)",
                )
            )
            if _one_row(moved):
                ended.append(run_id)
    return ended


def _owner_pid(owner: str | None) -> int | None:
    _, _, pid = (owner or "").rpartition(":")
    return int(pid) if pid.isdigit() else None
