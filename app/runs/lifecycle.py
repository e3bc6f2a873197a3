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

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

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
        return save_state_in(session, run_id, stage, state)


def save_state_in(
    session: Session,
    run_id: int,
    stage: str,
    state: dict[str, Any],
    *,
    status_comment_id: int | None = None,
) -> bool:
    """`save_state` inside the caller's session, so the chain's lineage rows and the state it
    describes commit together, in one round trip. `status_comment_id`, when given, rides along:
    the flow's status comment, posted before the chain began, is remembered with the first state
    instead of in a session of its own."""
    values: dict[str, Any] = {"stage": stage, "state": state, "heartbeat_at": utcnow()}
    if status_comment_id is not None:
        values["status_comment_id"] = status_comment_id
    result = session.execute(
        update(Run).where(Run.id == run_id, Run.status == "running").values(**values)
    )
    return _changed(result)


def set_stage_in(session: Session, run_id: int, stage: str) -> bool:
    """`set_stage` inside the caller's session (a live stage's progress write shows it too)."""
    result = session.execute(
        update(Run).where(Run.id == run_id, Run.status == "running").values(stage=stage)
    )
    return _changed(result)


def set_stage(
    database_url: str, run_id: int, stage: str, *, status_comment_id: int | None = None
) -> bool:
    """Show which stage a running run is in; False when it is not running.

    The answer is also the flow's stop check at a stage boundary: a run a `stop` ended is not
    running, so the write that shows the stage finds out, without a read of its own.
    `status_comment_id`, when given, is written in the same statement.
    """
    values: dict[str, Any] = {"stage": stage}
    if status_comment_id is not None:
        values["status_comment_id"] = status_comment_id
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run).where(Run.id == run_id, Run.status == "running").values(**values)
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


@dataclass(frozen=True)
class Concluded:
    """How a run stands after its verdict was offered: what the job and the metrics need."""

    recorded: bool  # False: the run was no longer running (stopped, or given up on)
    kind: str | None
    status: str | None  # None: there is no such run
    created_at: dt.datetime | None
    finished_at: dt.datetime | None


def conclude(database_url: str, run_id: int, verdict: Verdict) -> Concluded:
    """`record_verdict`, and the run as it then stands, in one session.

    The job function used to record the verdict, read the run for the metrics and read its
    status for the log: three sessions for one decision.
    """
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(status=verdict.status, reason=verdict.reason or None, finished_at=utcnow())
        )
        recorded = _changed(result)
        row = session.execute(
            select(Run.kind, Run.status, Run.created_at, Run.finished_at).where(Run.id == run_id)
        ).first()
    if row is None:
        return Concluded(recorded, None, None, None, None)
    return Concluded(recorded, row.kind, row.status, row.created_at, row.finished_at)


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
