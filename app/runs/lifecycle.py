"""A run's lifecycle: claim, heartbeat, chain state, stop, finish, requeue.

This module and `app.runs.sweep` are the only code that writes a run's status, heartbeat, stage,
chain state or resume count. Every change is a single conditional UPDATE on the current status
(`... WHERE status = 'running'`), so two workers that receive the same job cannot both claim it,
a late heartbeat from a worker that was given up on cannot resurrect a run, and nothing moves a
stopped or finished run back to running: the only way into `running` is `claim`, from `queued`.

Statuses: queued -> running -> fixed | not_fixed | failed | stopped | done, and running -> queued
(a retry or a resume). `stop` also ends a queued run. `done` is for runs that finish without a
verdict (status, help, explain replies, refusals).

The chain's state (`Run.state`, the planner's `RunState` JSON) and the lifecycle's bookkeeping
(`Run.resumes`) are separate columns: saving one never touches the other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update

from app.db import session_scope
from app.models import Run, utcnow
from app.runs.verdict import Verdict

log = logging.getLogger(__name__)

#: Terminal statuses a run may finish with.
FINAL_STATUSES = frozenset({"fixed", "not_fixed", "failed", "stopped", "done"})
#: A running run whose heartbeat is older than this is presumed to have lost its worker. Workers
#: beat every `HEARTBEAT_INTERVAL_S`; three missed beats is long enough to ride out a GC pause or
#: a slow database, short enough that a user waits minutes, not hours.
HEARTBEAT_INTERVAL_S = 15.0
STALE_AFTER_S = 3 * HEARTBEAT_INTERVAL_S
#: A queued run with no job after this long was committed while Redis was unreachable.
ENQUEUE_GRACE_S = 30.0
#: RQ job states that mean "a job will still run this": anything else is lost.
LIVE_JOB_STATES = frozenset({"queued", "scheduled", "deferred", "started"})
#: Statuses a `/fixwurx stop` can end: work that has not reached a verdict yet.
STOPPABLE_STATUSES = ("queued", "running")


def claim(database_url: str, run_id: int) -> bool:
    """Mark a queued run running; False when it is not queued (already claimed or finished)."""
    now = utcnow()
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now, reason=None)
        )
        return _changed(result)


def heartbeat(database_url: str, run_id: int) -> bool:
    """Record that the worker holding this run is alive; False when the run is no longer ours."""
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(heartbeat_at=utcnow())
        )
        return _changed(result)


def finish(database_url: str, run_id: int, status: str, reason: str | None = None) -> bool:
    """Finish a running run with a final status; False when it was not running."""
    if status not in FINAL_STATUSES:
        raise ValueError(f"status {status!r} is not final; use one of {sorted(FINAL_STATUSES)}")
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(status=status, reason=reason, finished_at=utcnow())
        )
        return _changed(result)


def save_state(database_url: str, run_id: int, stage: str, state: dict[str, Any]) -> bool:
    """Persist the chain's state after `stage`; False (nothing written) when not running.

    Only `Run.state` and `Run.stage` change (and the heartbeat, since the worker is evidently
    alive): the resume count and the status are the lifecycle's and stay as they are.
    """
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(stage=stage, state=state, heartbeat_at=utcnow())
        )
        return _changed(result)


def set_stage(database_url: str, run_id: int, stage: str) -> bool:
    """Show which stage a running run is in; False when it is not running."""
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run).where(Run.id == run_id, Run.status == "running").values(stage=stage)
        )
        return _changed(result)


def saved_state(database_url: str, run_id: int) -> dict[str, Any] | None:
    """The chain state persisted for the run (None when there is none or no such run)."""
    with session_scope(database_url) as session:
        state = session.scalar(select(Run.state).where(Run.id == run_id))
    return dict(state) if state else None


def resumes_of(database_url: str, run_id: int) -> int:
    """How many times the sweeper resumed this run (0 when there is no such run)."""
    with session_scope(database_url) as session:
        return int(session.scalar(select(Run.resumes).where(Run.id == run_id)) or 0)


def stop(database_url: str, run_ids: Iterable[int], reason: str) -> list[int]:
    """Stop the runs among `run_ids` that are queued or running; returns the ones it stopped.

    A run that reached a verdict meanwhile keeps it: each UPDATE is conditional on the status.
    """
    stopped: list[int] = []
    with session_scope(database_url) as session:
        for run_id in sorted(set(run_ids)):
            result = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status.in_(STOPPABLE_STATUSES))
                .values(status="stopped", reason=reason, finished_at=utcnow())
            )
            if _changed(result):
                stopped.append(run_id)
    return stopped


def record_verdict(database_url: str, run_id: int, verdict: Verdict) -> bool:
    """Finish a running run with a flow's verdict; False when it was not running.

    A `stopped` verdict finds the run already stopped (the stop command did that), so it
    changes nothing, which is the point: the stop's reason and time stand.
    """
    return finish(database_url, run_id, verdict.status, verdict.reason or None)


def requeue(database_url: str, run_id: int, reason: str) -> bool:
    """Put a running run back to queued (a retry is coming); False when it was not running."""
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(status="queued", reason=reason, heartbeat_at=None)
        )
        return _changed(result)


def status_of(database_url: str, run_id: int) -> str | None:
    """The run's current status, or None when there is no such run."""
    with session_scope(database_url) as session:
        return session.scalar(select(Run.status).where(Run.id == run_id))


def _changed(result: Any) -> bool:
    return bool(result.rowcount == 1)
